"""Wall time of the study's MSN in NEURON, and the fast spine-calcium solve against sparse.

Part 1 (`--tstop-ms`, default 500): the `all` layout (1504 spines) at rest, fixed step
dt = 0.025 ms on one and two threads (pc.nthread); ours and the reference build, fixed
step, over `--short-tstop-ms` (default 50); CVODE over `--cvode-tstop-ms` (default 10). Our
catrack/caltrack/rubin are fixed-step only, so the CVODE case runs the reference build (the
original NEURON solves).
Part 2 (`--compare-layout`, `--compare-tstop-ms`): our build against the reference build on
a smaller stimulated run: speed ratio and the largest difference of head calcium.

The reference build is this package's mod files with catrack/caltrack switched back to
`SOLVE scheme METHOD sparse` with NEURON's own LONGITUDINAL_DIFFUSION (SpineAxial off) and
rubin to `SOLVE equations METHOD derivimplicit` (the original solves of the same
equations). Every case
runs in its own process (NEURON loads one set of mechanisms per process).

    python benchmarks/neuron_msn.py --out DIR [--tstop-ms 500] [--skip-all]

Each row is printed and appended to DIR/neuron_msn.csv as soon as its case finishes.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STIMULATED_SPINES = 10  # the first ten spines get 5 inputs at 50 Hz in the comparison


def reference_mod_dir(target: Path) -> Path:
    """A copy of the mod files that NEURON solves with the original's methods."""
    from timescales.models.neuron.mechanisms import ORIGINAL_SOLVES, variant_mod_dir

    return variant_mod_dir(target, ORIGINAL_SOLVES)


def worker(spec: dict) -> dict:
    """Run one case in this process and return timings (and head calcium if asked)."""
    import numpy as np

    from timescales.models.neuron.mechanisms import load_msn_mechanisms
    from timescales.models.neuron.msn import MSN

    neuron = load_msn_mechanisms(Path(spec["mod_dir"]) if spec["mod_dir"] else None)
    h = neuron.h
    t_build = time.perf_counter()
    cell = MSN(spines=spec["layout"])
    build_s = time.perf_counter() - t_build
    if spec["stimulate"]:
        first = [spine.number for spine in cell.spines[:STIMULATED_SPINES]]
        cell.stimulate_train(first, start_ms=20.0, rate_hz=50.0, count=5)
    cell.apply_settings()
    pc = h.ParallelContext()
    pc.nthread(spec["nthread"])
    records = []
    if spec["record"]:
        records = [h.Vector().record(s.head(0.5)._ref_total_catotal) for s in cell.spines]
    if spec["cvode"]:
        h.CVode().active(1)
    h.finitialize(cell.settings.v_init_mV)
    t0, cpu0 = time.perf_counter(), time.process_time()
    h.continuerun(spec["tstop_ms"])
    run_s, cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
    result = {
        "tstop_ms": spec["tstop_ms"],
        "build_s": build_s,
        "run_s": run_s,
        "cpu_s": cpu_s,
        "cpu_s_per_ms": cpu_s / spec["tstop_ms"],
        "soma_v_mV": cell.soma(0.5).v,
    }
    if records:
        result["peak_head_ca_mM"] = max(r.max() for r in records)
        result["head_ca_mM"] = np.array([r.as_numpy() for r in records]).tolist()
    pc.nthread(1)
    return result


def run_case(spec: dict) -> dict:
    """Run `worker(spec)` in a fresh Python process."""
    out = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"case {spec} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def case(layout: str, tstop_ms: float, mod_dir: Path | None, **options: object) -> dict:
    spec = {
        "layout": layout,
        "tstop_ms": tstop_ms,
        "mod_dir": str(mod_dir) if mod_dir else None,
        "nthread": 1,
        "cvode": False,
        "stimulate": False,
        "record": False,
    }
    spec.update(options)
    return spec


FIELDS = ["case", "tstop_ms", "build_s", "run_s", "cpu_s", "cpu_s_per_ms", "soma_v_mV"]
FIELDS += ["peak_head_ca_mM", "max_abs_head_ca_diff_mM"]


class Table:
    """Rows printed and appended to the CSV as each case finishes (long runs lose nothing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "w", newline="") as handle:
            csv.DictWriter(handle, fieldnames=FIELDS).writeheader()

    def add(self, row: dict) -> None:
        with open(self.path, "a", newline="") as handle:
            csv.DictWriter(handle, fieldnames=FIELDS).writerow(row)
        cells = [f"{k}={v:.6g}" if isinstance(v, float) else str(v) for k, v in row.items()]
        print(" | ".join(cells), flush=True)


def compare(table: Table, layout: str, tstop_ms: float, ref_dir: Path) -> None:
    """Part 2: ours against the reference build on a stimulated run of `layout`."""
    import numpy as np

    ours = run_case(case(layout, tstop_ms, None, stimulate=True, record=True))
    ref = run_case(case(layout, tstop_ms, ref_dir, stimulate=True, record=True))
    diff = np.abs(np.array(ours.pop("head_ca_mM")) - np.array(ref.pop("head_ca_mM")))
    for label, res in (("ours (hand-written solves)", ours), ("reference build", ref)):
        table.add({"case": f"{layout} {tstop_ms:g} ms stimulated, {label}", **res})
    table.add(
        {
            "case": f"{layout}: ratio reference/ours (run_s: wall, cpu_s: cpu)",
            "run_s": ref["run_s"] / ours["run_s"],
            "cpu_s": ref["cpu_s"] / ours["cpu_s"],
            "max_abs_head_ca_diff_mM": float(diff.max()),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--tstop-ms", type=float, default=500.0)
    parser.add_argument("--compare-layout", default="onebranch")
    parser.add_argument("--compare-tstop-ms", type=float, default=100.0)
    parser.add_argument(
        "--short-tstop-ms",
        type=float,
        default=50.0,
        help="run length of the reference build of `all` (fixed step)",
    )
    parser.add_argument("--cvode-tstop-ms", type=float, default=10.0)
    parser.add_argument("--skip-all", action="store_true", help="only the comparison (part 2)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    if args.out is None:
        parser.error("--out is required")
    args.out.mkdir(parents=True, exist_ok=True)
    table = Table(args.out / "neuron_msn.csv")
    ref_dir = reference_mod_dir(Path(tempfile.mkdtemp(prefix="msn-sparse-")))
    try:
        compare(table, args.compare_layout, args.compare_tstop_ms, ref_dir)
        if args.skip_all:
            return
        t, ts, tc = args.tstop_ms, args.short_tstop_ms, args.cvode_tstop_ms
        for label, spec in (
            ("all, fixed step, 1 thread, ours", case("all", ts, None)),
            ("all, fixed step, 1 thread, reference build", case("all", ts, ref_dir)),
            ("all, fixed step, 1 thread, ours", case("all", t, None)),
            ("all, fixed step, 2 threads, ours", case("all", t, None, nthread=2)),
            ("all, CVODE, 1 thread, reference build", case("all", tc, ref_dir, cvode=True)),
        ):
            table.add({"case": label, **run_case(spec)})
    finally:
        shutil.rmtree(ref_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
