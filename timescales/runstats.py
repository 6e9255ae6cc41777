"""What a run did: its windows, exchanges, syncs and adapter work, and an optional trace."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from .adapter import AdapterStats


@dataclass(slots=True)
class WindowRecord:
    """One coupled window: when it opened and closed, its exchanges, what it delivered.

    `delivered` is the net source change sent through a Flux (in the coupling's source
    unit, e.g. mM), `influx` the sum of its rising parts at the delivery resolution.
    """

    coupling: str
    open_ms: float
    close_ms: float = math.nan
    exchanges: int = 0
    delivered: float = 0.0
    influx: float = 0.0


@dataclass(slots=True)
class RunStats:
    """What a run did: syncs, exchanges per coupling, windows, adapter work and wall time."""

    strategy: str
    t_start_ms: float
    t_end_ms: float = math.nan
    wall_s: float = 0.0
    syncs: int = 0
    exchanges: dict[str, int] = field(default_factory=dict)
    windows: list[WindowRecord] = field(default_factory=list)
    adapters: dict[str, AdapterStats] = field(default_factory=dict)
    trace: list[str] = field(default_factory=list)

    @property
    def n_exchanges(self) -> int:
        return sum(self.exchanges.values())


#: Told of every exchange: (time in ms, coupling label, the value sent in the target's unit).
ExchangeHook = Callable[[float, str, float], None]


class Journal:
    """Counts exchanges into a `RunStats`, tells `on_exchange` of each, and, when tracing,
    notes each event as a line."""

    def __init__(
        self, stats: RunStats, tracing: bool, on_exchange: ExchangeHook | None = None
    ) -> None:
        self.stats = stats
        self.tracing = tracing
        self.on_exchange = on_exchange

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "on_exchange": None}

    def exchanged(self, label: str, t_ms: float, value: float, how: str = "exchanged") -> None:
        self.stats.exchanges[label] = self.stats.exchanges.get(label, 0) + 1
        if self.on_exchange is not None:
            self.on_exchange(t_ms, label, value)
        self.note(t_ms, f"{label} {how}")

    def note(self, t_ms: float, what: str) -> None:
        if self.tracing:
            self.stats.trace.append(f"{t_ms:g} {what}")
