"""A run over MPI ranks against one process: wall time and peak memory per rank, and a
model of both for 16 to 1024 ranks; a sweep's points per minute.

Usage: python benchmarks/mpi_ranks.py --out DIR [--experiment FILE] [--duration 50]
       [--configs in-process,workers,2-ranks,3-ranks] [--probe-instances 100]
       [--sweep-points N]

Runs the experiment (default examples/background_all_spines.toml, every spine driven by
its own Poisson train) for --duration ms after its equilibration in each configuration:
`in-process` (one process, coupling.workers = 0), `workers` (one process and 2 local
worker processes), `N-ranks` (mpirun -n N: rank 0 the cell, ranks 1..N-1 the spine
networks). Every process reports its own peak resident memory (getrusage: the kernel's
high-water mark; local workers: the largest one's). The results of workers and ranks,
which pipeline their exchanges alike, are compared with the first of them (max relative
difference over every dataset; in-process runs are not pipelined and are not compared).

Two probes give the per-instance costs: one process compiles the model and materializes
--probe-instances spine networks (seconds to compile; memory and seconds per instance),
and mpirun -n 2 times empty rounds (one scatter, one gather). The model for R ranks runs
the whole experiment (T ms, `instances` spine networks, every one driven):
  rank 0 memory  = rank 0's peak (2-rank run)
  serving rank   = base + ceil(instances / (R - 1)) * per_instance_mb
  bio            = instances * materialize_s + T * bio_per_ms * activity
  wall           = setup + max(T * cell, bio / (R - 1)) + syncs_per_ms * T * round_s * log2(R)
from the 2-rank run: setup (its wall time before the scheduler ran: building, the
equilibrations, the ranks' compile), cell (rank 0's seconds per simulated ms: the
scheduler's run without its waits for the rank), bio_per_ms (the rank's busy seconds less
the compile and the materializations, per simulated ms) and syncs_per_ms; base (the
serving rank's peak less its driven instances); round_s (an empty round on 2 ranks; log2(R)
for the collectives' tree). `activity` is 1 in `wall_s` (the spine networks as busy as in
the measured run) and instances / instances_driven in `wall_all_active_s` (every one as
busy as those driven so far). Instances are taken as spread evenly (busiest first,
round-robin), and rank 0's cell as the same at any R.
With --sweep-points N, the demo is swept over N frequencies with 1 and 2 local workers and
over 3 ranks (2 running points): points per minute.
Prints tables and writes DIR/mpi_ranks.csv, DIR/mpi_ranks_model.csv, DIR/mpi_sweep.csv.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = ROOT / "examples" / "background_all_spines.toml"
DEMO = ROOT / "examples" / "demo.toml"
RANKS_MODELLED = (16, 32, 64, 128, 256, 512, 1024)
FIELDS = (
    "config", "processes", "wall_s", "run_s", "neuron_s", "bio_busy_s", "syncs", "exchanges",
    "windows", "instances_driven", "rounds", "rank0_peak_mb", "other_peak_mb", "max_rel_diff",
)  # fmt: skip
MODEL_FIELDS = (
    "ranks", "wall_s", "wall_all_active_s", "rank0_mb", "serving_rank_mb", "instances_per_rank",
)  # fmt: skip
SWEEP_FIELDS = ("config", "points", "wall_s", "points_per_min")


def _peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0


def _launcher(ranks: int) -> list[str]:
    """mpirun for `ranks` ranks, unbound (local workers share no core), as root if need be."""
    extra = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]
    return ["mpirun", "-n", str(ranks), *extra]


# ------------------------------------------------------------------ what each rank runs
def child(experiment: str, output: str, duration_ms: float, workers: int) -> int:
    """One configuration's run (every rank runs this); rank 0 prints what it measured."""
    from timescales import Experiment, mpi

    comm = mpi.world()
    if comm is not None and comm.Get_rank() > 0:
        status = mpi.serve(comm)
        comm.gather(_peak_mb(), root=0)
        return status
    start = time.perf_counter()
    with mpi.leading(comm):
        exp = Experiment.from_file(experiment, **{"coupling.workers": workers})
        result = exp.run(duration_ms=duration_ms, output=output, overwrite=True)
    wall = time.perf_counter() - start
    peaks = comm.gather(_peak_mb(), root=0) if comm is not None else [_peak_mb()]
    others = peaks[1:] or ([_peak_mb(resource.RUSAGE_CHILDREN)] if workers else [])
    stats = result.stats
    bio = result.extra.get("worker_busy_s", stats.adapters.get("roadrunner", _Zero()).wall_s)
    print(json.dumps({
        "processes": len(peaks) + (workers if comm is None else 0),
        "wall_s": wall,
        "run_s": stats.wall_s,
        "neuron_s": stats.adapters["neuron"].wall_s,
        "bio_busy_s": bio,
        "syncs": stats.syncs,
        "exchanges": stats.n_exchanges,
        "windows": len(stats.windows),
        "rounds": result.extra.get("mpi", {}).get("rounds", 0),
        "wait_s": result.extra.get("mpi", {}).get("wait_s", 0.0),
        "rank0_peak_mb": peaks[0],
        "other_peak_mb": max(others, default=0.0),
        "simulated_ms": stats.t_end_ms - stats.t_start_ms,
    }))  # fmt: skip
    return 0


