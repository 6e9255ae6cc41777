"""Run an experiment (by default the study's flagship) to the end: time, memory, exchanges.

    python benchmarks/flagship.py --out bench-out/flagship [--duration MS] [--workers 2]
        [--checkpoint-ms MS] [--split-ms MS] [--set KEY=VALUE ...]
        [--experiment examples/long_tstop_allbranch_cpm_two_branches_stims_20_Hz.toml]

Prints progress every minute (with the cores the process and its workers kept busy in it,
also written to flagship_minutes.csv) and a table at the end, and writes flagship.csv:
wall time (total, NEURON, RoadRunner in this process), the CPU time of the process with its
threads and workers (and the cores it kept busy on average: CPU over wall), peak memory of
the process with its workers, windows, syncs, exchanges (calcium and weight) against the
calcium exchanges FixedInterval(1 ms) would make over the same run, the NEURON time run
with quiet steps, the time NEURON jumped over at rest, and the final weights; with
--checkpoint-ms, the checkpoints' number, size and wall time; with --split-ms, the wall
time before and after the first sync at or past that time (e.g. the end of the flagship in
flagship_1h.toml);
--set overrides a dotted key of the experiment file (e.g. cell.rest_tol_per_ms=0).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import psutil

from timescales import Experiment
from timescales.experiment.sweep import parse_vary
from timescales.memory import PeakMemory

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "examples" / "long_tstop_allbranch_cpm_two_branches_stims_20_Hz.toml"


class MinuteProgress:
    """A progress callback that prints one line per minute of wall time, with the cores this
    process (NEURON's threads) and its workers (the spine networks) kept busy in it."""

    def __init__(self, memory: PeakMemory, split_ms: float | None = None) -> None:
        self.memory = memory
        self.start = time.perf_counter()
        self.last = 0.0
        self.cpu = _tree_cpu_s()
        self.split_ms = split_ms
        self.split_wall_s: float | None = None
        self.rows: list[dict[str, float]] = []

    def __call__(self, t_ms: float, end_ms: float, n_open: int, exchanges: int) -> None:
        now = time.perf_counter() - self.start
        if self.split_ms is not None and self.split_wall_s is None and t_ms >= self.split_ms:
            self.split_wall_s = now
        if now - self.last >= 60.0:
            cpu = _tree_cpu_s()
            own, workers = ((b - a) / (now - self.last) for a, b in zip(self.cpu, cpu, strict=True))
            self.last, self.cpu = now, cpu
            self.rows.append(
                {
                    "wall_s": now,
                    "t_ms": t_ms,
                    "open_windows": n_open,
                    "process_cores": own,
                    "worker_cores": workers,
                }
            )
            print(
                f"{now:7.0f} s  t = {t_ms:8.1f} / {end_ms:.0f} ms  open windows {n_open}  "
                f"exchanges {exchanges}  peak {self.memory.peak_mb:.0f} MB  "
                f"cores: process {own:.2f}, workers {workers:.2f}",
                flush=True,
            )


def _tree_cpu_s() -> tuple[float, float]:
    """CPU seconds (user and system) so far of this process with its threads, and of its
    live worker processes."""
    me = psutil.Process()
    workers = 0.0
    for child in me.children(recursive=True):
        try:
            workers += sum(child.cpu_times()[:2])
        except psutil.Error:  # a worker that just ended
            continue
    return sum(me.cpu_times()[:2]), workers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experiment", type=Path, default=FLAGSHIP)
    parser.add_argument("--out", type=Path, default=Path("bench-out/flagship"))
    parser.add_argument("--duration", type=float, default=None, metavar="MS")
    parser.add_argument("--workers", type=int, default=None, help="override coupling.workers")
    parser.add_argument("--checkpoint-ms", type=float, default=None, metavar="MS")
    parser.add_argument(
        "--split-ms", type=float, default=None, metavar="MS", help="absolute simulated time"
    )
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    overrides: dict[str, object] = {}
    for key, values in parse_vary(args.set, "--set").items():
        if len(values) != 1:
            parser.error(f"--set {key}: one value, got {len(values)}")
        overrides[key] = values[0]
    if args.workers is not None:
        overrides["coupling.workers"] = args.workers
    experiment = Experiment.from_file(args.experiment, **overrides)
    cpu0 = _cpu_s()
    start = time.perf_counter()
    with PeakMemory() as memory:
        progress = MinuteProgress(memory, args.split_ms)
        result = experiment.run(
            duration_ms=args.duration,
            output=args.out / "flagship.h5",
            overwrite=True,
            progress=progress,
            checkpoint_ms=args.checkpoint_ms,
        )
    wall = time.perf_counter() - start
    cpu = _cpu_s() - cpu0
    stats = result.stats
    calcium = {k: n for k, n in stats.exchanges.items() if k.startswith("ca")}
    duration_ms = stats.t_end_ms - stats.t_start_ms
    fixed_1ms = len(calcium) * round(duration_ms)
    weights = list(result.final_weights().values())
    row = {
        "experiment": args.experiment.stem,
        "set": " ".join(args.set),
        "workers": experiment.spec.coupling.workers,
        "simulated_ms": duration_ms,
        "wall_s": wall,
        "neuron_s": stats.adapters["neuron"].wall_s,
        "roadrunner_s": sum(a.wall_s for k, a in stats.adapters.items() if k != "neuron"),
        "cpu_s": cpu,
        "busy_cores": cpu / wall,
        "peak_memory_mb": memory.peak_mb,
        "windows": len(stats.windows),
        "syncs": stats.syncs,
        "exchanges": stats.n_exchanges,
        "calcium_exchanges": sum(calcium.values()),
        "fixed_1ms_calcium_exchanges": fixed_1ms,
        "fewer_than_fixed_1ms": fixed_1ms / max(1, stats.n_exchanges),
        "neuron_quiet_steps_ms": result.extra.get("neuron_quiet_steps_ms", 0.0),
        "neuron_jumped_ms": result.extra.get("neuron_jumped_ms", 0.0),
        "neuron_rest_checks": result.extra.get("neuron_rest_checks", 0),
        "min_final_weight": min(weights, default=float("nan")),
        "max_final_weight": max(weights, default=float("nan")),
    }
    if progress.split_wall_s is not None:
        row["wall_before_split_s"] = progress.split_wall_s
        row["wall_after_split_s"] = wall - progress.split_wall_s
    if "checkpoints" in result.extra:
        checkpoints = result.extra["checkpoints"]
        row["checkpoints"] = checkpoints["n"]
        row["checkpoint_mb"] = checkpoints["bytes_last"] / 1e6
        row["checkpoint_wall_s"] = checkpoints["wall_s"]
        row["checkpoint_share"] = checkpoints["wall_s"] / wall
    _write_csv(args.out / "flagship.csv", [row])
    if progress.rows:
        _write_csv(args.out / "flagship_minutes.csv", progress.rows)
    print("| quantity | value |\n|---|---|")
    for key, value in row.items():
        print(f"| {key} | {value:.6g} |" if isinstance(value, float) else f"| {key} | {value} |")
    return 0


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _cpu_s() -> float:
    """CPU seconds (user and system) of this process, its threads and its ended workers."""
    return sum(psutil.Process().cpu_times()[:4])  # user, system, children's user, system


if __name__ == "__main__":
    sys.exit(main())
