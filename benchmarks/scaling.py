"""Cost against spine count: electrical alone, coupled (event) and biochemistry alone.

    python benchmarks/scaling.py --out bench-out/scaling [--duration 600]
        [--sizes two,onebranch,all] [--workers 1] [--rtol 1e-6]
        [--modes electrical,coupled,biochemistry] [--repeat 1] [--resolution 1]

For each layout (2, 103 and 1504 spines; 18 stimulated where there are that many) a
20 Hz train of 10 inputs (fewer if the run is shorter) begins 100 ms after the electrical
equilibration. Each run is its own process, so its peak memory (with its workers') is
its own. The coupled runs keep the biochemistry in `--workers` processes beside
NEURON. With `--repeat N` each layout runs its modes N times in turn (electrical, coupled,
electrical, ...), so that a shared machine's drift falls on both alike: the row gives each
mode's median and the median of the N coupled/electrical ratios, each ratio from one pair
of neighbouring runs (`ratios`). `--resolution` sets the coupled runs' `coupling.resolution_ms`,
the length of the pieces the calcium is sent in. Prints a table and writes scaling.csv and
scaling.png.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from timescales.experiment.schema import Biochemistry, CouplingSpec
from timescales.memory import PeakMemory

#: Spines stimulated per layout: the flagship's 18 in `all`, 18 distal ones in `onebranch`.
STIMULATED = {
    "two": [1, 2],
    "onebranch": list(range(60, 78)),
    "all": [
        *(554, 555, 556, 558, 559, 560, 562, 563, 564),
        *(1468, 1469, 1470, 1472, 1473, 1474, 1476, 1477, 1478),
    ],
}
N_SPINES = {"two": 2, "onebranch": 103, "all": 1504}
MODES = ("electrical", "coupled", "biochemistry")
#: The experiment files' [biochemistry] defaults.
BIOCHEMISTRY = Biochemistry()
#: CVODE relative tolerance of the spine networks: the experiment files' default, so the
#: benchmark measures what users run (1e-5 was no cheaper coupled, benchmarks/RESULTS.md).
RTOL = BIOCHEMISTRY.rtol
#: The experiment files' length of the pieces the calcium is sent in (ms).
RESOLUTION_MS = CouplingSpec().resolution_ms


def experiment_text(
    layout: str,
    duration_ms: float,
    coupled: bool,
    workers: int = 1,
    rtol: float = RTOL,
    resolution_ms: float = RESOLUTION_MS,
) -> str:
    """The experiment file of one scaling point (`workers` biochemistry processes, CVODE's
    relative tolerance `rtol`, calcium pieces of `resolution_ms`)."""
    spines = STIMULATED[layout]
    # Inputs at 150 + 50 k ms (k >= 1) within the run, which ends 100 ms + duration_ms.
    count = max(1, min(10, int((100.0 + duration_ms - 150.0) // 50.0)))
    text = f"""
[experiment]
name = "scaling_{layout}"
duration_ms = {duration_ms}

[cell]
spines = "{layout}"

[[stimulus]]
spines = {spines}
start_ms = 150.0
rate_hz = 20.0
count = {count}

[record]
interval_ms = 1.0
soma_v = true
spine_calcium = "none"
"""
    if coupled:
        text += f"""
[biochemistry]
model = "spine_network"
instances = "stimulated"
rtol = {rtol!r}