class _Zero:
    wall_s = 0.0


def probe_instances(experiment: str, n: int) -> int:
    """Memory and seconds per spine network materialized (restored from an equilibrated
    state, then driven by a calcium flux for 1 ms), in this process; prints JSON."""
    from timescales import Experiment
    from timescales.adapter import Series
    from timescales.adapters.roadrunner import RoadRunnerAdapter

    exp = Experiment.from_file(experiment)
    model = exp.check()
    start = time.perf_counter()
    keeper = RoadRunnerAdapter(model, "keeper")
    compile_s = time.perf_counter() - start
    keeper.initialize(0.0)
    keeper.advance(1000.0)
    state = keeper.save_state()
    flux = model.flux_parameter(exp.spec.biochemistry.calcium.species)
    me = psutil.Process()
    base_mb = me.memory_info().rss / 2**20
    instances = RoadRunnerAdapter.many(model, n, lazy=True)
    start = time.perf_counter()
    for inst in instances:
        inst.initialize(1000.0)
        inst.restore_state(state)
        inst.set_series(flux, Series(1000.0, 0.25, np.full(4, 2e4)))
        inst.advance(1001.0)
    seconds = time.perf_counter() - start
    print(json.dumps({
        "compile_s": compile_s,
        "per_instance_mb": (me.memory_info().rss / 2**20 - base_mb) / n,
        "materialize_s": seconds / n,
    }))  # fmt: skip
    return 0


class _Echo:
    """A server that answers at once (the round-trip probe)."""

    def handle(self, request: object) -> object:
        return request

    def stop(self, request: object) -> object:
        return request


def probe_rounds(count: int) -> int:
    """Seconds per empty round (scatter and gather) between the ranks; prints JSON."""
    from timescales import mpi

    comm = mpi.world()
    assert comm is not None
    if comm.Get_rank() > 0:
        return mpi.serve(comm)
    with mpi.leading(comm) as leader:
        leader.start(_Echo, ())
        start = time.perf_counter()
        for _ in range(count):
            leader.send([None] * len(leader.ranks))
            leader.collect()
        seconds = (time.perf_counter() - start) / count
        leader.send([None] * len(leader.ranks), mpi.STOP)
        leader.collect()
    print(json.dumps({"round_s": seconds}))
    return 0


# ------------------------------------------------------------------ the parent
def _json_line(command: list[str]) -> dict:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_config(config: str, experiment: Path, out: Path, duration_ms: float) -> dict:
    ranks = int(config.split("-")[0]) if config.endswith("-ranks") else 1
    workers = 2 if config == "workers" else 0
    output = out / f"{config}.h5"
    me = [sys.executable, __file__, "--child", str(experiment), str(output), str(duration_ms)]
    command = [*(_launcher(ranks) if ranks > 1 else []), *me, str(workers)]
    row = {"config": config, **_json_line(command)}
    with h5py.File(output, "r") as f:
        row["instances_driven"] = len(set(f["windows/spine"][()].tolist()))
    return row


def _datasets(path: Path) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None
        )
    return out


def max_rel_diff(a: Path, b: Path) -> float:
    """The largest relative difference between two results files (inf: not the same shape)."""
    da, db = _datasets(a), _datasets(b)
    worst = 0.0
    for name, x in da.items():
        y = db.get(name)
        if y is None or y.shape != x.shape:
            return math.inf
        if x.dtype.kind == "f":
            if not np.array_equal(np.isnan(x), np.isnan(y)):
                return math.inf
            diff = np.abs(x - y) / np.maximum(np.abs(x), 1e-300)
            worst = max(worst, float(np.nanmax(diff, initial=0.0)))
        elif not (x == y).all():
            return math.inf
    return worst


