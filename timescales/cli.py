"""The `timescales` command line: subcommands over the library, errors without tracebacks."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import TextIO

from . import __version__
from .errors import TimescalesError, TimescalesWarning

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def _lazy(module: str, function: str) -> Callable[[argparse.Namespace], int]:
    """A command implemented in `module`, imported only when the command runs."""

    def run(args: argparse.Namespace) -> int:
        return int(getattr(importlib.import_module(module), function)(args) or 0)

    return run


def _add_experiment_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run an experiment file and write HDF5 results")
    p.add_argument("experiment", help="experiment TOML file")
    p.add_argument("-o", "--output", help="results file (default: from the experiment)")
    p.add_argument(
        "--strategy",
        choices=("event", "original", "lockstep", "fixed"),
        help="override the coupling mode of the experiment",
    )
    p.add_argument(
        "--duration",
        type=float,
        metavar="MS",
        help="run MS ms of the experiment (after equilibration)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing results file")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--checkpoint-ms",
        type=float,
        metavar="MS",
        help="save the run's whole state beside the results every MS simulated ms",
    )
    p.set_defaults(func=_lazy("timescales.experiment.commands", "cmd_run"))

    p = sub.add_parser("resume", help="continue a run from its last checkpoint")
    p.add_argument("results", help="results file of a run with --checkpoint-ms")
    p.add_argument(
        "--until",
        type=float,
        metavar="MS",
        help="run on to simulated time MS (extends a complete run)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_lazy("timescales.experiment.commands", "cmd_resume"))

    p = sub.add_parser("validate", help="check an experiment file without running it")
    p.add_argument("experiment")
    p.set_defaults(func=_lazy("timescales.experiment.commands", "cmd_validate"))

    p = sub.add_parser("plot", help="write the figures of a results file (PNG, SVG or PDF)")
    p.add_argument("results")
    p.add_argument("-o", "--out-dir", default=None, help="folder for the figures")
    p.add_argument(
        "--format", choices=("png", "svg", "pdf"), default="png", help="file format (png)"
    )
    p.set_defaults(func=_lazy("timescales.experiment.commands", "cmd_plot"))

    p = sub.add_parser("export", help="write a results file in another format (NWB)")
    p.add_argument("results", help="results file (HDF5)")
    p.add_argument("--nwb", required=True, metavar="OUT.nwb", help="NWB file to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")
    p.set_defaults(func=_lazy("timescales.experiment.commands", "cmd_export"))

    p = sub.add_parser("demo", help="run the bundled two-spine demo into ./timescales-demo/")
    p.add_argument("--out-dir", default="timescales-demo")
    p.add_argument("--duration", type=float, metavar="MS", help="shorten the demo")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_lazy("timescales.experiment.commands", "cmd_demo"))

    p = sub.add_parser("sweep", help="run an experiment at every point of a grid of values")
    p.add_argument("experiment")
    p.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="KEY=V1,V2,...",
        help="a dotted key of the experiment file and its values (repeat for a grid)",
    )
    p.add_argument("--out", required=True, help="folder for the points' files and sweep.csv")
    p.add_argument("--workers", type=int, default=1, help="local processes (default 1)")
    p.add_argument("--duration", type=float, metavar="MS", help="shorten every point")
    p.set_defaults(func=_lazy("timescales.experiment.commands", "cmd_sweep"))

    p = sub.add_parser("bench", help="compare sync strategies on an experiment")
    p.add_argument("experiment")
    p.add_argument("--out", default="bench-out", help="output folder")
    p.add_argument("--duration", type=float, metavar="MS", help="the first MS ms of the experiment")
    p.add_argument("--strategies", help="comma-separated subset of the compared strategies")
    p.add_argument("--reuse", help="strategies taken from an earlier run in --out, not rerun")
    p.set_defaults(func=_lazy("timescales.experiment.bench", "cmd_bench"))


def _add_model_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "info", help="versions and adapters; with MODEL: what an SBML model offers for coupling"
    )
    p.add_argument(
        "model",
        nargs="?",
        help="bundled model name, SBML/Antimony file, biomodels:<id> or COMBINE archive",
    )
    p.set_defaults(func=_lazy("timescales.info", "cmd_info"))

    p = sub.add_parser("sbml-suite", help="run one SBML Test Suite case through the adapter")
    p.add_argument("cases_dir", help="folder of semantic test cases (NNNNN/ folders)")
    p.add_argument("case_id", help="case number, e.g. 00001")
    p.add_argument("out_dir", help="folder for CASE_ID.csv")
    p.add_argument("--sync-points", type=int, default=7, help="irregular stops (default 7)")
    p.set_defaults(func=_lazy("timescales.adapters.sbml_suite", "run"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="timescales",
        description="Event-driven co-simulation of NEURON cells and per-spine SBML models.",
    )
    parser.add_argument("--version", action="version", version=f"timescales {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_experiment_commands(sub)
    _add_model_commands(sub)
    return parser


def _message(exc: BaseException) -> str:
    """One line (or the problem lines of an experiment file) for an error a user can cause;
    an internal error says how to see its traceback."""
    if isinstance(exc, TimescalesError | ValueError):
        return str(exc)
    if isinstance(exc, UnicodeDecodeError):
        return f"not a UTF-8 text file ({exc.reason} at byte {exc.start})"
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    return f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"


@contextlib.contextmanager
def _warnings_as_lines(command: str) -> Iterator[None]:
    """Show each TimescalesWarning once, as one line `timescales COMMAND: warning: ...`."""
    with warnings.catch_warnings():
        warnings.simplefilter("default", TimescalesWarning)
        show = warnings.showwarning

        def one_line(
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: TextIO | None = None,
            line: str | None = None,
        ) -> None:
            if issubclass(category, TimescalesWarning):
                print(f"timescales {command}: warning: {message}", file=sys.stderr)
            else:
                show(message, category, filename, lineno, file, line)

        warnings.showwarning = one_line
        yield


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with _warnings_as_lines(args.command):
            return args.func(args)
    except KeyboardInterrupt:
        print(f"timescales {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader of our output went away (`timescales validate F | head -3`)
        sys.stdout = None  # type: ignore[assignment]
        return EXIT_ERROR
    except Exception as exc:
        if args.debug:
            raise
        print(f"timescales {args.command}: error: {_message(exc)}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
