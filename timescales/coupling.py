"""Couplings: what flows from one adapter variable to another, in which units, and when.

A `Coupling` names a source and a target `Endpoint` with declared units, a transform
(`Copy`, `Flux`, `Ratio`) and a trigger (`Window`, `Deadband`, or none). Units are
converted once by `compile_couplings` into float factors; every problem in a set of
couplings is reported in one `ConfigError`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .adapter import Adapter, Direction
from .errors import ConfigError, TimescalesError, UnitError
from .units import factor, parse, product


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One end of a coupling: adapter label, variable name and the unit the coupling uses."""

    adapter: str
    variable: str
    unit: str

    def __str__(self) -> str:
        return f"{self.adapter}.{self.variable} [{self.unit}]"


@dataclass(frozen=True, slots=True)
class Copy:
    """target = scale * source + offset; `scale_unit` gives the scale a unit (e.g. "1/ms").

    `offset` is in the target's declared unit.
    """

    scale: float = 1.0
    scale_unit: str = "1"
    offset: float = 0.0


@dataclass(frozen=True, slots=True)
class Flux:
    """target = (source change over the exchange interval) / interval * volume.

    Turns a concentration change (e.g. spine-head calcium in mM) into an amount rate
    (e.g. molecules/s) using `volume_l`, the volume the concentration refers to. With
    `into_volume_l`, the volume the target's concentration refers to, the target is a
    concentration rate (e.g. uM/s): that amount spread over it.
    """

    volume_l: float
    into_volume_l: float | None = None


@dataclass(frozen=True, slots=True)
class Ratio:
    """target = scale * source / baseline, the baseline captured by `Scheduler.capture`."""

    baseline: str = "start"
    scale: float = 1.0


Transform = Copy | Flux | Ratio


@dataclass(frozen=True, slots=True)
class Window:
    """Open a coupled window when the source crosses `level` (source unit) in `direction`.

    The window closes once the source has stayed on the other side of
    `level -/+ hysteresis` for `settle_ms`. While it is open the target variables in
    `while_open` hold the given values (e.g. a pump rate set to 0); they get their
    earlier values back when it closes.
    """

    level: float
    direction: Direction = "rising"
    hysteresis: float = 0.0
    settle_ms: float = 10.0
    while_open: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class Deadband:
    """Push the value only when |x - x_sent| > abs_tol + rel_tol * |x_sent|."""

    rel_tol: float = 0.0
    abs_tol: float = 0.0

    def moved(self, value: float, sent: float | None) -> bool:
        if sent is None:
            return True
        return abs(value - sent) > self.abs_tol + self.rel_tol * abs(sent)


Trigger = Window | Deadband | None


@dataclass(frozen=True, slots=True)
class Coupling:
    """Source → target with a unit-checked transform and a trigger.

    `bounds` (target's declared unit) clips the value sent; every clipped value is
    counted in `CompiledCoupling.clipped`, so clipping is reported, never silent.
    """

    source: Endpoint
    target: Endpoint
    transform: Transform = field(default_factory=Copy)
    trigger: Trigger = None
    name: str = ""
    bounds: tuple[float, float] | None = None

    @property
    def label(self) -> str:
        return self.name or f"{self.source.adapter}.{self.source.variable}->{self.target.adapter}"


@dataclass(slots=True)
class CompiledCoupling:
    """A coupling with adapters resolved and units reduced to float factors."""

    spec: Coupling
    index: int
    source: Adapter
    target: Adapter
    read_factor: float
    write_factor: float
    level: float = math.nan
    close_level: float = math.nan
    baseline: float | None = None
    offset: float = 0.0
    bounds: tuple[float, float] | None = None
    clipped: int = 0

    @property
    def label(self) -> str:
        return self.spec.label

    def read(self) -> float:
        """Source value in the coupling's declared source unit."""
        return self.source.get(self.spec.source.variable) * self.read_factor

    def value(self, source_value: float, interval_ms: float | None = None) -> float:
        """The target value (in the target adapter's unit) for a source value."""
        t = self.spec.transform
        if isinstance(t, Copy):
            return self._clip(source_value * self.write_factor + self.offset)
        if isinstance(t, Ratio):
            if self.baseline is None or self.baseline == 0.0:
                raise TimescalesError(
                    f"coupling {self.label}: baseline {t.baseline!r} not captured (or zero)"
                )
            return self._clip(source_value / self.baseline * self.write_factor)
        if interval_ms is None or interval_ms <= 0:
            raise TimescalesError(f"coupling {self.label}: a Flux needs an interval > 0 ms")
        return source_value / interval_ms * self.write_factor

    def _clip(self, value: float) -> float:
        if self.bounds is None:
            return value
        low, high = self.bounds
        if low <= value <= high:
            return value
        self.clipped += 1
        return min(max(value, low), high)