def model_rows(two: dict, probe: dict, round_s: float, experiment: Path) -> list[dict]:
    """Wall time and memory per rank for the whole experiment on R ranks (module docstring)."""
    from timescales.experiment.load import load_experiment

    spec = load_experiment(experiment)
    total_ms = spec.experiment.duration_ms
    instances = len(spec.instance_spines())
    simulated = two["simulated_ms"]
    setup_s = two["wall_s"] - two["run_s"]
    cell = (two["run_s"] - two["wait_s"]) / simulated
    driven = two["instances_driven"]
    materialized_s = driven * probe["materialize_s"]
    bio_per_ms = (two["bio_busy_s"] - probe["compile_s"] - materialized_s) / simulated
    syncs = two["syncs"] / simulated * total_ms
    base = two["other_peak_mb"] - driven * probe["per_instance_mb"]
    print(
        f"model inputs: setup {setup_s:.1f} s, cell {cell:.3f} s/ms, bio {bio_per_ms:.3f} s/ms "
        f"({driven} of {instances} driven), {syncs:.0f} syncs in {total_ms:g} ms, "
        f"serving base {base:.0f} MB"
    )

    def wall(r: int, activity: float) -> float:
        bio = instances * probe["materialize_s"] + total_ms * bio_per_ms * activity
        return setup_s + max(total_ms * cell, bio / (r - 1)) + syncs * round_s * math.log2(r)

    rows = []
    for r in RANKS_MODELLED:
        per_rank = math.ceil(instances / (r - 1))
        rows.append({
            "ranks": r, "wall_s": wall(r, 1.0), "wall_all_active_s": wall(r, instances / driven),
            "rank0_mb": two["rank0_peak_mb"],
            "serving_rank_mb": base + per_rank * probe["per_instance_mb"],
            "instances_per_rank": per_rank,
        })  # fmt: skip
    return rows


def sweep_rows(out: Path, points: int) -> list[dict]:
    rates = ",".join(str(5 * (i + 1)) for i in range(points))
    args = ["sweep", str(DEMO), "--vary", f"stimulus.0.rate_hz={rates}",
            "--vary", "stimulus.0.count=5", "--duration", "400"]  # fmt: skip
    rows = []
    for config, launcher, workers in (
        ("1 worker", [], "1"),
        ("2 workers", [], "2"),
        ("3 ranks (2 run points)", _launcher(3), "1"),
    ):
        folder = out / f"sweep-{config.split()[0]}-{config.split()[1]}"
        shutil.rmtree(folder, ignore_errors=True)
        command = [*launcher, sys.executable, "-m", "timescales", *args, "--out", str(folder)]
        start = time.perf_counter()
        subprocess.run([*command, "--workers", workers], check=True, capture_output=True)
        wall = time.perf_counter() - start
        rows.append({"config": config, "points": points, "wall_s": wall,
                     "points_per_min": points / wall * 60.0})  # fmt: skip
    return rows


def _table(rows: list[dict], fields: tuple[str, ...]) -> None:
    print("| " + " | ".join(fields) + " |")
    print("|" + "---|" * len(fields))
    for row in rows:
        cells = [f"{row[k]:.4g}" if isinstance(row[k], float) else str(row[k]) for k in fields]
        print("| " + " | ".join(cells) + " |")


def _write(rows: list[dict], fields: tuple[str, ...], path: Path) -> None:
    with path.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--experiment", type=Path, default=EXPERIMENT)
    parser.add_argument("--duration", type=float, default=50.0, metavar="MS")
    parser.add_argument("--configs", default="in-process,workers,2-ranks,3-ranks")
    parser.add_argument("--probe-instances", type=int, default=100)
    parser.add_argument("--sweep-points", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = [
        run_config(c, args.experiment, args.out, args.duration) for c in args.configs.split(",")
    ]
    pipelined = [r["config"] for r in rows if r["config"] != "in-process"]
    for row in rows:
        row["max_rel_diff"] = (
            max_rel_diff(args.out / f"{pipelined[0]}.h5", args.out / f"{row['config']}.h5")
            if row["config"] in pipelined
            else ""
        )
    _table(rows, FIELDS)
    _write(rows, FIELDS, args.out / "mpi_ranks.csv")
    probe = _json_line(
        [sys.executable, __file__, "--probe", str(args.experiment), str(args.probe_instances)]
    )
    rounds = _json_line([*_launcher(2), sys.executable, __file__, "--rounds", "2000"])
    print(
        f"\nper instance: {probe['per_instance_mb']:.2f} MB, "
        f"{probe['materialize_s'] * 1e3:.1f} ms to materialize; "
        f"an empty round between 2 ranks: {rounds['round_s'] * 1e6:.0f} us\n"
    )
    two = next((r for r in rows if r["config"] == "2-ranks"), None)
    if two is not None:
        model = model_rows(two, probe, rounds["round_s"], args.experiment)
        _table(model, MODEL_FIELDS)
        _write(model, MODEL_FIELDS, args.out / "mpi_ranks_model.csv")
    if args.sweep_points:
        sweep = sweep_rows(args.out, args.sweep_points)
        print()
        _table(sweep, SWEEP_FIELDS)
        _write(sweep, SWEEP_FIELDS, args.out / "mpi_sweep.csv")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        sys.exit(child(sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])))
    if sys.argv[1:2] == ["--probe"]:
        sys.exit(probe_instances(sys.argv[2], int(sys.argv[3])))
    if sys.argv[1:2] == ["--rounds"]:
        sys.exit(probe_rounds(int(sys.argv[2])))
    sys.exit(main())