[coupling]
mode = "event"
workers = {workers}
resolution_ms = {resolution_ms!r}
"""
    return text


def run_point(
    layout: str,
    mode: str,
    duration_ms: float,
    out_dir: Path,
    workers: int,
    rtol: float = RTOL,
    resolution_ms: float = RESOLUTION_MS,
) -> dict[str, float]:
    """One measurement in this process (called in a child)."""
    start = time.perf_counter()
    with PeakMemory() as memory:
        if mode == "biochemistry":
            busy = _biochemistry_alone(len(STIMULATED[layout]), duration_ms, rtol)
        else:
            from timescales.experiment.runner import Experiment

            path = out_dir / f"{layout}_{mode}.toml"
            text = experiment_text(
                layout, duration_ms, mode == "coupled", workers, rtol, resolution_ms
            )
            path.write_text(text)
            result = Experiment.from_file(path).run(
                output=out_dir / f"{layout}_{mode}.h5", overwrite=True
            )
            busy = result.stats.wall_s
    return {"wall_s": time.perf_counter() - start, "run_s": busy, "peak_rss_mb": memory.peak_mb}


def _biochemistry_alone(n: int, duration_ms: float, rtol: float) -> float:
    """n spine networks given one 20 Hz train of calcium pulses, exchanged every 50 ms."""
    from timescales.adapter import Series
    from timescales.adapters.roadrunner import RoadRunnerAdapter, SBMLModel
    from timescales.models import sbml

    model = SBMLModel.load(sbml.path("spine_network"), flux_inputs={"ca": "molecules/s"})
    flux = model.flux_parameter("ca")
    tolerances = (rtol, BIOCHEMISTRY.atol)  # the experiment files' default atol
    spines = RoadRunnerAdapter.many(model, n, lazy=True, integrator_tolerances=tolerances)
    for a in spines:
        a.initialize(0.0)
    pulse = np.zeros(200)  # 50 ms at 0.25 ms: a 2 ms rise and a slower fall, net zero
    pulse[:8], pulse[8:80] = 6.5e5, -6.5e5 * 8 / 72
    start = time.perf_counter()
    t = 0.0
    while t < duration_ms:
        for a in spines:
            a.set_series(flux, Series(t, 0.25, pulse))
            a.advance(t + 50.0)
        t += 50.0
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="bench-out/scaling")
    parser.add_argument("--duration", type=float, default=600.0, metavar="MS")
    parser.add_argument("--sizes", default="two,onebranch,all")
    parser.add_argument(
        "--workers", type=int, default=1, help="biochemistry processes beside NEURON (0: none)"
    )
    parser.add_argument("--rtol", type=float, default=RTOL, help="CVODE relative tolerance")
    parser.add_argument(
        "--resolution", type=float, default=RESOLUTION_MS, help="coupling.resolution_ms (ms)"
    )
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--repeat", type=int, default=1, help="runs of each mode, in turn")
    parser.add_argument("--child", nargs=2, metavar=("LAYOUT", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.child:
        layout, mode = args.child
        point = run_point(
            layout, mode, args.duration, out, args.workers, args.rtol, args.resolution
        )
        (out / f"{layout}_{mode}.json").write_text(json.dumps(point))
        return 0
    modes = args.modes.split(",")
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"--modes: unknown {sorted(unknown)}; expected some of {list(MODES)}")
    rows = []
    for layout in args.sizes.split(","):
        row = {"layout": layout, "spines": N_SPINES[layout], "stimulated": len(STIMULATED[layout])}
        points: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
        for _ in range(args.repeat):
            for mode in modes:
                cmd = [sys.executable, __file__, "--out", str(out)]
                cmd += ["--duration", str(args.duration), "--workers", str(args.workers)]
                cmd += ["--rtol", str(args.rtol), "--resolution", str(args.resolution)]
                subprocess.run([*cmd, "--child", layout, mode], check=True)
                points[mode].append(json.loads((out / f"{layout}_{mode}.json").read_text()))
        for mode, runs in points.items():
            row |= {f"{mode}_{k}": float(np.median([p[k] for p in runs])) for k in runs[0]}
        if {"electrical", "coupled"} <= set(modes):
            pairs = zip(points["coupled"], points["electrical"], strict=True)
            ratios = [c["run_s"] / e["run_s"] for c, e in pairs]
            row["coupled_over_electrical"] = float(np.median(ratios))
            row["ratios"] = " ".join(f"{r:.3f}" for r in ratios)
        rows.append(row)
        print(json.dumps(row), flush=True)
    _write(rows, out)
    return 0


def _write(rows: list[dict], out: Path) -> None:
    keys = list(rows[0])
    with (out / "scaling.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    wanted = ["layout", "spines", "electrical_run_s", "coupled_run_s", "coupled_over_electrical"]
    wanted += ["ratios", "biochemistry_run_s", "electrical_peak_rss_mb", "coupled_peak_rss_mb"]
    shown = [k for k in wanted if k in keys]
    print("| " + " | ".join(shown) + " |\n|" + "---|" * len(shown))
    for r in rows:
        print(
            "| "
            + " | ".join(f"{r[k]:.4g}" if isinstance(r[k], float) else str(r[k]) for k in shown)
            + " |"
        )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    n = [r["spines"] for r in rows]
    for mode in (m for m in MODES if f"{m}_run_s" in keys):
        ax.plot(n, [r[f"{mode}_run_s"] for r in rows], "o-", label=mode)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("spines in the cell")
    ax.set_ylabel("run time (s)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "scaling.png", dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
