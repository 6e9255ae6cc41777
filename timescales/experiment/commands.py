"""The experiment subcommands of the CLI: run, resume, validate, plot, export, demo, sweep.

`run` and `resume` started by an MPI launcher with several ranks run on rank 0, the other
ranks holding the spine networks (`timescales.mpi`); `sweep` runs its points on them.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from importlib import resources
from pathlib import Path

from .. import mpi
from ..errors import ConfigError, TimescalesError
from .progress import progress_hook
from .runner import Experiment, RunResult, summary_rows


def _print_summary(result: RunResult) -> None:
    rows = summary_rows(result)
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
    if result.path is not None:
        print(f"results: {result.path}")


def run_experiment(
    experiment: Experiment,
    *,
    output: str | Path | None,
    mode: str | None,
    duration_ms: float | None,
    overwrite: bool,
    show_progress: bool,
    checkpoint_ms: float | None = None,
) -> RunResult:
    """Run with a progress bar on a terminal, or a log line per simulated second elsewhere
    (unless `show_progress` is off)."""
    spec = experiment.spec
    start = spec.cell.equilibration_ms
    hook = progress_hook(start, spec.end_ms(duration_ms), show_progress)
    try:
        return experiment.run(
            duration_ms=duration_ms,
            mode=mode,
            output=output,
            overwrite=overwrite,
            progress=hook,
            checkpoint_ms=checkpoint_ms,
        )
    finally:
        if hook is not None:
            hook.close()


@contextlib.contextmanager
def _stop_signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP (a batch scheduler's stop, a closed terminal) end a run as Ctrl-C."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _report_interrupt(path: Path) -> None:
    """Say how far an interrupted run got and where its results are."""
    from ..results import Results

    try:
        results = Results.open(path)
    except (OSError, KeyError, TimescalesError):
        return
    if results.status != "interrupted":
        return
    reached = results.time_ms
    t = f"{reached[-1]:g} ms" if reached.size else "its start"
    print(f"interrupted at t = {t}; results so far in {path} (status interrupted)", file=sys.stderr)


def _over_ranks(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """`command` here, leading the other ranks when an MPI launcher started several (they
    serve it and exit with its status)."""
    comm = mpi.world()
    if comm is not None and "mpi4py.futures" in sys.modules:
        # `python -m mpi4py.futures` runs us on rank 0 only; the others serve its pool
        raise ConfigError(
            "MPI launcher", f"`mpirun -n N timescales {args.command} ...` (all ranks run it)"
        )
    if comm is not None and comm.Get_rank() > 0:
        return mpi.serve(comm)
    with mpi.leading(comm):
        return command(args)


def cmd_run(args: argparse.Namespace) -> int:
    return _over_ranks(_run, args)


def cmd_resume(args: argparse.Namespace) -> int:
    """Continue a run from its last checkpoint (to its end, or on to --until)."""
    return _over_ranks(_resume, args)


def _run(args: argparse.Namespace) -> int:
    experiment = Experiment.from_file(args.experiment)
    path = Path(args.output) if args.output else experiment.spec.output_path()
    try:
        with _stop_signals_interrupt():
            result = run_experiment(
                experiment,
                output=path,
                mode=args.strategy,
                duration_ms=args.duration,
                overwrite=args.overwrite,
                show_progress=not args.no_progress,
                checkpoint_ms=args.checkpoint_ms,
            )
    except KeyboardInterrupt:
        _report_interrupt(path)
        raise
    _print_summary(result)
    return 0


def _resume(args: argparse.Namespace) -> int:
    from .. import checkpoint
    from .checkpointing import checkpoint_path

    path = Path(args.results).resolve()
    saved = checkpoint.read(checkpoint_path(path))
    end = args.until if args.until is not None else saved.extra["until_ms"]
    hook = progress_hook(saved.t_ms, end, not args.no_progress)
    try:
        with _stop_signals_interrupt():
            result = Experiment.resume(path, until_ms=args.until, progress=hook)
    except KeyboardInterrupt:
        _report_interrupt(path)
        raise
    finally:
        if hook is not None:
            hook.close()
    print(f"resumed from the checkpoint at t = {saved.t_ms:g} ms", file=sys.stderr)
    _print_summary(result)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from .load import validate_file

    summary = validate_file(args.experiment)
    Experiment.from_file(args.experiment).check()
    print(summary)
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from ..plots import plot_results

    if Path(args.results).is_dir() and (Path(args.results) / "sweep.csv").exists():
        from ..plot_sweep import plot_sweep

        out_dir = Path(args.out_dir) if args.out_dir else Path(args.results)
        for path in plot_sweep(args.results, out_dir, args.format):
            print(path)
        return 0
    out_dir = Path(args.out_dir) if args.out_dir else Path(args.results).with_suffix("")
    for path in plot_results(args.results, out_dir, args.format):
        print(path)
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run the grid; one line per finished point; exit 1 when a point failed. Started by an
    MPI launcher with several ranks, the points run on ranks 1..N-1 (rank 0 hands them out
    and writes sweep.csv; the other ranks exit 0 once it is done)."""
    from .sweep import over_ranks

    comm = mpi.world()
    if comm is None:
        return _sweep(args, None)
    with over_ranks(comm) as ranks:
        return 0 if ranks is None else _sweep(args, ranks)


def _sweep(args: argparse.Namespace, ranks: Executor | None) -> int:
    from .sweep import Sweep, parse_vary, run_sweep

    vary = parse_vary(args.vary, Path(args.experiment).name)
    sweep = Sweep(Path(args.experiment), vary, Path(args.out), args.duration)

    def report(i: int, row: dict) -> None:
        values = ", ".join(f"{k}={row[k]}" for k in vary)
        outcome = (
            f"weights {row['min_weight']:.4g}..{row['max_weight']:.4g}"
            if row["status"] == "complete"
            else f"failed: {row['error']}"
        )
        print(f"point {i} ({values}): {outcome} ({row['wall_s']:.1f} s)", flush=True)

    rows = run_sweep(sweep, args.workers, report, ranks)
    failed = sum(r["status"] != "complete" for r in rows)
    print(f"{sweep.out_dir / 'sweep.csv'}: {len(rows) - failed} of {len(rows)} points complete")
    if failed:
        print(f"timescales sweep: {failed} point(s) failed (see the error column)", file=sys.stderr)
        return 1
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from ..nwb import export_nwb

    print(export_nwb(args.results, args.nwb, overwrite=args.overwrite))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ..plots import plot_results

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    demo = resources.files("timescales.examples").joinpath("demo.toml")
    with resources.as_file(demo) as path:
        experiment = Experiment.from_file(path)
    print(f"timescales demo: {experiment.spec.experiment.name} -> {out_dir}/")
    result = run_experiment(
        experiment,
        output=out_dir / "demo.h5",
        mode=None,
        duration_ms=args.duration,
        overwrite=True,
        show_progress=not args.no_progress,
    )
    _print_summary(result)
    figures = plot_results(result.path, out_dir)
    print("figures:")
    for path in figures:
        print(f"  {path}")
    return 0
