"""The MSN's step in NEURON's own fixed-step loop: builds, threads and compiler flags.

Each case builds `MSN(spines=LAYOUT)` in a fresh process, calls `apply_settings()`, runs
`--settle-ms` of `h.fadvance()` after `h.finitialize(v_init)` and then times `--steps`
more (CPU and wall seconds per step), one step being dt = 0.025 ms:
- `rest`: no input;
- `train`: the flagship's 18 clustered spines (the first two of another layout) get AMPA
  and NMDA inputs at 20 Hz, the first at the end of the settling, so the timed steps hold
  EPSPs and spine calcium transients.
Builds: `ours` (this package's mechanisms, nrnivmodl's -O2 then -O3), `ours -O2` and `ours
-march=native` (the same files with those flags added after through
$TIMESCALES_NRNIVMODL_FLAGS), `ours, AVX2 shells` and `ours, baseline shells` (the default
build with the shells solved by a narrower copy, $TIMESCALES_SHELLS_COPY; the CPU's widest
where it lacks that one), `original solves` (catrack/caltrack back to `sparse` with
NEURON's LONGITUDINAL_DIFFUSION, rubin to `derivimplicit`, exp through NEURON's hoc_Exp, a
full search of a tau table at every lookup, each calcium channel computing its own GHK
factors: the original's methods; mechanisms.ORIGINAL_SOLVES).
Threads: `1`, `2` (`MSN.set_threads(2)`: the dendritic trees cut off the soma and joined
back by multisplit, half of the segments on each thread). Each case reports the largest
difference of soma v and of every spine head's calcium at the end of the timed steps from
the one-thread case of the same build and state (threaded cases) or from `ours` (other
builds). CPU time counts both threads: compare wall times. With --repeats N every case
runs N times, in rounds of all the cases back to back: a row gives the median of its
timings and, as times_faster_than_original, the median over the rounds of the original
solves' wall time over the case's (this machine's speed drifts by 10 % within minutes).

    python benchmarks/msn_step.py --out DIR [--layout all] [--steps 400] [--settle-ms 50]
        [--cases ours,ours-2,ours-O2,ours-native,ours-avx2,ours-baseline,original]
        [--repeats 1]

Prints a table and writes DIR/msn_step.csv.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAIN_SPINES = (554, 555, 556, 558, 559, 560, 562, 563, 564)
TRAIN_SPINES += (1468, 1469, 1470, 1472, 1473, 1474, 1476, 1477, 1478)
CASES = {  # name: (build, threads)
    "ours": ("ours", 1),
    "ours-2": ("ours", 2),
    "ours-O2": ("ours -O2", 1),
    "ours-native": ("ours -march=native", 1),
    "ours-avx2": ("ours, AVX2 shells", 1),
    "ours-baseline": ("ours, baseline shells", 1),
    "original": ("original solves", 1),
}
FLAGS_ENV = "TIMESCALES_NRNIVMODL_FLAGS"  # a build of its own in the cache (the flags key it)
SHELLS_ENV = "TIMESCALES_SHELLS_COPY"
BUILD_ENV = {  # build: the environment its cases run in, beside this process's
    "ours -O2": {FLAGS_ENV: "-O2"},
    "ours -march=native": {FLAGS_ENV: "-march=native"},
    "ours, AVX2 shells": {SHELLS_ENV: "avx2"},
    "ours, baseline shells": {SHELLS_ENV: "baseline"},
}
FIELDS = (
    "case", "build", "threads", "state", "steps", "cpu_ms_per_step", "wall_ms_per_step",
    "s_per_simulated_ms", "times_faster_than_original", "max_v_diff_mV", "max_head_ca_diff_mM",
)  # fmt: skip
TIMINGS = ("cpu_ms_per_step", "wall_ms_per_step", "s_per_simulated_ms")


def child(spec: dict) -> dict:
    """Run one case in this process: timings, and the state at the end."""
    from timescales.models.neuron.mechanisms import load_msn_mechanisms
    from timescales.models.neuron.msn import MSN

    h = load_msn_mechanisms(Path(spec["mod_dir"]) if spec["mod_dir"] else None).h
    cell = MSN(spines=spec["layout"])
    cell.apply_settings()
    if spec["state"] == "train":
        numbers = [s.number for s in cell.spines]
        spines = [n for n in TRAIN_SPINES if n in numbers] or numbers[:2]
        first_ms = spec["settle_ms"]  # stimulate_train's first input comes one interval in
        cell.stimulate_train(spines, start_ms=first_ms - 50.0, rate_hz=20.0, count=50)
    cell.set_threads(spec["threads"])
    h.finitialize(cell.settings.v_init_mV)
    while h.t < spec["settle_ms"] - 0.5 * h.dt:
        h.fadvance()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(spec["steps"]):
        h.fadvance()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "cpu_ms_per_step": cpu / spec["steps"] * 1e3,
        "wall_ms_per_step": wall / spec["steps"] * 1e3,
        "s_per_simulated_ms": cpu / (spec["steps"] * h.dt),
        "v_mV": cell.soma(0.5).v,
        "head_ca_mM": [s.head(0.5).cai for s in cell.spines],
    }


def run(spec: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in (FLAGS_ENV, SHELLS_ENV)}
    env |= spec["env"]
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"case {spec} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--layout", default="all")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--settle-ms", type=float, default=50.0)
    parser.add_argument("--states", default="rest,train")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    from timescales.models.neuron.mechanisms import ORIGINAL_SOLVES, variant_mod_dir

    unknown = set(args.cases.split(",")) - set(CASES)
    if unknown:
        parser.error(f"--cases: unknown {sorted(unknown)}; expected some of {list(CASES)}")
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="msn-step-"))
    rows = []
    try:
        original_dir = variant_mod_dir(work / "original", ORIGINAL_SOLVES)
        for state in args.states.split(","):
            results: dict[str, list[dict]] = {name: [] for name in args.cases.split(",")}
            for _ in range(args.repeats):  # rounds of every case, back to back
                for name in results:
                    build, threads = CASES[name]
                    spec = {
                        "layout": args.layout, "state": state, "steps": args.steps,
                        "settle_ms": args.settle_ms, "threads": threads,
                        "mod_dir": str(original_dir) if build == "original solves" else None,
                        "env": BUILD_ENV.get(build, {}),
                    }  # fmt: skip
                    results[name].append(run(spec))
            rows += _rows(state, results, args.steps)
            for row in rows[-len(results) :]:
                print(" | ".join(f"{row.get(k, '')}" for k in FIELDS), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with open(args.out / "msn_step.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    _table(rows)
    return 0


def _rows(state: str, results: dict[str, list[dict]], steps: int) -> list[dict]:
    """One row per case: median timings over the rounds, the median of the original's time
    over the case's in the same round, and state differences from the first round against
    `ours` (the one-thread case of every threaded build, too)."""
    rows = []
    ref = results.get("ours")
    for name, runs in results.items():
        build, threads = CASES[name]
        row = {"case": name, "build": build, "threads": threads, "state": state, "steps": steps}
        row |= {k: statistics.median(r[k] for r in runs) for k in TIMINGS}
        if "original" in results:
            pairs = zip(results["original"], runs, strict=True)
            ratios = [o["wall_ms_per_step"] / r["wall_ms_per_step"] for o, r in pairs]
            row["times_faster_than_original"] = statistics.median(ratios)
        if ref is not None and name != "ours":
            result, first = runs[0], ref[0]
            row["max_v_diff_mV"] = abs(result["v_mV"] - first["v_mV"])
            pairs = zip(result["head_ca_mM"], first["head_ca_mM"], strict=True)
            row["max_head_ca_diff_mM"] = max(abs(a - b) for a, b in pairs)
        rows.append(row)
    return rows


def _table(rows: list[dict]) -> None:
    print("\n| " + " | ".join(FIELDS) + " |")
    print("|" + "---|" * len(FIELDS))
    for row in rows:
        cells = [row.get(k, "") for k in FIELDS]
        text = [f"{c:.4g}" if isinstance(c, float) else str(c) for c in cells]
        print("| " + " | ".join(text) + " |")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(json.loads(sys.argv[2]))))
        sys.exit(0)
    sys.exit(main())
