"""What each adapter is to the scheduler, by name: leader or lazy, and which windows use it.

Adapters that are the target of a window (one biochemical model per spine) are *lazy*:
they advance only when one of their windows or their outputs need them. All others lead:
they advance together from one sync to the next.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .adapter import Adapter, AdapterStats
from .windows import WindowState


@dataclass(slots=True)
class Role:
    """One adapter's part in a run."""

    adapter: Adapter
    targeted_by: list[WindowState] = field(default_factory=list)
    read_by: list[WindowState] = field(default_factory=list)
    recorded: list[str] = field(default_factory=list)
    stats_before: AdapterStats | None = None

    @property
    def lazy(self) -> bool:
        return bool(self.targeted_by)

    @property
    def touched(self) -> bool:
        """Some window has driven it."""
        return any(s.touched for s in self.targeted_by)

    @property
    def idle(self) -> bool:
        """Driven before but in no open window now: it catches up at each sync."""
        return self.touched and not any(s.is_open for s in self.targeted_by)


def assign_roles(
    adapters: Mapping[str, Adapter], windows: Sequence[WindowState]
) -> dict[str, Role]:
    """Every adapter's role; series-held windows make their sources record what they send."""
    roles = {label: Role(adapter) for label, adapter in adapters.items()}
    for s in windows:
        c = s.coupling
        roles[c.spec.target.adapter].targeted_by.append(s)
        source = roles[c.spec.source.adapter]
        source.read_by.append(s)
        if s.series and c.spec.source.variable not in source.recorded:
            source.recorded.append(c.spec.source.variable)
    return roles
