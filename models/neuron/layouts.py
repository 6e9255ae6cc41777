"""Spine layouts of the study: where each numbered spine attaches (parent dendrite, position).

Numbering follows the original creation order: groups of (position list, parent sections);
for each group the outer loop runs over the sections, the inner loop over the positions of
the list (ascending), and spines are numbered 1, 2, 3 ... in that order.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from timescales.errors import ConfigError

DATA_DIR = Path(__file__).resolve().parent / "data"

LAYOUT_NAMES = ("zero", "two", "onebranch", "all")


@dataclass(frozen=True)
class SpineSite:
    """One spine's number and attachment point on its parent dendrite."""

    number: int
    parent: str
    x: float


@dataclass(frozen=True)
class _Group:
    position_list: str
    parents: tuple[str, ...]


_TWO_SITES = (("dend3_1[1]", 0.3), ("dend3_1[1]", 0.5))

_GROUPS: dict[str, tuple[_Group, ...]] = {
    "zero": (),
    "onebranch": (_Group("mid0", ("dend3_1[0]",)), _Group("dist0", ("dend3_1[1]",))),
    "all": (
        _Group("mid0", ("dend1_1[0]", "dend2_1[0]", "dend3_1[0]", "dend4_1[0]")),
        _Group("mid1", ("dend1_2[0]", "dend2_2[0]", "dend3_2[0]", "dend4_2[0]")),
        _Group("dist0", ("dend1_1[1]", "dend2_1[1]", "dend3_1[1]", "dend4_1[1]")),
        # the irregular pairing of groups 4 and 6 (dend1_1[2] with dend2_2[2]) is what ran
        _Group("dist1", ("dend1_1[2]", "dend2_2[2]", "dend3_2[2]", "dend4_2[2]")),
        _Group("dist2", ("dend1_2[1]", "dend2_2[1]", "dend3_2[1]", "dend4_2[1]")),
        _Group("dist3", ("dend1_2[2]", "dend2_1[2]", "dend3_1[2]", "dend4_1[2]")),
    ),
}


@cache
def position_lists() -> dict[str, tuple[float, ...]]:
    """The six position lists (mid0, mid1, dist0..dist3) as fractions of section length."""
    lists: dict[str, tuple[float, ...]] = {}
    with open(DATA_DIR / "position_lists.csv", newline="") as handle:
        rows = (line for line in handle if not line.startswith("#"))
        for row in csv.DictReader(rows):
            lists[row["list"]] = tuple(float(x) for x in row["x_fractions"].split())
    return lists


def layout_sites(layout: str) -> list[SpineSite]:
    """All spines of a named layout, in numbering order."""
    if layout not in LAYOUT_NAMES:
        expected = f"one of {', '.join(LAYOUT_NAMES)} or a list of spine numbers"
        raise ConfigError("spines", expected, layout)
    if layout == "two":
        return [SpineSite(n, parent, x) for n, (parent, x) in enumerate(_TWO_SITES, start=1)]
    lists = position_lists()
    sites: list[SpineSite] = []
    for group in _GROUPS[layout]:
        for parent in group.parents:
            for x in lists[group.position_list]:
                sites.append(SpineSite(len(sites) + 1, parent, x))
    return sites


def select_sites(spines: str | Sequence[int]) -> list[SpineSite]:
    """Sites for a layout name, or for explicit spine numbers of the `all` layout (sorted)."""
    if isinstance(spines, str):
        return layout_sites(spines)
    every = layout_sites("all")
    numbers = sorted(set(int(n) for n in spines))
    bad = [n for n in numbers if not 1 <= n <= len(every)]
    if bad:
        raise ConfigError("spines", f"spine numbers of the 'all' layout, 1..{len(every)}", bad)
    return [every[n - 1] for n in numbers]
