"""Memory per RoadRunner instance of one model, made as before (plain) and as the adapter makes
them now (lean).

Usage: python benchmarks/roadrunner_memory.py --n 1504 --out DIR [--plain-n 300]
           [--model PATH_OR_ID] [--backends mcjit,lljit]

Each configuration runs in its own process (RoadRunner's compile cache and JIT backend are per
process): how instances are made (`plain`: `RoadRunner(sbml)`, as the adapter made them
before; `lean`: the adapter's `_new_runner` now), the JIT backend, and how they get their state
(`eager`: created at the model's initial state; `restored`: lazy instances given the state of
a template driven for TEMPLATE_MS, each then materialized by a calcium input, as an
experiment's spines are). The template is created first, so that every measured instance
reuses the compiled model. All instances are created, materialized and held; the growth of
resident memory (RSS, and USS: the process's own pages, psutil) is divided by their number,
and the growth over the second half by its number (the first instances partly reuse memory the
model's loading freed).
Plain instances are measured at --plain-n: n of them would not fit in memory. Prints a table
and writes DIR/roadrunner_memory.csv.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

#: The project's spine network, the model every spine of an experiment runs.
DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "models" / "sbml" / "spine_network.xml"
CREATIONS = ("plain", "lean")
STATES = ("eager", "restored")
#: Model time the template is driven before its state is saved (ms), and its input.
TEMPLATE_MS = 10.0
TEMPLATE_FLUX = 3e5
FIELDS = (
    "creation",
    "backend",
    "state",
    "n",
    "rss_bytes_per_instance",
    "uss_bytes_per_instance",
    "rss_bytes_per_instance_second_half",
    "create_ms_per_instance",
)


def plain_runner(model: Any, tolerances: tuple[float, float] | None) -> Any:
    """An instance made as the adapter made them before: `RoadRunner(sbml)`, its tolerances."""
    from timescales.adapters._imports import import_roadrunner

    runner = import_roadrunner().RoadRunner(model.sbml)
    if tolerances is not None:
        runner.integrator.setValue("relative_tolerance", float(tolerances[0]))
        runner.integrator.setValue("absolute_tolerance", float(tolerances[1]))
    return runner


def worker(model_path: Path, n: int, creation: str, backend: str, state: str) -> dict:
    """Create `n` materialized instances in this process; their memory and creation time."""
    from timescales.adapters import roadrunner
    from timescales.adapters.roadrunner import RoadRunnerAdapter, SBMLModel, use_lljit

    use_lljit(backend == "lljit")
    if creation == "plain":
        roadrunner._new_runner = plain_runner
    model = SBMLModel.load(model_path, flux_inputs={"ca": "molecules/s"})
    flux = model.flux_parameter("ca")
    template = RoadRunnerAdapter(model, label="template")
    template.initialize(0.0)
    template.set(flux, TEMPLATE_FLUX)
    template.advance(TEMPLATE_MS)
    _, saved = template.save_state()  # type: ignore[misc]
    process = psutil.Process()
    before = middle = process.memory_full_info()
    start = time.perf_counter()
    instances = []
    for i in range(n):
        if i == n // 2:
            middle = process.memory_full_info()
        instances.append(materialized(model, i, state, saved))
    create_s = time.perf_counter() - start
    after = process.memory_full_info()
    second_half = n - n // 2
    return {
        "creation": creation,
        "backend": backend,
        "state": state,
        "n": n,
        "rss_bytes_per_instance": round((after.rss - before.rss) / n),
        "uss_bytes_per_instance": round((after.uss - before.uss) / n),
        "rss_bytes_per_instance_second_half": round((after.rss - middle.rss) / second_half),
        "create_ms_per_instance": round(create_s / n * 1e3, 1),
    }


def materialized(model: Any, index: int, state: str, saved: object) -> Any:
    """Instance `index`, holding its RoadRunner: created eagerly, or lazily and restored to
    the template's `saved` state, then materialized by a calcium input."""
    from timescales.adapters.roadrunner import RoadRunnerAdapter

    adapter = RoadRunnerAdapter(model, f"spine[{index}]", lazy=state == "restored")
    if state == "eager":
        adapter.initialize(0.0)
        return adapter
    adapter.initialize(TEMPLATE_MS)
    adapter.restore_state((TEMPLATE_MS, saved))
    adapter.set(model.flux_parameter("ca"), 0.0)
    if not adapter.materialized:
        raise RuntimeError(f"{adapter.label} holds no RoadRunner after an input")
    return adapter


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


def table(rows: list[dict], n: int) -> list[str]:
    """Markdown rows: bytes per instance, memory scaled to n, creation time against plain's."""
    plain_ms = {
        (r["backend"], r["state"]): r["create_ms_per_instance"]
        for r in rows
        if r["creation"] == "plain"
    }
    lines = [
        f"| creation | backend | state | instances | RSS per instance | USS per instance "
        f"| RSS per instance, second half | RSS for {n} | creation per instance | vs plain |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = r["create_ms_per_instance"] / plain_ms[(r["backend"], r["state"])]
        lines.append(
            f"| {r['creation']} | {r['backend']} | {r['state']} | {r['n']} "
            f"| {r['rss_bytes_per_instance'] / 1e6:.2f} MB "
            f"| {r['uss_bytes_per_instance'] / 1e6:.2f} MB "
            f"| {r['rss_bytes_per_instance_second_half'] / 1e6:.2f} MB "
            f"| {r['rss_bytes_per_instance'] * n / 1e9:.2f} GB "
            f"| {r['create_ms_per_instance']:.0f} ms | {ratio:.2f} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1504, help="lean instances")
    parser.add_argument("--plain-n", type=int, default=300, help="plain instances")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--model", type=model_file, default=DEFAULT_MODEL, help="SBML file or biomodels:<id>"
    )
    parser.add_argument("--backends", default="mcjit,lljit", help="comma-separated")
    parser.add_argument(
        "--worker", nargs=3, metavar=("CREATION", "BACKEND", "STATE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.worker:
        creation, backend, state = args.worker
        n = args.plain_n if creation == "plain" else args.n
        print(json.dumps(worker(args.model, n, creation, backend, state)))
        return 0
    rows = []
    for backend in args.backends.split(","):
        for state in STATES:
            for creation in CREATIONS:
                cmd = [sys.executable, __file__, "--out", str(args.out), "--model", str(args.model)]
                cmd += ["--n", str(args.n), "--plain-n", str(args.plain_n)]
                cmd += ["--worker", creation, backend, state]
                proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
                if proc.returncode != 0:
                    print(f"{creation}/{backend}/{state} failed:\n{proc.stderr[-2000:]}")
                    return 1
                rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
                print(json.dumps(rows[-1]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "roadrunner_memory.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    print("\n".join(table(rows, args.n)))
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
