"""How far the leading adapters may advance before the next sync (mosaik's max advance)."""

from __future__ import annotations

from collections.abc import Iterable

from .units import TIME_EPS_MS


def max_advance_ms(
    t_ms: float,
    until_ms: float,
    strategy_ms: float,
    events_ms: Iterable[float],
    deadlines_ms: Iterable[float],
) -> float:
    """The next sync time after `t_ms`: the earliest of the run's end, the strategy's next
    sync, the adapters' known events still ahead and the open windows' deadlines.

    Events at `t_ms` itself have happened; the result is always past `t_ms`, so a loop that
    syncs there makes progress.
    """
    h = min(until_ms, strategy_ms)
    for t_event in events_ms:
        if t_event > t_ms + TIME_EPS_MS:
            h = min(h, t_event)
    for t_due in deadlines_ms:
        h = min(h, t_due)
    return max(h, t_ms + TIME_EPS_MS)
