"""Adapter discovery through the `timescales.adapters` entry-point group."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from .adapter import Adapter
from .errors import UnknownNameError

GROUP = "timescales.adapters"


def available_adapters() -> dict[str, EntryPoint]:
    """Registered adapters by name; listing them imports no simulator."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load_adapter(name_or_class: str | type[Adapter]) -> type[Adapter]:
    """An adapter class given directly, or loaded by its entry-point name."""
    if isinstance(name_or_class, type):
        return name_or_class
    found = available_adapters()
    if name_or_class not in found:
        raise UnknownNameError("adapter", name_or_class, found, owner=f"entry points {GROUP!r}")
    return found[name_or_class].load()
