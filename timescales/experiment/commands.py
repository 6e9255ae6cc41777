"""The experiment subcommands of the CLI: run, validate, plot, export, demo."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from tqdm import tqdm

from ..errors import TimescalesError
from .runner import Experiment, RunResult, summary_rows


class ProgressBar:
    """A tqdm bar over simulated time: speed, ETA and the number of open windows."""

    def __init__(self, total_ms: float, start_ms: float) -> None:
        self.start_ms = start_ms
        self.bar = tqdm(total=round(total_ms), unit="ms", desc="simulated", file=sys.stderr)
        self._last_wall = 0.0

    def __call__(self, t_ms: float, until_ms: float, open_windows: int) -> None:
        now = time.monotonic()
        if now - self._last_wall < 0.2 and t_ms < until_ms:
            return
        self._last_wall = now
        self.bar.n = round(t_ms - self.start_ms)
        self.bar.set_postfix(windows=open_windows, refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


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
) -> RunResult:
    spec = experiment.spec
    duration = spec.experiment.duration_ms if duration_ms is None else duration_ms
    bar = ProgressBar(duration, spec.cell.equilibration_ms) if show_progress else None
    try:
        return experiment.run(
            duration_ms=duration_ms, mode=mode, output=output, overwrite=overwrite, progress=bar
        )
    finally:
        if bar is not None:
            bar.close()


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


def cmd_run(args: argparse.Namespace) -> int:
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
                show_progress=not args.no_progress and sys.stderr.isatty(),
            )
    except KeyboardInterrupt:
        _report_interrupt(path)
        raise
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

    out_dir = Path(args.out_dir) if args.out_dir else Path(args.results).with_suffix("")
    for path in plot_results(args.results, out_dir, args.format):
        print(path)
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
        show_progress=not args.no_progress and sys.stderr.isatty(),
    )
    _print_summary(result)
    figures = plot_results(result.path, out_dir)
    print("figures:")
    for path in figures:
        print(f"  {path}")
    return 0
