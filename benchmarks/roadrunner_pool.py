"""Spine networks in local RoadRunner adapters against a RoadRunner pool of 1 and 2 workers.

Usage: python benchmarks/roadrunner_pool.py --out DIR [--n 18] [--exchanges 20]
       [--neuron-ms 0,1500]

Each of n instances of the bundled spine network does `exchanges` pipelined exchanges, as
the scheduler drives them: read the output (AMPAR_P) of the previous exchange, hand in a
calcium flux series of 50 pieces (flux input on "ca") and advance 50 ms. After each exchange
the parent spins the CPU for --neuron-ms, standing in for NEURON's next interval, which the
pool's workers overlap. Measured per configuration: wall time of the exchanges in the parent,
time the parent spent inside adapter calls and blocked on the workers, the workers' busy
time, and the largest difference of the outputs from the local run (0 = identical).
A second table gives the per-operation overhead of the pool on a one-species model.
Prints tables and writes DIR/roadrunner_pool.csv and DIR/roadrunner_pool_overhead.csv.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from timescales.adapter import Adapter, Series
from timescales.adapters._imports import import_roadrunner
from timescales.adapters.roadrunner import RoadRunnerAdapter, SBMLModel
from timescales.adapters.roadrunner_pool import RoadRunnerPool
from timescales.models import sbml

OUTPUT = "AMPAR_P"
INTERVAL_MS = 50.0
PIECES = 50
#: Peak calcium influx of the busiest spine (molecules/s); spines get 0.25x to 1x of it.
PEAK_FLUX = 2e4
FIELDS = (
    "config",
    "workers",
    "n",
    "exchanges",
    "neuron_s",
    "setup_s",
    "wall_s",
    "in_calls_s",
    "in_calls_cpu_s",
    "blocked_s",
    "busy_s",
    "cpu_s",
    "prime_s",
    "max_rel_diff",
)
OVERHEAD_FIELDS = ("operation", "count", "us_per_op")
TINY = """
model tiny
  compartment cell = 1
  species S in cell
  J1: S -> ; k*S
  S = 1; k = 3
end
"""


def flux_series(spine: int, n: int, exchange: int, t0_ms: float) -> Series:
    """A calcium transient: a decaying burst whose size differs between spines and exchanges."""
    scale = 0.25 + 0.75 * ((spine * 7 + exchange * 3) % n) / max(n - 1, 1)
    t = np.arange(PIECES) * (INTERVAL_MS / PIECES)
    values = PEAK_FLUX * scale * np.exp(-t / 10.0) * (exchange % 2 == 0)
    return Series(t0_ms, INTERVAL_MS / PIECES, values)


def spin(seconds: float) -> None:
    """Keep one core busy in Python for `seconds` (a stand-in for NEURON's interval)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def run_exchanges(
    adapters: Sequence[Adapter], flux: str, exchanges: int, neuron_s: float
) -> tuple[dict, np.ndarray]:
    """The pipelined exchange loop: parent wall time, time (and CPU) inside adapter calls,
    and the outputs read at the end."""
    n = len(adapters)
    outputs = np.zeros(n)
    in_calls = in_calls_cpu = 0.0
    start = time.perf_counter()
    for a in adapters:
        a.initialize(0.0)
    for k in range(exchanges + 1):
        t0, cpu0 = time.perf_counter(), time.thread_time()
        for i, a in enumerate(adapters):
            outputs[i] = a.get(OUTPUT)
            if k < exchanges:
                a.set_series(flux, flux_series(i, n, k, a.t_ms))
                a.post_advance(a.t_ms + INTERVAL_MS)
        in_calls += time.perf_counter() - t0
        in_calls_cpu += time.thread_time() - cpu0
        if k < exchanges:
            spin(neuron_s)
    wall = time.perf_counter() - start
    return {"wall_s": wall, "in_calls_s": in_calls, "in_calls_cpu_s": in_calls_cpu}, outputs


def measure(
    model: SBMLModel, workers: int, n: int, exchanges: int, neuron_s: float
) -> tuple[dict, np.ndarray]:
    flux = model.flux_parameter("ca")
    labels = [f"spine[{i}]" for i in range(n)]
    row = {"workers": workers, "n": n, "exchanges": exchanges, "neuron_s": neuron_s}
    if workers == 0:
        adapters = [RoadRunnerAdapter(model, label, lazy=True) for label in labels]
        times, outputs = run_exchanges(adapters, flux, exchanges, neuron_s)
        row |= {"config": "local", "setup_s": 0.0, "prime_s": 0.0, **times}
        row |= {"blocked_s": times["in_calls_s"], "busy_s": times["in_calls_s"]}
        row["cpu_s"] = times["in_calls_cpu_s"]
        return row, outputs
    start = time.perf_counter()
    with RoadRunnerPool(model, workers=workers) as pool:
        proxies = pool.adapters(labels, lazy=True)
        pool.sync()
        row |= {"config": f"pool({workers})", "setup_s": time.perf_counter() - start}
        prime, prime_cpu, blocked0 = pool.busy_s(), pool.cpu_s(), pool.blocked_s()
        times, outputs = run_exchanges(proxies, flux, exchanges, neuron_s)
        row |= {"prime_s": prime, **times, "blocked_s": pool.blocked_s() - blocked0}
        pool.sync()
        row |= {"busy_s": pool.busy_s() - prime, "cpu_s": pool.cpu_s() - prime_cpu}
    return row, outputs


