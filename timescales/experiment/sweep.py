"""Parameter sweeps: one experiment run at every point of a grid of overrides.

Each point runs in a fresh local process (NEURON and RoadRunner state is process-wide),
`workers` of them at a time, or, under an MPI launcher, on ranks 1..N-1 (mpi4py.futures'
`MPICommExecutor`, one point per rank at a time, each in a fresh process the rank starts;
rank 0 hands the points out). Every point writes its own results file; `sweep.csv` gets a
row per point as it finishes (written whole and renamed into place), so a killed sweep
keeps what it did, and running it again skips complete points.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import math
import os
import re
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from ..errors import ConfigError

#: Columns of sweep.csv after the varied keys: the final weights over the spines, and the
#: largest weight any spine reached during the run (its weights decay after a train, so the
#: final ones depend on when the run ends).
RESULT_COLUMNS = (
    "min_weight", "mean_weight", "max_weight", "peak_weight", "status", "wall_s", "error",
)  # fmt: skip


@dataclass(frozen=True)
class Sweep:
    """An experiment file, the values each dotted key takes, and where the points go."""

    experiment: Path
    vary: dict[str, list[Any]]
    out_dir: Path
    duration_ms: float | None = None
    points: list[dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        keys = list(self.vary)
        grid = [
            dict(zip(keys, values, strict=True))
            for values in itertools.product(*self.vary.values())
        ]
        object.__setattr__(self, "points", grid)

    def check(self) -> None:
        """Every point's experiment is valid (loaded with its overrides) before any runs."""
        from .load import load_experiment

        for point in self.points:
            load_experiment(self.experiment, overrides=point)

    def output(self, index: int) -> Path:
        """The results file of point `index`: its number and values, safe as a file name."""
        values = "_".join(f"{k.split('.')[-1]}-{v}" for k, v in self.points[index].items())
        return self.out_dir / f"point{index:03d}_{re.sub(r'[^A-Za-z0-9.=-]+', '-', values)}.h5"


def parse_vary(items: Sequence[str], source: str) -> dict[str, list[Any]]:
    """`KEY=V1,V2,...` items as key -> values, each value read as a TOML scalar."""
    vary: dict[str, list[Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip() or not raw.strip():
            raise ConfigError("--vary", "KEY=V1,V2,... (a dotted key of the file)", item, source)
        try:
            values = [tomllib.loads(f"v = {v.strip()}")["v"] for v in raw.split(",")]
        except tomllib.TOMLDecodeError:
            values = [v.strip() for v in raw.split(",")]
        vary[key.strip()] = values
    return vary


def run_point(
    experiment: str, overrides: dict[str, Any], output: str, duration_ms: float | None
) -> dict[str, Any]:
    """Run one point (in a worker process); its weights, status and wall time, or its
    error as one line."""
    from .runner import Experiment

    start = time.perf_counter()
    try:
        result = Experiment.from_file(experiment, **overrides).run(
            duration_ms=duration_ms, output=output, overwrite=True
        )
    except Exception as exc:  # a point's failure is reported in the CSV, the others go on
        message = " ".join(str(exc).split()) or type(exc).__name__
        return {"status": "failed", "wall_s": time.perf_counter() - start, "error": message}
    weights = list(result.final_weights().values())
    return {
        "min_weight": min(weights, default=math.nan),
        "mean_weight": sum(weights) / len(weights) if weights else math.nan,
        "max_weight": max(weights, default=math.nan),
        "peak_weight": float(result.weight.max()) if result.weight.size else math.nan,
        "status": "complete",
        "wall_s": time.perf_counter() - start,
        "error": "",
    }


def run_point_apart(
    experiment: str, overrides: dict[str, Any], output: str, duration_ms: float | None
) -> dict[str, Any]:
    """`run_point` in a process of its own, started for it (for executors whose processes
    run one point after another: MPI ranks)."""
    with _executor(1) as pool:
        return pool.submit(run_point, experiment, overrides, output, duration_ms).result()


@contextlib.contextmanager
def over_ranks(comm: Any) -> Iterator[Executor | None]:
    """An executor over the MPI ranks of `comm` but rank 0, on rank 0; None on the other
    ranks, which run its points until rank 0 leaves the block (launched as `mpirun -n N
    timescales sweep ...` or under `python -m mpi4py.futures`)."""
    from mpi4py.futures import MPICommExecutor

    with MPICommExecutor(comm, root=0) as executor:
        yield executor


def run_sweep(
    sweep: Sweep,
    workers: int = 1,
    report: Callable[[int, dict[str, Any]], None] | None = None,
    ranks: Executor | None = None,
) -> list[dict[str, Any]]:
    """Run the points not complete yet, in `workers` local processes or on `ranks` (an
    executor over MPI ranks, `over_ranks`); the rows of sweep.csv (one per point)."""
    sweep.check()
    sweep.out_dir.mkdir(parents=True, exist_ok=True)
    rows = _previous_rows(sweep)
    todo = [i for i in range(len(sweep.points)) if rows[i].get("status") != "complete"]
    task = run_point if ranks is None else run_point_apart
    with _executor(workers) if ranks is None else contextlib.nullcontext(ranks) as pool:
        futures: dict[Future[dict[str, Any]], int] = {
            pool.submit(
                task,
                str(sweep.experiment),
                sweep.points[i],
                str(sweep.output(i)),
                sweep.duration_ms,
            ): i
            for i in todo
        }
        for future in as_completed(futures):
            i = futures[future]
            rows[i] = {"point": i, **sweep.points[i], **future.result()}
            _write_csv(sweep, rows)
            if report is not None:
                report(i, rows[i])
    _write_csv(sweep, rows)
    return rows


def _previous_rows(sweep: Sweep) -> list[dict[str, Any]]:
    """Rows of an earlier run of the same sweep whose results file is complete."""
    from ..results import Results

    rows: list[dict[str, Any]] = [
        {"point": i, **p, "status": "pending"} for i, p in enumerate(sweep.points)
    ]
    path = sweep.out_dir / "sweep.csv"
    if not path.exists():
        return rows
    with path.open(newline="") as stream:
        for old in csv.DictReader(stream):
            i = int(old["point"])
            if i >= len(rows) or old["status"] != "complete":
                continue
            same = all(old.get(k) == str(v) for k, v in sweep.points[i].items())
            try:
                done = Results.open(sweep.output(i)).status == "complete"
            except Exception:  # a missing or broken file: the point runs again
                done = False
            if same and done:
                rows[i] = {**old, "point": i, **sweep.points[i]}
    return rows


def _write_csv(sweep: Sweep, rows: list[dict[str, Any]]) -> None:
    """sweep.csv, written whole beside itself and renamed into place."""
    columns = ["point", *sweep.vary, *RESULT_COLUMNS]
    fd, tmp = tempfile.mkstemp(prefix=".sweep.", suffix=".csv", dir=sweep.out_dir)
    with os.fdopen(fd, "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, sweep.out_dir / "sweep.csv")


def _executor(workers: int) -> ProcessPoolExecutor:
    """Local worker processes, spawned, each running one point and exiting."""
    return ProcessPoolExecutor(
        max(1, workers), mp_context=get_context("spawn"), max_tasks_per_child=1
    )
