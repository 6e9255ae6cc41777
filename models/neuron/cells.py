"""The study's MSN as a cell type experiment files name (`[cell] model = "msn"`).

Registered in the `timescales.cells` entry-point group. Checking a `[cell]` table reads
only the spine layouts (no NEURON); `build` makes the cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from timescales.models.neuron.layouts import LAYOUT_NAMES, layout_sites

DEFAULT_LAYOUT = "two"
SYNAPSES = ("ampa", "nmda")
#: Keys of a [cell] table that only cells built from files take.
FILE_KEYS = ("build", "template", "biophysics")


class MSNCellType:
    """The Wolf et al. 2005 MSN with the study's spine layouts (see msn.py)."""

    default_spines = DEFAULT_LAYOUT

    def spine_numbers(self, options: Mapping[str, Any], base_dir: Path) -> tuple[int, ...]:
        spines = options.get("spines") or DEFAULT_LAYOUT
        if isinstance(spines, str):
            return tuple(site.number for site in layout_sites(spines))
        return tuple(sorted(set(spines)))

    def synapse_kinds(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        return SYNAPSES

    def problems(self, options: Mapping[str, Any], base_dir: Path) -> list[tuple[str, str, Any]]:
        out = [
            (f"cell.{key}", "no such key for model 'msn' (it takes no model file)", options[key])
            for key in FILE_KEYS
            if options.get(key) is not None
        ]
        return out + _spine_problems(options.get("spines") or DEFAULT_LAYOUT)

    def build(self, options: Mapping[str, Any], base_dir: Path) -> Any:
        from timescales.models.neuron.msn import MSN

        cell = MSN(spines=options.get("spines") or DEFAULT_LAYOUT)
        cell.apply_settings()
        if options.get("threads", 1) > 1:
            cell.set_threads(options["threads"])
        return cell


def _spine_problems(spines: Any) -> list[tuple[str, str, Any]]:
    count = len(layout_sites("all"))
    allowed = f"one of {', '.join(map(repr, LAYOUT_NAMES))} or a list of spine numbers 1..{count}"
    if isinstance(spines, dict):
        return [("cell.spines", allowed + " (the MSN has spines of its own)", "a table")]
    if isinstance(spines, str):
        return [] if spines in LAYOUT_NAMES else [("cell.spines", allowed, spines)]
    out = [
        (f"cell.spines[{i}]", f"a spine number 1..{count}", n)
        for i, n in enumerate(spines)
        if not 1 <= n <= count
    ]
    if len(set(spines)) != len(spines):
        out.append(("cell.spines", "a list without repeated spines", list(spines)))
    return out


MSN_CELL = MSNCellType()