def overhead(count: int = 2000) -> list[dict]:
    """Parent-side cost per operation of a proxy on a one-species model."""
    model = SBMLModel.load(TINY, flux_inputs={"S": ""})
    rows = []
    with RoadRunnerPool(model, workers=1) as pool:
        proxy = pool.adapters(["tiny"], lazy=False)[0]
        proxy.initialize(0.0)
        proxy.get("S")
        ops = {
            "set (queued, batched)": lambda: proxy.set("k", 3.0),
            "set_series 50 pieces (queued)": lambda: proxy.set_series(
                "ts_flux_S", Series(proxy.t_ms, 1.0, np.zeros(PIECES))
            ),
            "post_advance 0 ms (queued, sent)": lambda: proxy.post_advance(proxy.t_ms),
            "get (round trip)": lambda: proxy.get("S"),
        }
        for name, op in ops.items():
            pool.sync()
            start = time.perf_counter()
            for _ in range(count):
                op()
            elapsed = time.perf_counter() - start
            rows.append({"operation": name, "count": count, "us_per_op": elapsed / count * 1e6})
        many = pool.adapters([f"tiny[{i}]" for i in range(18)], lazy=False)
        for a in many:
            a.initialize(0.0)
        pool.sync()
        start = time.perf_counter()
        for _ in range(count // 10):
            pool.get_all(many, ["S"])
        per_call = (time.perf_counter() - start) / (count // 10)
        rows.append(
            {
                "operation": "get_all 18 proxies (1 round trip)",
                "count": count // 10,
                "us_per_op": per_call * 1e6,
            }
        )
        local = RoadRunnerAdapter(model, "tiny", lazy=False)
        local.initialize(0.0)
        start = time.perf_counter()
        for _ in range(count):
            local.get("S")
        elapsed = time.perf_counter() - start
        rows.append(
            {"operation": "get (local adapter)", "count": count, "us_per_op": elapsed / count * 1e6}
        )
    return rows


def print_table(rows: list[dict], fields: Sequence[str]) -> None:
    def cell(v: object) -> str:
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    widths = [max(len(f), *(len(cell(r[f])) for r in rows)) for f in fields]
    print("  ".join(f.rjust(w) for f, w in zip(fields, widths, strict=True)))
    for r in rows:
        print("  ".join(cell(r[f]).rjust(w) for f, w in zip(fields, widths, strict=True)))


def write_csv(path: Path, rows: list[dict], fields: Sequence[str]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=18)
    parser.add_argument("--exchanges", type=int, default=20)
    parser.add_argument("--neuron-ms", default="0,1500", help="comma-separated list")
    parser.add_argument("--workers", default="0,1,2", help="0 = local adapters")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    model = SBMLModel.load(sbml.path("spine_network"), flux_inputs={"ca": "molecules/s"})
    # Compiled once in this process; kept alive so local instances match the workers' ones.
    _keeper = import_roadrunner().RoadRunner(model.sbml)
    print(
        f"model load and compile: {time.perf_counter() - start:.1f} s; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    rows: list[dict] = []
    for neuron_ms in (float(x) for x in args.neuron_ms.split(",")):
        reference = None
        for workers in (int(x) for x in args.workers.split(",")):
            row, outputs = measure(model, workers, args.n, args.exchanges, neuron_ms / 1e3)
            if reference is None:
                reference = outputs
            row["max_rel_diff"] = float(np.max(np.abs(outputs - reference) / np.abs(reference)))
            rows.append(row)
            print_table([row], FIELDS)
    print("\nRoadRunner pool vs local adapters (seconds)")
    print_table(rows, FIELDS)
    write_csv(args.out / "roadrunner_pool.csv", rows, FIELDS)
    small = overhead()
    print("\nPer-operation overhead in the parent (one-species model)")
    print_table(small, OVERHEAD_FIELDS)
    write_csv(args.out / "roadrunner_pool_overhead.csv", small, OVERHEAD_FIELDS)


if __name__ == "__main__":
    main()
