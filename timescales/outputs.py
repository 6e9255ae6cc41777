"""The output side: couplings out of lazy adapters, and couplings without a window, sent
through their dead bands.

A lazy adapter (a window's target, e.g. one spine network) has outputs (its weight) that
go back to the leader whenever the adapter has advanced: inside a window at each
exchange, after it when the adapter catches up with the sync time. An asynchronous
target's outputs are read before its next advance is posted (`read_ahead`), so the read
does not wait for work posted later; they are then sent when the sync gets to them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .adapter import Adapter
from .coupling import CompiledCoupling
from .runstats import Journal

#: Brings an adapter up to a time (posting the advance where it is asynchronous).
Bring = Callable[[Adapter, float], None]


class Outputs:
    """The outputs of every lazy adapter, by adapter name, with their dead-band memory."""

    def __init__(self, couplings: Sequence[CompiledCoupling], journal: Journal) -> None:
        self.by_source: dict[str, list[CompiledCoupling]] = {}
        for c in couplings:
            self.by_source.setdefault(c.spec.source.adapter, []).append(c)
        self._journal = journal
        self._sent: dict[int, float] = {}
        self._early: dict[str, list[float]] = {}
        #: Per source, the time and the source values (in the couplings' source units) of
        #: its outputs when they were last read.
        self.latest: dict[str, tuple[float, list[float]]] = {}

    def read(self, source: str) -> list[float]:
        """The values `source`'s outputs would send now."""
        couplings = self.by_source.get(source, [])
        raw = [c.read() for c in couplings]
        if couplings:
            self.latest[source] = (couplings[0].source.t_ms, raw)
        return [c.value(r) for c, r in zip(couplings, raw, strict=True)]

    def send(self, source: str, values: list[float], t_ms: float) -> list[float]:
        """Send `values` (read when `source` was at `t_ms`) where they left the dead band."""
        for c, value in zip(self.by_source.get(source, []), values, strict=True):
            trigger = c.spec.trigger
            if trigger is None or trigger.moved(value, self._sent.get(c.index)):
                c.target.set(c.spec.target.variable, value)
                self._sent[c.index] = value
                self._journal.exchanged(c.label, t_ms, value, "pushed")
        return values

    def push(self, source: str, t_ms: float) -> list[float]:
        """Read and send `source`'s outputs (it has just reached `t_ms`)."""
        return self.send(source, self.read(source), t_ms)

    def read_ahead(self, source: str) -> None:
        """Read `source`'s outputs now, once per sync, for `early` to send later."""
        if source not in self._early:
            self._early[source] = self.read(source)

    def early(self, source: str) -> list[float]:
        """The outputs `read_ahead` took at this sync (read now if it took none)."""
        values = self._early.pop(source, None)
        return self.read(source) if values is None else values

    def end_sync(self) -> None:
        self._early.clear()

    def exchange(self, c: CompiledCoupling, t_ms: float, bring: Bring) -> None:
        """A coupling with no window: send its value at every sync, dead band permitting."""
        bring(c.source, t_ms)
        value = c.value(c.read())
        trigger = c.spec.trigger
        if trigger is not None and not trigger.moved(value, self._sent.get(c.index)):
            return
        bring(c.target, t_ms)
        c.target.set(c.spec.target.variable, value)
        self._sent[c.index] = value
        self._journal.exchanged(c.label, t_ms, value)
