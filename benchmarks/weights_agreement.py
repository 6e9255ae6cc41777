"""How closely two runs' synaptic weights agree over a stretch of simulated time.

    python benchmarks/weights_agreement.py REFERENCE.h5 OTHER.h5 --from-ms 20100
        [--to-ms MS] [--out DIR]

Each run computes every spine's weight at its own syncs (`/biochem/time_ms`,
`/biochem/weight`); both are interpolated linearly onto the union of their sync times in
[from, to] (`to`: the end both reached). Prints, per spine and overall, the largest
relative difference |other - reference| / |reference| there and at the end, and writes
DIR/weights_agreement.csv. Used to check a run that jumps over rest against one that
integrates every step (examples/flagship_1h.toml, shortened).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import h5py
import numpy as np


def weights(path: Path) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Sync times (ms), weights (syncs x spines) and the spines' numbers of a results file."""
    with h5py.File(path, "r") as f:
        return (
            f["biochem/time_ms"][()],
            f["biochem/weight"][()],
            [int(n) for n in f["biochem/spines"][()]],
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("reference", type=Path)
    parser.add_argument("other", type=Path)
    parser.add_argument("--from-ms", type=float, required=True)
    parser.add_argument("--to-ms", type=float, default=None)
    parser.add_argument("--out", type=Path, default=Path("bench-out/weights_agreement"))
    args = parser.parse_args(argv)
    t_ref, w_ref, spines = weights(args.reference)
    t_other, w_other, other_spines = weights(args.other)
    if spines != other_spines:
        parser.error(f"the runs couple different spines: {spines} and {other_spines}")
    to_ms = min(t_ref[-1], t_other[-1]) if args.to_ms is None else args.to_ms
    grid = np.union1d(t_ref, t_other)
    grid = grid[(grid >= args.from_ms) & (grid <= to_ms)]
    if not grid.size:
        parser.error(f"no sync of either run in [{args.from_ms}, {to_ms}] ms")
    rows = []
    for j, spine in enumerate(spines):
        ref = np.interp(grid, t_ref, w_ref[:, j])
        other = np.interp(grid, t_other, w_other[:, j])
        rel = np.abs(other - ref) / np.abs(ref)
        rows.append(
            {
                "spine": spine,
                "max_rel_diff": float(rel.max()),
                "at_ms": float(grid[int(rel.argmax())]),
                "end_rel_diff": float(rel[-1]),
                "reference_end": float(ref[-1]),
                "other_end": float(other[-1]),
            }
        )
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "weights_agreement.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{args.other} against {args.reference}, {args.from_ms:g} to {to_ms:g} ms")
    print("| spine | max rel diff | at ms | rel diff at end | reference end | other end |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['spine']} | {r['max_rel_diff']:.3g} | {r['at_ms']:.0f} | "
            f"{r['end_rel_diff']:.3g} | {r['reference_end']:.5f} | {r['other_end']:.5f} |"
        )
    worst = max(rows, key=lambda r: r["max_rel_diff"])
    print(f"largest: {worst['max_rel_diff']:.3g} (spine {worst['spine']}, {worst['at_ms']:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
