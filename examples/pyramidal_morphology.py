"""Writes pyramidal.swc: a small pyramidal-like morphology of our own making (SWC).

A 3-point soma (radius 10 um); an apical trunk rising 400 um and tapering from 2 to 1 um
in radius, with 8 oblique branches (100 um, each forking into two of 60 um) and a tuft
that forks four times; 5 basal dendrites that fork three times. Branch lengths and radii
are fixed numbers, so the file is the same every time. Run it to regenerate the file:

    python examples/pyramidal_morphology.py
"""

from __future__ import annotations

import math
from pathlib import Path

SOMA, BASAL, APICAL = 1, 3, 4
STEP_UM = 20.0


class Swc:
    """SWC sample points, numbered from 1 (n, type, x, y, z, radius, parent)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, float, float, float, float, int]] = []

    def add(self, kind: int, xyz: tuple[float, float, float], radius: float, parent: int) -> int:
        self.rows.append((len(self.rows) + 1, kind, *xyz, radius, parent))
        return len(self.rows)

    def line(
        self,
        kind: int,
        start: int,
        direction: tuple[float, float, float],
        length_um: float,
        r0: float,
        r1: float,
    ) -> int:
        """Points every STEP_UM along `direction` from point `start`; the last point's number."""
        x0, y0, z0 = self.rows[start - 1][2:5]
        norm = math.sqrt(sum(c * c for c in direction))
        ux, uy, uz = (c / norm for c in direction)
        steps = max(1, round(length_um / STEP_UM))
        last = start
        for k in range(1, steps + 1):
            d = length_um * k / steps
            radius = r0 + (r1 - r0) * k / steps
            last = self.add(kind, (x0 + ux * d, y0 + uy * d, z0 + uz * d), radius, last)
        return last

    def tree(
        self,
        kind: int,
        start: int,
        direction: tuple[float, float, float],
        lengths_um: list[float],
        radius: float,
        spread: float,
    ) -> None:
        """A branch of lengths_um[0] that forks into two trees of the remaining lengths."""
        end = self.line(kind, start, direction, lengths_um[0], radius, radius * 0.8)
        if len(lengths_um) == 1:
            return
        dx, dy, dz = direction
        for side in (-1.0, 1.0):
            turned = (dx + side * spread, dy, dz + side * spread * 0.5)
            self.tree(kind, end, turned, lengths_um[1:], radius * 0.7, spread)

    def text(self) -> str:
        lines = ["# pyramidal-like morphology written by examples/pyramidal_morphology.py"]
        lines += [
            f"{n} {t} {x:.3f} {y:.3f} {z:.3f} {r:.3f} {p}" for n, t, x, y, z, r, p in self.rows
        ]
        return "\n".join(lines) + "\n"


def pyramidal() -> Swc:
    swc = Swc()
    soma = swc.add(SOMA, (0.0, 0.0, 0.0), 10.0, -1)
    swc.add(SOMA, (0.0, -10.0, 0.0), 10.0, soma)
    top = swc.add(SOMA, (0.0, 10.0, 0.0), 10.0, soma)
    trunk = top
    for k in range(8):
        side = 1.0 if k % 2 == 0 else -1.0
        trunk = swc.line(APICAL, trunk, (0.0, 1.0, 0.0), 45.0, 2.0 - 0.1 * k, 1.9 - 0.1 * k)
        swc.tree(APICAL, trunk, (side, 0.6, 0.3 * side), [100.0, 60.0], 0.6, 0.5)
    trunk = swc.line(APICAL, trunk, (0.0, 1.0, 0.0), 40.0, 1.2, 1.0)
    swc.tree(APICAL, trunk, (0.0, 1.0, 0.0), [80.0, 70.0, 60.0, 50.0], 0.9, 0.6)
    for k in range(5):
        angle = 2.0 * math.pi * k / 5
        direction = (math.cos(angle), -0.8, math.sin(angle))
        swc.tree(BASAL, soma, direction, [60.0, 50.0, 40.0, 30.0], 0.8, 0.5)
    return swc


if __name__ == "__main__":
    out = Path(__file__).with_name("pyramidal.swc")
    out.write_text(pyramidal().text())
    print(f"wrote {out}")