def _flux_factor(c: Coupling, t: Flux) -> float:
    """Declared source unit per ms times a volume (over the target's volume, if given),
    expressed in the declared target unit."""
    rate_unit = product(c.source.unit, "liter / millisecond")
    volume = t.volume_l
    if t.into_volume_l is not None:
        rate_unit, volume = product(rate_unit, "1 / liter"), volume / t.into_volume_l
    return factor(rate_unit, c.target.unit) * volume


def _check_end(
    problems: list[str], c: Coupling, end: Endpoint, adapter: Adapter | None, side: str
) -> float:
    """Factor from the adapter variable's unit to the declared unit (source) or back (target)."""
    if adapter is None:
        problems.append(f"coupling {c.label}: {side}.adapter: unknown adapter {end.adapter!r}")
        return math.nan
    try:
        var = adapter.variable(end.variable)
    except KeyError as exc:
        problems.append(f"coupling {c.label}: {side}.variable: {exc}")
        return math.nan
    if side == "target" and var.role == "output":
        problems.append(f"coupling {c.label}: target {end} is an output and cannot be set")
    try:
        parse(end.unit)
        if side == "source":
            return factor(var.unit, end.unit)
        return factor(end.unit, var.unit)
    except UnitError:
        problems.append(
            f"coupling {c.label}: {side} {end.adapter}.{end.variable} has unit {var.unit!r}, "
            f"which cannot be converted to the declared {end.unit!r}"
        )
        return math.nan


def _transform_factor(problems: list[str], c: Coupling) -> float:
    t = c.transform
    try:
        if isinstance(t, Copy):
            return factor(product(c.source.unit, t.scale_unit), c.target.unit) * t.scale
        if isinstance(t, Ratio):
            return factor("1", c.target.unit) * t.scale
        for key in ("volume_l", "into_volume_l"):
            volume = getattr(t, key)
            if volume is not None and not volume > 0:
                problems.append(f"coupling {c.label}: transform.{key}: expected > 0, got {volume}")
                return math.nan
        return _flux_factor(c, t)
    except UnitError:
        into = ""
        if isinstance(t, Flux):
            into = (
                " (an amount rate, or a concentration rate with into_volume_l)"
                if t.into_volume_l is None
                else " (a concentration rate with into_volume_l)"
            )
        problems.append(
            f"coupling {c.label}: source {c.source} and target {c.target}: units "
            f"{c.source.unit!r} and {c.target.unit!r} are incompatible for "
            f"{type(t).__name__}{into}"
        )
        return math.nan


def _check_trigger(problems: list[str], c: Coupling, target: Adapter | None) -> None:
    trig = c.trigger
    if isinstance(trig, Window):
        if trig.settle_ms < 0 or trig.hysteresis < 0:
            problems.append(
                f"coupling {c.label}: trigger: settle_ms and hysteresis must be >= 0, "
                f"got {trig.settle_ms}, {trig.hysteresis}"
            )
        if trig.direction not in ("rising", "falling"):
            problems.append(f"coupling {c.label}: trigger.direction: expected rising or falling")
        for name, _ in trig.while_open:
            if target is not None:
                try:
                    target.variable(name)
                except KeyError as exc:
                    problems.append(f"coupling {c.label}: trigger.while_open: {exc}")
    elif isinstance(trig, Deadband) and (trig.rel_tol < 0 or trig.abs_tol < 0):
        problems.append(f"coupling {c.label}: trigger: dead band tolerances must be >= 0")


def compile_couplings(
    couplings: Sequence[Coupling], adapters: Mapping[str, Adapter]
) -> list[CompiledCoupling]:
    """Check names, roles and units of every coupling; raise one ConfigError listing all."""
    problems: list[str] = []
    compiled = []
    for i, c in enumerate(couplings):
        src = adapters.get(c.source.adapter)
        tgt = adapters.get(c.target.adapter)
        f_in = _check_end(problems, c, c.source, src, "source")
        f_out = _check_end(problems, c, c.target, tgt, "target")
        f_t = _transform_factor(problems, c)
        _check_trigger(problems, c, tgt)
        if isinstance(c.transform, Flux) and not isinstance(c.trigger, Window):
            problems.append(f"coupling {c.label}: a Flux needs a Window trigger")
        if src is not None and tgt is not None and not any(map(math.isnan, (f_in, f_out, f_t))):
            cc = CompiledCoupling(c, i, src, tgt, f_in, f_t * f_out)
            if isinstance(c.transform, Copy):
                cc.offset = c.transform.offset * f_out
            if c.bounds is not None:
                cc.bounds = (c.bounds[0] * f_out, c.bounds[1] * f_out)
            if isinstance(c.trigger, Window):
                sign = 1.0 if c.trigger.direction == "rising" else -1.0
                cc.level = c.trigger.level
                cc.close_level = c.trigger.level - sign * c.trigger.hysteresis
            compiled.append(cc)
    if problems:
        raise ConfigError("couplings", "valid couplings:\n - " + "\n - ".join(problems))
    return compiled
