"""Cost of many RoadRunner instances of one model (one per spine): creation time and exchange.

Usage: python benchmarks/roadrunner_instances.py --n 1504 --out DIR [--model PATH_OR_ID]

Each configuration (JIT backend MCJIT or LLJIT; eager or lazy creation) runs in its own
process, since RoadRunner's compile cache and backend are per process. Measured per config:
model load (validation + first compile), creation of n instances (wall time), one exchange
(set the calcium flux + advance 1 ms) per instance (the first one, which creates a lazy
instance's RoadRunner, timed apart), and a quiet 1 ms advance per instance. Eager creation is
measured on --eager-max instances and extrapolated to n. The memory of an instance is measured
by roadrunner_memory.py (on few instances, memory the model's loading freed hides it).
Then one spine driven by a sampled calcium-flux transient compares delivering it as a series
against restarting per sample. Prints tables and writes DIR/roadrunner_instances.csv and
DIR/roadrunner_series.csv.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

#: The study's published calmodulin/CaMKII model, found or downloaded as experiments find it.
DEFAULT_MODEL = "biomodels:BIOMD0000000183"
CONFIGS = (("mcjit", "eager"), ("lljit", "eager"), ("lljit", "lazy"))
FIELDS = (
    "backend",
    "creation",
    "n",
    "created",
    "load_s",
    "create_s",
    "create_s_for_n",
    "first_exchange_us",
    "exchange_us_per_instance",
    "quiet_us_per_instance",
    "materialized",
)
#: Instances timed for the exchange (all when n is smaller).
EXCHANGE_SAMPLE = 100
#: Floor of the relative differences (model concentration units; 1e-12 M is below one
#: molecule in a 1 fl spine).
DIFF_FLOOR = 1e-12
#: Integrator tolerances of the series comparison: RoadRunner's defaults, then tight ones.
SERIES_TOLERANCES = (None, (1e-8, 1e-14))
#: Model time a lazy run lets the model settle, so that resting spines stay lazy.
SETTLE_MS = 1e6


def worker(model_path: Path, n: int, backend: str, creation: str, eager_max: int) -> dict:
    """Measure one configuration in this process.

    Eager creation makes min(n, eager_max) instances and extrapolates the time to n. Lazy
    creation uses the model settled for SETTLE_MS, makes all n, exchanges with EXCHANGE_SAMPLE
    of them (which then hold a RoadRunner) and advances the others quietly (they stay lazy).
    """
    from timescales.adapters.roadrunner import RoadRunnerAdapter, SBMLModel, use_lljit

    use_lljit(backend == "lljit")
    start = time.perf_counter()
    model = SBMLModel.load(model_path, flux_inputs={"ca": "molecules/s"})
    if creation == "lazy":
        model = model.settled(SETTLE_MS)
    RoadRunnerAdapter(model).initialize()
    load_s = time.perf_counter() - start
    created = n if creation == "lazy" else min(n, eager_max)
    start = time.perf_counter()
    instances = RoadRunnerAdapter.many(model, created, lazy=creation == "lazy")
    for adapter in instances:
        adapter.initialize()
    create_s = time.perf_counter() - start
    flux = model.flux_parameter("ca")
    sample = instances[:EXCHANGE_SAMPLE]
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for adapter in sample:
        adapter.set(flux, float(rng.uniform(1e5, 1e6)))
        adapter.advance(1.0)
    first_exchange_us = (time.perf_counter() - start) / len(sample) * 1e6
    start = time.perf_counter()
    for step in range(2, 5):
        for adapter in sample:
            adapter.set(flux, float(rng.uniform(1e5, 1e6)))
            adapter.advance(float(step))
    exchange_us = (time.perf_counter() - start) / (3 * len(sample)) * 1e6
    quiet = instances[len(sample) :] or instances
    start = time.perf_counter()
    for step in range(5, 8):
        for adapter in quiet:
            adapter.advance(float(step))
    quiet_us = (time.perf_counter() - start) / (3 * len(quiet)) * 1e6
    scale = n / created
    return {
        "backend": backend,
        "creation": creation,
        "n": n,
        "created": created,
        "load_s": round(load_s, 3),
        "create_s": round(create_s, 3),
        "create_s_for_n": round(create_s * scale, 2),
        "first_exchange_us": round(first_exchange_us, 1),
        "exchange_us_per_instance": round(exchange_us, 1),
        "quiet_us_per_instance": round(quiet_us, 1),
        "materialized": sum(a.materialized for a in instances),
    }


def series_costs(model_path: Path, window_ms: float = 20.0) -> list[dict[str, object]]:
    """One spine driven by a calcium-flux transient sampled every 0.1 ms, exchanged every 1 ms:
    as a series (one restart per exchange), as 10 restarts per exchange, or as its mean."""
    from timescales.adapter import Series
    from timescales.adapters.roadrunner import RoadRunnerAdapter, SBMLModel

    dt_ms, tau_ms = 0.1, 2.0
    t_ms = np.arange(0.0, window_ms, dt_ms)
    flux_values = 5e5 * (t_ms / tau_ms) * np.exp(1.0 - t_ms / tau_ms)
    rows: list[dict[str, object]] = []
    models = {
        knots: SBMLModel.load(model_path, flux_inputs={"ca": "molecules/s"}, series_knots=knots)
        for knots in (16, 64)
    }
    methods = (("restart per sample", 16), ("series", 16), ("series", 64), ("mean", 16))
    for tolerances, (method, knots) in itertools.product(SERIES_TOLERANCES, methods):
        model = models[knots]
        adapter = RoadRunnerAdapter(model, integrator_tolerances=tolerances)
        adapter.initialize()
        flux = model.flux_parameter("ca")
        per_ms = round(1.0 / dt_ms)
        start = time.perf_counter()
        for k in range(int(window_ms)):
            chunk = flux_values[k * per_ms : (k + 1) * per_ms]
            if method == "series":
                adapter.set_series(flux, Series(float(k), dt_ms, chunk))
                adapter.advance(k + 1.0)
            elif method == "mean":
                adapter.set(flux, float(chunk.mean()))
                adapter.advance(k + 1.0)
            else:
                for i, value in enumerate(chunk):
                    adapter.set(flux, float(value))
                    adapter.advance(k + (i + 1) * dt_ms)
        cost_us = (time.perf_counter() - start) / window_ms * 1e6
        state = adapter.get_many(list(model.species))
        if method == "restart per sample":
            reference = state
        scale = np.abs(reference) + DIFF_FLOOR
        rows.append(
            {
                "tolerances": "default" if tolerances is None else f"{tolerances}",
                "method": method,
                "knots": knots,
                "us_per_model_ms": round(cost_us, 1),
                "max_rel_diff_vs_restarts": float(np.max(np.abs(state - reference) / scale)),
            }
        )
    return rows


def model_file(text: str) -> Path:
    """The SBML file `--model` names: a path, or a BioModels id resolved to its file."""
    from timescales import biomodels
    from timescales.errors import ModelError

    if not biomodels.is_biomodels(text):
        return Path(text)
    try:
        return biomodels.resolve(text)
    except ModelError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1504)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--model", type=model_file, default=DEFAULT_MODEL, help="SBML file or biomodels:<id>"
    )
    parser.add_argument("--eager-max", type=int, default=100, help="eager instances created")
    parser.add_argument(
        "--worker", nargs=2, metavar=("BACKEND", "CREATION"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.model, args.n, *args.worker, args.eager_max)))
        return 0
    rows = []
    for backend, creation in CONFIGS:
        cmd = [sys.executable, __file__, "--n", str(args.n), "--out", str(args.out)]
        cmd += ["--model", str(args.model), "--eager-max", str(args.eager_max)]
        cmd += ["--worker", backend, creation]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
        if proc.returncode != 0:
            print(f"{backend}/{creation} failed:\n{proc.stderr[-2000:]}")
            return 1
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "roadrunner_instances.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    print(" | ".join(FIELDS))
    for row in rows:
        print(" | ".join(str(row[f]) for f in FIELDS))
    series_rows = series_costs(args.model)
    with (args.out / "roadrunner_series.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(series_rows[0]))
        writer.writeheader()
        writer.writerows(series_rows)
    print("\n" + " | ".join(series_rows[0]))
    for row in series_rows:
        print(" | ".join(str(v) for v in row.values()))
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
