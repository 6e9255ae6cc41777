"""What the spine network costs per piece of its calcium input, and what coarser pieces change.

    python benchmarks/spine_network_input.py --out bench-out/spine_input [--spines 2]
        [--inputs 10] [--resolutions 0.25,1,2,4,constant]

`event` coupling sends a window's calcium as a series of equal pieces (`coupling.resolution_ms`,
1 ms by default), each with the amount of calcium the head gained over it; the spine
network gets them as one continuous flux per exchange (`adapters/_smooth_series.py`). Here
`--spines` spine networks, equilibrated 300 s like the experiment files' default, get a 20 Hz
train of `--inputs` inputs as the event windows deliver it: after each input, exchanges of
1, 2, 4, 8, 16 ms and the rest of the 50 ms, each a series of pieces of the resolution
(`constant`: one piece per exchange) whose amounts add up to the head's calcium change, as
`WindowState.source_steps` makes them. The head's calcium after an input is a difference of
exponentials (rise 3 ms, decay 25 ms, 2700 molecules above rest at its peak), the size of
the flagship's. Each resolution runs in a fresh process. Prints a table and writes
spine_input.csv: CPU seconds per spine, CPU ms per simulated ms per spine, pieces and CPU
ms per piece, and the final AMPAR_P against the finest resolution's.
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

#: The head's calcium above rest after one input: rise and decay time constants (ms) and
#: the peak (molecules).
TAU_RISE_MS, TAU_DECAY_MS, PEAK_MOLECULES = 3.0, 25.0, 2700.0
PERIOD_MS = 50.0
#: Exchange intervals after an input (event coupling doubles them), the last to the period.
INTERVALS_MS = (1.0, 2.0, 4.0, 8.0, 16.0)
EQUILIBRATION_MS = 300_000.0
#: When the difference of exponentials peaks, and its value there (it is scaled to 1).
T_PEAK_MS = (
    TAU_RISE_MS * TAU_DECAY_MS / (TAU_DECAY_MS - TAU_RISE_MS) * np.log(TAU_DECAY_MS / TAU_RISE_MS)
)
AT_PEAK = np.exp(-T_PEAK_MS / TAU_DECAY_MS) - np.exp(-T_PEAK_MS / TAU_RISE_MS)


def head_calcium(t_ms: np.ndarray, n_inputs: int) -> np.ndarray:
    """Molecules above rest at `t_ms` for a train of `n_inputs` inputs, one per period from 0."""
    total = np.zeros_like(t_ms)
    for k in range(n_inputs):
        s = t_ms - k * PERIOD_MS
        after = s > 0
        total[after] += np.exp(-s[after] / TAU_DECAY_MS) - np.exp(-s[after] / TAU_RISE_MS)
    return PEAK_MOLECULES / AT_PEAK * total


def exchanges(n_inputs: int) -> list[tuple[float, float]]:
    """(start, end) in ms of every exchange of the train's windows."""
    spans = []
    for k in range(n_inputs):
        t = k * PERIOD_MS
        for interval in INTERVALS_MS:
            spans.append((t, t + interval))
            t += interval
        spans.append((t, (k + 1) * PERIOD_MS))
    return spans


def series_of(
    t0_ms: float, t1_ms: float, resolution: str, n_inputs: int
) -> tuple[float, np.ndarray]:
    """Piece length (ms) and flux (molecules/s) of one exchange at `resolution` ("constant":
    one piece); the pieces' amounts add up to the calcium's change over the exchange."""
    span = t1_ms - t0_ms
    pieces = 1 if resolution == "constant" else max(1, round(span / float(resolution)))
    grid = np.linspace(t0_ms, t1_ms, pieces + 1)
    amounts = np.diff(head_calcium(grid, n_inputs))
    piece_ms = span / pieces
    return piece_ms, amounts / (piece_ms * 1e-3)


def run_resolution(resolution: str, n_spines: int, n_inputs: int) -> dict[str, float]:
    """Equilibrate, then feed every spine the train at `resolution`; CPU time of the feeding."""
    from timescales.adapter import Series
    from timescales.adapters.roadrunner import RoadRunnerAdapter, SBMLModel, keep_compiled
    from timescales.experiment.schema import Biochemistry
    from timescales.models import sbml

    defaults = Biochemistry()
    model = SBMLModel.load(sbml.path("spine_network"), flux_inputs={"ca": "molecules/s"})
    keep_compiled(model)
    flux = model.flux_parameter("ca")
    tolerances = (defaults.rtol, defaults.atol)
    rest = RoadRunnerAdapter(model, "equilibration", integrator_tolerances=tolerances)
    rest.initialize(-EQUILIBRATION_MS)
    rest.advance(0.0)
    state = rest.save_state()
    spines = RoadRunnerAdapter.many(model, n_spines, integrator_tolerances=tolerances)
    for a in spines:
        a.initialize(0.0)
        a.restore_state(state)
    spans = exchanges(n_inputs)
    pieces = 0
    start = time.process_time()
    for a in spines:
        for t0, t1 in spans:
            piece_ms, values = series_of(t0, t1, resolution, n_inputs)
            a.set_series(flux, Series(t0, piece_ms, values))
            a.advance(t1)
            pieces += len(values)
    cpu_s = time.process_time() - start
    run_ms = n_inputs * PERIOD_MS
    return {
        "cpu_s_per_spine": cpu_s / n_spines,
        "cpu_ms_per_simulated_ms": 1e3 * cpu_s / n_spines / run_ms,
        "pieces_per_spine": pieces / n_spines,
        "cpu_ms_per_piece": 1e3 * cpu_s / pieces,
        "ampar_p": float(np.mean([a.get("AMPAR_P") for a in spines])),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="bench-out/spine_input")
    parser.add_argument("--spines", type=int, default=2)
    parser.add_argument("--inputs", type=int, default=10)
    parser.add_argument("--resolutions", default="0.25,1,2,4,constant")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.child:
        point = run_resolution(args.child, args.spines, args.inputs)
        (out / f"resolution_{args.child}.json").write_text(json.dumps(point))
        return 0
    resolutions = [r.strip() for r in args.resolutions.split(",") if r.strip()]
    for r in resolutions:
        try:
            if r != "constant" and float(r) <= 0:
                raise ValueError
        except ValueError:
            parser.error(f"--resolutions: {r!r} is neither a number > 0 (ms) nor 'constant'")
    rows = []
    for r in resolutions:
        cmd = [sys.executable, __file__, "--out", str(out), "--spines", str(args.spines)]
        subprocess.run([*cmd, "--inputs", str(args.inputs), "--child", r], check=True)
        point = json.loads((out / f"resolution_{r}.json").read_text())
        rows.append({"resolution_ms": r, **point})
    finest = min(
        (row for row in rows if row["resolution_ms"] != "constant"),
        key=lambda row: float(row["resolution_ms"]),
        default=rows[0],
    )
    for row in rows:
        row["ampar_p_vs_finest"] = row["ampar_p"] / finest["ampar_p"] - 1.0
    keys = list(rows[0])
    with (out / "spine_input.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    print("| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
    for row in rows:
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
