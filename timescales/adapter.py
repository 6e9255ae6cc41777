"""The adapter contract: what the scheduler may ask of any simulator, and nothing more.

An adapter wraps one running model (one NEURON cell, one RoadRunner instance); all times
are in ms. Public methods validate arguments, keep the clock and count calls; they are
never overridden. An adapter implements the private hooks, as scipy's `OdeSolver` has
`step` call `_step_impl`. The contract, numbered so that tests and docs can cite it:

1. `variables()` names every variable with its unit and role; `variable(name)` resolves
   one (hook `_lookup`, for adapters that resolve names lazily) and an unknown name raises
   `UnknownNameError` listing the closest names.
2. `initialize(t0_ms)` (hook `_initialize`) sets the initial state; then `t_ms == t0_ms`.
3. `advance(until_ms, watches)` (hook `_advance`) integrates to `until_ms >= t_ms`, or
   stops at the first step where a watched variable crosses its level in the watch's
   direction and returns `Reached(t_stop_ms, fired=...)` naming every watch that fired.
   Afterwards `t_ms == reached.t_ms <= until_ms`: never beyond. Watches are taken only by
   adapters whose `capabilities.native_watches` is true; the scheduler checks the others'
   levels at its syncs instead.
4. `get`, `set`, `get_many`, `set_many` (hooks `_get`, `_set`, `_get_many`, `_set_many`)
   read and write variables in their own units at `t_ms`; only inputs and parameters may
   be set, and only to finite values.
5. `next_event_time()` (hook `_next_event_time`) is the earliest known future
   discontinuity (a stimulus), or `math.inf`; the scheduler never advances past it in one
   call, so an adapter sees its own inputs at their times.
6. `dt_ms` is the adapter's fixed step, or None. The scheduler takes the leader's (the
   first adapter that is not a window target) for lockstep grids and first exchange
   intervals, and asks recording sources to record at it.
7. `observe(active)`: the scheduler says whether an open window reads this adapter's
   variables; an adapter may integrate more coarsely while nobody reads it (the attribute
   `observed`). Correct results must not depend on it.
8. Optional capabilities (`Capabilities`), each with its hooks:
   `series_input` (`set_series`: an input over the coming interval given as the means of
   equal pieces, each piece's amount delivered exactly, for the variables `takes_series`
   names: hook `_takes_series`),
   `records` (`record`, `samples`, `forget_before`: values on a regular grid, kept until
   forgotten), `save_restore` (`save_state`, `restore_state`: an opaque snapshot with
   its time), `asynchronous` (below). Calling a method whose capability is absent raises
   `AdapterError`.
9. Asynchronous adapters (FMI 3's scheduled execution: the master triggers work and
   collects it later). `post_advance(until_ms)` starts an advance without watches and
   returns at once (hook `_post_advance`); `t_ms` is then the time the adapter will be at.
   Operations after it run in order, so a `get` returns the value at the new time
   (waiting for it), and `wait()` (hook `_wait`) blocks until everything posted is done
   and raises any error it caused; `advance` (hook `_advance`) is a post and a wait. For
   other adapters `post_advance` is `advance` and `wait` returns at once. The scheduler
   pipelines the exchanges of asynchronous window targets: it reads the outputs of the
   previous interval before posting the next advance, so the target integrates while the
   leader runs on (outputs then lag by one interval).
10. `close()` (hook `_close`) releases the simulator; the adapter cannot be used after.
11. Checkpoints (with `save_restore`): `checkpoint()` returns a picklable snapshot of
    everything that shapes the adapter's future (the simulator's state and the adapter's
    own bookkeeping: recordings, step control, work counters); `resume_from(snapshot)`
    (hooks `_checkpoint`, `_resume_from`) brings a freshly built and initialized adapter of
    the same model, in another process, to exactly that point. Taking a checkpoint may
    change the numerics the way `save_state` does (an integrator restart), never more, so
    a run resumed from a checkpoint equals the run that took it.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar, Literal

import numpy as np

from .errors import AdapterError, UnknownNameError
from .units import TIME_EPS_MS

Role = Literal["input", "output", "parameter"]
Direction = Literal["rising", "falling", "either"]
ROLES: tuple[Role, ...] = ("input", "output", "parameter")
DIRECTIONS: tuple[Direction, ...] = ("rising", "falling", "either")


@dataclass(frozen=True, slots=True)
class Variable:
    """A named quantity of an adapter.

    `role`: "input" (may be set and read: a state the outside drives), "output"
    (read only) or "parameter" (settable constant, e.g. a rate or a weight).
    """

    name: str
    unit: str
    role: Role = "output"
    description: str = ""


@dataclass(frozen=True, slots=True)
class Watch:
    """Stop `advance` where `variable` crosses `level` (in the variable's unit).

    `key` is an opaque tag the caller uses to recognise a fired watch.
    """

    variable: str
    level: float
    direction: Direction = "rising"
    key: object = None

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise AdapterError(
                f"Watch.direction: expected one of {DIRECTIONS}, got {self.direction!r}"
            )

    def crossed(self, before: float, after: float) -> bool:
        """Whether going from `before` to `after` crosses the level in this direction."""
        up = before < self.level <= after
        down = before > self.level >= after
        if self.direction == "rising":
            return up
        if self.direction == "falling":
            return down
        return up or down


@dataclass(frozen=True, slots=True)
class Reached:
    """What `advance` achieved: the time reached and the watches that fired there."""

    t_ms: float
    fired: tuple[Watch, ...] = ()

    @property
    def early(self) -> bool:
        return bool(self.fired)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the scheduler may rely on (FMI-style capability flags)."""

    native_watches: bool = False
    save_restore: bool = False
    series_input: bool = False
    records: bool = False
    asynchronous: bool = False


@dataclass(slots=True)
class AdapterStats:
    """Work counters (like scipy's nfev), plus wall time spent inside the adapter."""

    n_advance: int = 0
    n_early: int = 0
    n_get: int = 0
    n_set: int = 0
    wall_s: float = 0.0

    def add(self, other: AdapterStats) -> None:
        self.n_advance += other.n_advance
        self.n_early += other.n_early
        self.n_get += other.n_get
        self.n_set += other.n_set
        self.wall_s += other.wall_s

    def since(self, start: AdapterStats) -> AdapterStats:
        """The work done after `start` (a copy of these counters taken earlier)."""
        return AdapterStats(
            self.n_advance - start.n_advance,
            self.n_early - start.n_early,
            self.n_get - start.n_get,
            self.n_set - start.n_set,
            self.wall_s - start.wall_s,
        )

    def as_dict(self) -> dict[str, float]:
        return {
            "n_advance": self.n_advance,
            "n_early": self.n_early,
            "n_get": self.n_get,
            "n_set": self.n_set,
            "wall_s": self.wall_s,
        }


@dataclass(frozen=True, slots=True)
class Samples:
    """Values of a variable sampled at `t0_ms + i*dt_ms`, i = 0 .. len(values) - 1."""

    t0_ms: float
    dt_ms: float
    values: np.ndarray = field(repr=False)

    @property
    def t_ms(self) -> np.ndarray:
        return self.t0_ms + self.dt_ms * np.arange(len(self.values))


@dataclass(frozen=True, slots=True)
class Series:
    """An input on a regular grid: `values[i]` is its mean on [t0 + i*dt, t0 + (i+1)*dt).

    An adapter delivers each piece's amount (`values[i] * dt`) and shapes the input within
    a piece as it likes: held constant, or continuous across pieces (RoadRunner's flux).
    """

    t0_ms: float
    dt_ms: float
    values: np.ndarray = field(repr=False)

    @property
    def t_end_ms(self) -> float:
        return self.t0_ms + self.dt_ms * len(self.values)


class _Checks:
    """The argument checks of the public methods (`Adapter`'s, kept apart for its size)."""

    label: str
    kind: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    _closed: bool
    _initialized: bool
    _t_ms: float
    variable: Callable[[str], Variable]

    def _check_open(self) -> None:
        if self._closed:
            raise AdapterError(f"{self.label}: adapter is closed")

    def _check_ready(self) -> None:
        self._check_open()
        if not self._initialized:
            raise AdapterError(f"{self.label}: call initialize() first")

    def _require(self, capability: str, otherwise: str) -> None:
        if not getattr(self.capabilities, capability):
            raise AdapterError(f"{self.label}: {self.kind} adapters {otherwise}")

    def _check_until(self, until_ms: float) -> float:
        self._check_ready()
        until_ms = float(until_ms)
        if not until_ms >= self._t_ms - TIME_EPS_MS:
            raise AdapterError(
                f"{self.label}: until_ms={until_ms!r} is before the adapter time "
                f"t_ms={self._t_ms!r}"
            )
        return until_ms

    def _check_settable(self, name: str) -> None:
        var = self.variable(name)
        if var.role == "output":
            raise AdapterError(f"{self.label}: variable {name!r} is an output and cannot be set")


class Adapter(_Checks, ABC):
    """One simulator instance driven by the scheduler. All times in ms."""

    kind: ClassVar[str] = "adapter"
    capabilities: ClassVar[Capabilities] = Capabilities()
    dt_ms: float | None = None  # the adapter's fixed step (ms), or None: contract item 6

    def __init__(self, label: str = "") -> None:
        self.label = label or self.kind
        self.stats = AdapterStats()
        self._t_ms = math.nan
        self._initialized = False
        self._closed = False
        self.observed = False
        self._checked: set[tuple[str, ...]] = set()
        self._checked_settable: set[tuple[str, ...]] = set()

    # ------------------------------------------------------------------ public API
    @property
    def t_ms(self) -> float:
        """The adapter's current time (ms); NaN before `initialize`."""
        return self._t_ms

    @property
    def initialized(self) -> bool:
        return self._initialized

    def variable(self, name: str) -> Variable:
        """The variable called `name`; unknown names list the closest candidates."""
        return self._lookup(name)

    def observe(self, active: bool) -> None:
        """Whether an open window reads this adapter's variables (contract item 7)."""
        self.observed = bool(active)

    def initialize(self, t0_ms: float = 0.0) -> None:
        """Bring the model to its initial state at `t0_ms`."""
        self._check_open()
        if not math.isfinite(t0_ms):
            raise AdapterError(f"{self.label}: t0_ms must be finite, got {t0_ms!r}")
        start = time.perf_counter()
        self._initialize(float(t0_ms))
        self.stats.wall_s += time.perf_counter() - start
        self._t_ms = float(t0_ms)
        self._initialized = True

    def advance(self, until_ms: float, watches: Sequence[Watch] = ()) -> Reached:
        """Integrate to `until_ms`, or stop earlier where a watch fires; never beyond."""
        until_ms = self._check_until(until_ms)
        if watches and not self.capabilities.native_watches:
            raise AdapterError(f"{self.label}: {self.kind} adapters do not take watches")
        for w in watches:
            self.variable(w.variable)
        start = time.perf_counter()
        reached = self._advance(max(until_ms, self._t_ms), tuple(watches))
        self.stats.wall_s += time.perf_counter() - start
        if reached.t_ms > until_ms + TIME_EPS_MS or reached.t_ms < self._t_ms - TIME_EPS_MS:
            raise AdapterError(
                f"{self.label}: advance to {until_ms} ms reached {reached.t_ms} ms "
                f"(from {self._t_ms} ms): adapter broke the advance contract"
            )
        self._t_ms = min(reached.t_ms, until_ms)
        self.stats.n_advance += 1
        if reached.fired:
            self.stats.n_early += 1
        return reached

    def post_advance(self, until_ms: float) -> None:
        """Start advancing to `until_ms` (no watches); asynchronous adapters return at once."""
        if not self.capabilities.asynchronous:
            self.advance(until_ms)
            return
        until_ms = self._check_until(until_ms)
        start = time.perf_counter()
        self._post_advance(max(until_ms, self._t_ms))
        self.stats.wall_s += time.perf_counter() - start
        self._t_ms = max(until_ms, self._t_ms)
        self.stats.n_advance += 1

    def wait(self) -> None:
        """Block until the work posted so far is done; raise any error it caused."""
        self._check_ready()
        if self.capabilities.asynchronous:
            self._wait()

    def get(self, name: str) -> float:
        """Current value of variable `name`, in its unit."""
        self._check_ready()
        self.variable(name)
        self.stats.n_get += 1
        return float(self._get(name))

    def set(self, name: str, value: float) -> None:
        """Set variable `name` (role input or parameter) to `value`, in its unit."""
        self._check_ready()
        self._check_settable(name)
        if not math.isfinite(value):
            raise AdapterError(f"{self.label}: {name} = {value!r} is not a finite number")
        self.stats.n_set += 1
        self._set(name, float(value))

    def get_many(self, names: Sequence[str]) -> np.ndarray:
        """Values of several variables at once (one counted call; names checked once)."""
        self._check_ready()
        key = tuple(names)
        if key not in self._checked:
            for name in key:
                self.variable(name)
            self._checked.add(key)
        self.stats.n_get += 1
        return np.asarray(self._get_many(list(names)), dtype=float)

    def set_many(self, names: Sequence[str], values: Sequence[float] | np.ndarray) -> None:
        """Set several variables at once (one counted call)."""
        self._check_ready()
        values = np.asarray(values, dtype=float)
        if values.shape != (len(names),):
            raise AdapterError(
                f"{self.label}: set_many got {len(names)} names and {values.shape} values"
            )
        key = tuple(names)
        if key not in self._checked_settable:
            for name in key:
                self._check_settable(name)
            self._checked_settable.add(key)
        if not np.all(np.isfinite(values)):
            raise AdapterError(f"{self.label}: set_many values must be finite")
        self.stats.n_set += 1
        self._set_many(list(names), values)

    def set_series(self, name: str, series: Series) -> None:
        """Drive `name` with a series (the means of equal pieces) over the coming interval.

        Only for adapters with `capabilities.series_input`; the series starts at `t_ms`.
        """
        self._check_ready()
        self._require("series_input", "do not take input series")
        self._check_settable(name)
        if series.dt_ms <= 0 or len(series.values) == 0:
            raise AdapterError(f"{self.label}: series for {name} must have dt_ms > 0 and values")
        self.stats.n_set += 1
        self._set_series(name, series)

    def takes_series(self, name: str) -> bool:
        """Whether `set_series` can drive variable `name`."""
        return self.capabilities.series_input and self._takes_series(name)

    def record(self, names: Sequence[str], dt_ms: float) -> None:
        """Start recording `names` every `dt_ms` (adapters with `capabilities.records`)."""
        self._check_ready()
        self._require("records", "do not record")
        if not dt_ms > 0:
            raise AdapterError(f"{self.label}: record dt_ms must be > 0, got {dt_ms!r}")
        for name in names:
            self.variable(name)
        self._record(list(names), float(dt_ms))

    def samples(self, name: str, t0_ms: float, t1_ms: float) -> Samples:
        """Recorded values of `name` on the record grid from `t0_ms` to `t1_ms` inclusive."""
        self._check_ready()
        self._require("records", "do not record")
        if not (t0_ms <= t1_ms <= self._t_ms + TIME_EPS_MS):
            raise AdapterError(
                f"{self.label}: samples of {name} need t0 <= t1 <= t_ms, "
                f"got {t0_ms}, {t1_ms} (t_ms={self._t_ms})"
            )
        return self._samples(name, float(t0_ms), float(t1_ms))

    def forget_before(self, t_ms: float) -> None:
        """Drop recorded samples older than `t_ms` (bounds memory on long runs)."""
        self._check_ready()
        self._require("records", "do not record")
        self._forget_before(float(t_ms))

    def next_event_time(self) -> float:
        """Earliest known future discontinuity (ms), e.g. a stimulus; math.inf if none."""
        self._check_ready()
        return float(self._next_event_time())

    def save_state(self) -> object:
        """An opaque snapshot of the full state, time included (if supported)."""
        self._check_ready()
        self._require("save_restore", "cannot save state")
        return (self._t_ms, self._save_state())

    def restore_state(self, state: object) -> None:
        """Return to a snapshot taken by `save_state`."""
        self._check_ready()
        self._require("save_restore", "cannot restore state")
        t_ms, inner = state  # type: ignore[misc]
        self._restore_state(inner, float(t_ms))
        self._t_ms = float(t_ms)

    def checkpoint(self) -> object:
        """A picklable snapshot for resuming in another process (contract item 11)."""
        self._check_ready()
        self._require("save_restore", "cannot save state")
        return (self._t_ms, self._checkpoint(), replace(self.stats))

    def resume_from(self, snapshot: object) -> None:
        """Continue from a `checkpoint()` of an adapter of the same model."""
        self._check_ready()
        self._require("save_restore", "cannot restore state")
        t_ms, inner, stats = snapshot  # type: ignore[misc]
        self._resume_from(inner, float(t_ms))
        self._t_ms = float(t_ms)
        self.stats = replace(stats)

    def close(self) -> None:
        """Release the simulator; the adapter cannot be used afterwards."""
        if not self._closed:
            self._close()
            self._closed = True

    def __enter__(self) -> Adapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label!r} t={self._t_ms} ms>"

    # ------------------------------------------------------ to implement (required)
    @abstractmethod
    def variables(self) -> Mapping[str, Variable]:
        """Every variable the adapter exposes, by name."""

    @abstractmethod
    def _initialize(self, t0_ms: float) -> None:
        """Set the model to its initial state at `t0_ms`."""

    @abstractmethod
    def _advance(self, until_ms: float, watches: tuple[Watch, ...]) -> Reached:
        """Integrate to `until_ms` or stop at the first step where a watch fires."""

    @abstractmethod
    def _get(self, name: str) -> float:
        """Read one variable."""

    @abstractmethod
    def _set(self, name: str, value: float) -> None:
        """Write one variable."""

    # ------------------------------------------------ to override (optional, faster)
    def _lookup(self, name: str) -> Variable:
        """The variable called `name` (override to resolve names lazily)."""
        variables = self.variables()
        try:
            return variables[name]
        except KeyError:
            raise UnknownNameError("variable", name, variables, owner=self.label) from None

    def _get_many(self, names: list[str]) -> Sequence[float]:
        return [self._get(n) for n in names]

    def _set_many(self, names: list[str], values: np.ndarray) -> None:
        for n, v in zip(names, values, strict=True):
            self._set(n, float(v))

    def _set_series(self, name: str, series: Series) -> None:
        raise NotImplementedError

    def _takes_series(self, name: str) -> bool:
        """Whether `_set_series` drives `name` (adapters with `series_input`; all by default)."""
        return True

    def _record(self, names: list[str], dt_ms: float) -> None:
        raise NotImplementedError

    def _samples(self, name: str, t0_ms: float, t1_ms: float) -> Samples:
        raise NotImplementedError

    def _forget_before(self, t_ms: float) -> None:
        """Drop old samples (optional)."""

    def _next_event_time(self) -> float:
        return math.inf

    def _save_state(self) -> object:
        raise NotImplementedError

    def _restore_state(self, state: object, t_ms: float) -> None:
        """Return to `state`, saved at `t_ms`."""
        raise NotImplementedError

    def _checkpoint(self) -> object:
        """By default the `save_state` snapshot, for adapters whose snapshot pickles."""
        return self._save_state()

    def _resume_from(self, state: object, t_ms: float) -> None:
        self._restore_state(state, t_ms)

    def _post_advance(self, until_ms: float) -> None:
        """Start advancing to `until_ms` and return at once (asynchronous adapters)."""
        raise NotImplementedError

    def _wait(self) -> None:
        """Block until the posted work is done (asynchronous adapters)."""
        raise NotImplementedError

    def _close(self) -> None:
        """Release resources (optional)."""


def gather(adapters: Sequence[Adapter], name: str) -> np.ndarray:
    """Read variable `name` from many adapters (e.g. one RoadRunner instance per spine)."""
    return np.fromiter((a.get(name) for a in adapters), dtype=float, count=len(adapters))


def scatter(adapters: Sequence[Adapter], name: str, values: Sequence[float] | np.ndarray) -> None:
    """Set variable `name` on many adapters, one value each."""
    values = np.asarray(values, dtype=float)
    if values.shape != (len(adapters),):
        raise AdapterError(f"scatter {name}: {len(adapters)} adapters but {values.shape} values")
    for a, v in zip(adapters, values, strict=True):
        a.set(name, float(v))
