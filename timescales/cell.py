"""The cell protocol: what an electrical model offers to be coupled spine by spine.

A `Cell` is the object a cell type builds inside its simulator (the NEURON adapter keeps
it as `adapter.model`). It names its spines by number, each with the adapter variables
that carry its head calcium and its synaptic weight, takes input times per spine and
synapse kind, says when the next input arrives, and lists what else can be recorded.

A `CellType` is what an experiment file names in `[cell] model`: bundled cells (the
study's MSN) and those of other packages are found in the `timescales.cells` entry-point
group; files (Python, hoc, SWC) go through the entry point named `files`. It answers
which spine numbers a `[cell]` table gives before anything is built, so that experiment
files are checked without starting a simulator, and builds the cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .errors import ConfigError

GROUP = "timescales.cells"
#: The entry point that builds cells from files (`.py`, `.hoc`, `.swc`) or `module:function`.
FILES = "files"
FILE_SUFFIXES = (".py", ".hoc", ".swc")


@dataclass(frozen=True, slots=True)
class SpinePort:
    """One spine as the couplings see it.

    `calcium` and `weight` are variable names of the cell's adapter (head calcium in mM;
    the weight the biochemistry sets, unitless); `section` and `x` say where the spine
    sits; `synapses` are the input kinds it takes (e.g. "ampa", "nmda").
    """

    number: int
    calcium: str
    weight: str
    head_volume_l: float
    section: str
    x: float
    synapses: tuple[str, ...]


@runtime_checkable
class Cell(Protocol):
    """An electrical model with numbered spines (see the module docstring)."""

    def spine_ports(self) -> Sequence[SpinePort]:
        """Every spine, in numbering order."""

    def stimulate(
        self, spines: Iterable[int], times_ms: Iterable[float], synapses: Iterable[str]
    ) -> None:
        """Add input times (ms) to these synapse kinds of these spines (before initializing)."""

    def next_input_ms(self, t_ms: float) -> float:
        """When the next input after `t_ms` reaches a synapse (ms), or math.inf."""

    def recordable(self) -> Mapping[str, str]:
        """Variables besides the spines' that a run can record, by name, with their units."""


class CellType(Protocol):
    """A kind of cell an experiment file can name (see the module docstring).

    `options` is the experiment's `[cell]` table as plain data; relative paths in it are
    relative to `base_dir`, the experiment file's folder. `default_spines` is what an
    absent `spines` key means (a layout name of the cell), or None.
    """

    default_spines: str | None

    def spine_numbers(self, options: Mapping[str, Any], base_dir: Path) -> tuple[int, ...] | None:
        """The spine numbers this table gives, or None when only building tells."""

    def synapse_kinds(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The synapse kinds stimuli may name."""

    def problems(self, options: Mapping[str, Any], base_dir: Path) -> list[tuple[str, str, Any]]:
        """What is wrong with the table for this cell type: (key, what is allowed, value)."""

    def build(self, options: Mapping[str, Any], base_dir: Path) -> Cell:
        """Build the cell in its simulator (called inside the simulator's adapter)."""


def available_cells() -> dict[str, EntryPoint]:
    """Registered cell types by name; listing them builds nothing."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def is_file_cell(model: str) -> bool:
    """Whether `[cell] model` names a file or an installed `module:function` builder."""
    return Path(model.split(":")[0]).suffix.lower() in FILE_SUFFIXES or (
        ":" in model and not model.startswith(".")
    )


def load_cell_type(model: str) -> CellType:
    """The cell type `[cell] model` names: a registered name, a file or `module:function`."""
    found = available_cells()
    name = FILES if is_file_cell(model) else model
    if name not in found:
        known = ", ".join(sorted(n for n in found if n != FILES)) or "none"
        raise ConfigError(
            "cell.model",
            f"an installed cell ({known}), a .py/.hoc/.swc file or 'module:function'",
            model,
        )
    cell_type = found[name].load()
    return cell_type() if isinstance(cell_type, type) else cell_type
