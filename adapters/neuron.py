"""NeuronAdapter: one NEURON model (built by any Python callable or hoc file) behind the contract.

Variables are `section(x).rangevar` names (`soma(0.5).v`, `dend(0.3).gnabar_hh`), resolved
to a NEURON pointer on first use (units from NEURON's metadata, roles from the mechanism's
PARAMETER/ASSIGNED/STATE blocks), plus the names a model object defines through
`timescales_variables()` and names given to `register`. NEURON's `h` is a process-wide
singleton, so only one adapter may be open per process; closing it deletes its sections.

Advancing: fixed steps of `dt_ms` through `ParallelContext.psolve` (a target off the step grid
ends with one shorter step). Watches (see `_neuron_watch`): rising crossings of pointers are
native NetCon thresholds and stop `psolve` at the end of the crossing step; falling/either
crossings, pointer-less variables and pointers the model's own NetCons watch are compared
before and after every step with numpy. With `cvode=True`, watches are checked every `dt_ms`.
On several NEURON threads (`ParallelContext.nthread`) every watch is compared so, steps go
through `fadvance` and recordings are polled between steps (`_neuron_record`): a NetCon
callback would run on the thread that detected the crossing, and `psolve` refuses steps as
long as the shortest NetCon delay (quiet steps of 1 ms).

Quiet periods: with fixed steps, when the span to `until_ms` is at least `jump_min_ms`, no input
is queued before it (`next_event_time`) and every state's rate of change is below
`rest_tol_per_ms` (max |dy/dt| = r over all states, each in its own unit per ms), the adapter
sets `h.t` forward without integrating (states kept), as far as r * span stays short of every
watch level. While the rates do not grow (a cell relaxing towards rest), no state is then
off by more than r * span. The rates come from CVode's right-hand side
(`rest_check="cvode"`, no step taken) or, for models CVode refuses and with
`rest_check="step"`, from the change over one regular step. Long advances check again as
they go: a failed check waits `jump_min_ms` of model time, each further failure twice as
long, up to `jump_max_wait_ms`.

Quiet steps (`quiet_dt_ms`, off by default): while no window reads the model
(`observed`) and once `quiet_after_ms` have passed since the last input
(`next_event_time`), initialization, restore or external change (NetCon weights excepted),
the adapter integrates with the longer step `quiet_dt_ms` (backward Euler is stable there),
ending one regular step before the next input; watches stay armed. The tests bound the
error against regular steps throughout.
"""

from __future__ import annotations

import copy
import gc
import math
import sys
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from timescales.adapter import Adapter, Capabilities, Reached, Samples, Series, Variable, Watch
from timescales.errors import AdapterError, ModelError

from ._imports import import_neuron
from ._neuron_checkpoint import (
    RangeValues,
    netcon_weights,
    savestate_bytes,
    savestate_from_bytes,
    set_netcon_weights,
)
from ._neuron_names import Entry, NameResolver, entry_from_model_var
from ._neuron_record import Recordings, samples_of
from ._neuron_rest import STEP_TOL, QuietSteps, RestJump, RestProbe, Segment
from ._neuron_watch import Armed, NativeWatches, StderrTrap, SteppedCheck, split

Build = Callable[[], object] | str | Path | None
_PTR_CACHE_SIZE = 64
_CHECK_CACHE_SIZE = 16


@dataclass(frozen=True, slots=True)
class Stepping:
    """How a NeuronAdapter integrates besides its fixed step `dt_ms` (the module docstring
    describes each mechanism); the defaults are regular steps with the jump over rest."""

    #: NEURON's variable-step solver (CVode) instead of fixed steps; watches are then
    #: checked every `dt_ms`.
    cvode: bool = False
    #: The interval every `record` call gets instead of the one it asks for (None: as
    #: asked); rounded to whole steps either way.
    record_dt_ms: float | None = None
    #: The jump over rest happens when no state changes faster than this, each in its own
    #: unit per ms (None: never jump).
    rest_tol_per_ms: float | None = 1e-7
    #: The shortest stretch worth a rest check, and how long (model time) a failed check
    #: waits before the next; each further failure doubles the wait, up to
    #: `jump_max_wait_ms`.
    jump_min_ms: float = 5.0
    jump_max_wait_ms: float = 1000.0
    #: How the rates of change are found: from CVode's right-hand side ("cvode"; one
    #: regular step for a model CVode refuses) or always over one regular step ("step").
    rest_check: Literal["cvode", "step"] = "cvode"
    #: The longer step while no window reads the model and no input came for
    #: `quiet_after_ms` (None: regular steps throughout); at least the adapter's `dt_ms`.
    quiet_dt_ms: float | None = None
    #: How long after an input, initialization, restore or change from outside quiet steps
    #: wait.
    quiet_after_ms: float = 100.0

    def __post_init__(self) -> None:
        names = (
            "record_dt_ms",
            "rest_tol_per_ms",
            "quiet_dt_ms",
            "jump_min_ms",
            "jump_max_wait_ms",
        )
        for name in names:
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise AdapterError(f"Stepping.{name} must be a finite number > 0, got {value!r}")
        if not (math.isfinite(self.quiet_after_ms) and self.quiet_after_ms >= 0):
            raise AdapterError(
                f"Stepping.quiet_after_ms must be a finite number >= 0, got {self.quiet_after_ms!r}"
            )
        if self.rest_check not in ("cvode", "step"):
            raise AdapterError(
                f"Stepping.rest_check must be 'cvode' or 'step', got {self.rest_check!r}"
            )


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """What `save_state` keeps: NEURON's SaveState plus the adapter's own bookkeeping."""

    state: Any
    netcons: frozenset[str]
    archives: dict[str, list[Any]]


@dataclass(frozen=True, slots=True)
class _PointerGroup:
    """A PtrVector over several variables, its buffer, and the bound calls (looked up once).

    `names` is the list it was made for; `event_only`: every one of them acts only at the
    next input (writing them does not delay quiet steps).
    """

    names: list[str]
    event_only: bool
    pointers: Any
    buffer: Any
    view: np.ndarray
    gather: Callable[[Any], object]
    scatter: Callable[[Any], object]


class _Variables(Mapping[str, Variable]):
    """Registered and already-resolved variables; other `section(x).var` names resolve on lookup."""

    def __init__(self, adapter: NeuronAdapter) -> None:
        self._adapter = adapter

    def __getitem__(self, name: str) -> Variable:
        return self._adapter.variable(name)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._adapter._entries))

    def __len__(self) -> int:
        return len(self._adapter._entries)


class NeuronAdapter(Adapter):
    """A NEURON model driven by the scheduler (fixed step by default; one per process)."""

    kind: ClassVar[str] = "neuron"
    capabilities: ClassVar[Capabilities] = Capabilities(
        native_watches=True, save_restore=True, records=True
    )
    _live: ClassVar[weakref.ref[NeuronAdapter] | None] = None

    def __init__(
        self,
        build: Build = None,
        *,
        label: str = "neuron",
        dt_ms: float = 0.025,
        stepping: Stepping = Stepping(),
        celsius: float | None = None,
        v_init_mV: float | None = None,
        mod_dir: str | Path | None = None,
    ) -> None:
        """Build the model now (mechanisms from `mod_dir` compiled and loaded first).

        `build`: None (use the sections already in NEURON), a callable returning the model
        object (kept as `self.model`; its `timescales_variables()` and `next_input_ms(t_ms)`
        are used when present) or a .hoc file. `dt_ms` is the fixed step; `stepping` the
        other integration options. `celsius`/`v_init_mV` None keep NEURON's current
        temperature and the membrane potentials the model set.
        """
        super().__init__(label)
        _check_steps(self.label, dt_ms, stepping)
        self._claim_process()
        self.dt_ms = float(dt_ms)
        self.stepping = stepping
        self.celsius = celsius
        self.v_init_mV = v_init_mV
        self._step_ms = self.dt_ms
        self._quiet: QuietSteps | None = None
        if stepping.quiet_dt_ms is not None:
            self._quiet = QuietSteps(self.dt_ms, stepping.quiet_dt_ms, stepping.quiet_after_ms)
        self._h = self._load(mod_dir)
        self._sections_before = set(self._h.allsec())
        try:
            self.model = self._build(build)
        except BaseException:
            self._delete_new_sections()
            NeuronAdapter._live = None
            raise
        self._pc = self._h.ParallelContext()
        # psolve arms a SIGALRM watchdog (default 20 s) that aborts the process when t stops
        # moving, and disarms it on return; a watch unwinds psolve before that, so it is off.
        self._pc.timeout(0)
        self._threads = 1
        self._resolver = NameResolver(self._h, self.label)
        self._entries: dict[str, Entry] = self._model_entries()
        self._native = NativeWatches(self._h)
        self._ptr_cache: dict[tuple[str, ...], _PointerGroup] = {}
        self._read: _PointerGroup | None = None
        self._written: _PointerGroup | None = None
        self._checks: dict[tuple[object, ...], SteppedCheck] = {}
        self._stderr = StderrTrap()
        self._rest = RestProbe(self._h, self._stderr, try_cvode=stepping.rest_check == "cvode")
        self._jump: RestJump | None = None
        if stepping.rest_tol_per_ms is not None:
            self._jump = RestJump(
                self._h,
                self.dt_ms,
                stepping.rest_tol_per_ms,
                stepping.jump_min_ms,
                stepping.jump_max_wait_ms,
            )
        self._recordings = Recordings(self._h)
        self._range_values = RangeValues(self._h)

    @classmethod
    def for_cell(cls, build: Callable[[], object], options: Mapping[str, Any]) -> NeuronAdapter:
        """The adapter an experiment's `[cell]` table asks for (`options`: the table's data)."""
        stepping = Stepping(
            quiet_dt_ms=options["quiet_dt_ms"] or None,
            quiet_after_ms=options["quiet_after_ms"],
            rest_tol_per_ms=options["rest_tol_per_ms"] or None,
        )
        return cls(
            build,
            label="neuron",
            dt_ms=options["dt_ms"],
            stepping=stepping,
            v_init_mV=options["v_init_mV"],
        )

    @property
    def n_jumps(self) -> int:
        """How many stretches at rest the adapter jumped over."""
        return self._jump.n_jumps if self._jump is not None else 0

    @property
    def n_rest_checks(self) -> int:
        """How many times the adapter measured whether the model was at rest."""
        return self._jump.n_checks if self._jump is not None else 0

    @property
    def jumped_ms(self) -> float:
        """Model time jumped over (ms)."""
        return self._jump.jumped_ms if self._jump is not None else 0.0

    @property
    def coarse_ms(self) -> float:
        """Model time integrated with quiet steps (ms)."""
        return self._quiet.coarse_ms if self._quiet is not None else 0.0

    # ------------------------------------------------------------ construction
    def _claim_process(self) -> None:
        live = NeuronAdapter._live() if NeuronAdapter._live is not None else None
        if live is not None and not live._closed:
            raise AdapterError(
                f"{self.label}: a NeuronAdapter ({live.label!r}) is already open in this "
                "process; NEURON's h is a singleton: close() it first or use another process"
            )
        NeuronAdapter._live = weakref.ref(self)

    def _load(self, mod_dir: str | Path | None) -> Any:
        try:
            neuron = import_neuron()
        except BaseException:
            NeuronAdapter._live = None
            raise
        if mod_dir is not None:
            from ._nrnivmodl import ensure_mechanisms

            ensure_mechanisms(Path(mod_dir))
        h = neuron.h
        h.load_file("stdrun.hoc")
        return h

    def _build(self, build: Build) -> object:
        if build is None:
            return None
        if isinstance(build, str | Path):
            path = Path(build)
            if not path.is_file():
                raise ModelError(f"{self.label}: hoc file {path} does not exist")
            try:
                loaded = self._h.load_file(1, str(path))
            except RuntimeError as exc:
                raise ModelError(f"{self.label}: NEURON could not load {path}: {exc}") from exc
            if not loaded:
                raise ModelError(f"{self.label}: NEURON could not load {path}")
            return None
        if callable(build):
            return build()
        raise ModelError(
            f"{self.label}: build must be None, a callable or a .hoc path, got {build!r}"
        )

    def _delete_new_sections(self) -> None:
        """Delete the sections made since the adapter started (its model's and its own)."""
        for sec in list(self._h.allsec()):
            if sec not in self._sections_before:
                self._h.delete_section(sec=sec)

    def _model_entries(self) -> dict[str, Entry]:
        define = getattr(self.model, "timescales_variables", None)
        if define is None:
            return {}
        return {name: entry_from_model_var(name, spec) for name, spec in define().items()}

    # ------------------------------------------------------------------ names
    def register(
        self,
        name: str,
        *,
        ref: Any = None,
        getter: Callable[[], float] | None = None,
        setter: Callable[[float], None] | None = None,
        unit: str = "1",
        role: str = "output",
        description: str = "",
        section: Any = None,
        event_only: bool = False,
    ) -> Variable:
        """Expose a NEURON pointer (`ref`, e.g. `syn._ref_g`) or a getter/setter pair as `name`.

        Naming the `section` that owns `ref` lets rising watches on it be native NetCons.
        `event_only`: writing it acts only at the next input (a NetCon weight), so it does not
        delay quiet steps.
        """
        spec = _Spec(unit, role, ref, getter, setter, description, section, event_only)
        self._entries[name] = entry_from_model_var(name, spec)
        return self._entries[name].variable

    def variables(self) -> Mapping[str, Variable]:
        return _Variables(self)

    def _lookup(self, name: str) -> Variable:
        """Names resolve on first use (`section(x).var`, or one the model registered)."""
        self._check_open()
        return self._entry(name).variable

    def _entry(self, name: str) -> Entry:
        entry = self._entries.get(name)
        if entry is None:
            entry = self._resolver.resolve(name, self._name_hints())
            self._entries[name] = entry
        return entry

    def _name_hints(self) -> list[str]:
        return [*self._entries, *(f"{sec.name()}(0.5).v" for sec in self._h.allsec())]

    # ------------------------------------------------------------------ state
    def _initialize(self, t0_ms: float) -> None:
        h = self._h
        self._clamps = [clamp for clamp in h.List("IClamp") if clamp.has_loc()]
        h.dt = self.dt_ms
        if self.celsius is not None:
            h.celsius = self.celsius
        h.cvode.active(1 if self.stepping.cvode else 0)
        self._threads = int(self._pc.nthread())
        if self.stepping.cvode and self._threads > 1:
            raise AdapterError(
                f"{self.label}: cvode=True on {self._threads} NEURON threads: the adapter "
                "steps several threads with the fixed step only; set cvode=False or one thread"
            )
        self._pc.set_maxstep(10)
        if self.v_init_mV is None:
            h.finitialize()
        else:
            h.finitialize(self.v_init_mV)
        if t0_ms != 0.0:
            h.t = t0_ms
            h.frecord_init()
            if self.stepping.cvode:
                h.cvode.re_init()
        self._recordings.initialized(t0_ms)
        self._native.disarm()
        if self._jump is not None:
            self._jump.recheck()
        if self._quiet is not None:
            self._quiet.restart(t0_ms)

    def _get(self, name: str) -> float:
        return self._entry(name).get()

    def _set(self, name: str, value: float) -> None:
        entry = self._entry(name)
        entry.set(value)
        self._after_external_change(entry.event_only)

    def _after_external_change(self, event_only: bool = False) -> None:
        """Rest checks start afresh; quiet steps wait `quiet_after_ms` unless only values that
        act at the next input (NetCon weights) changed."""
        if self._jump is not None:
            self._jump.recheck()
        if self._quiet is not None and not event_only:
            self._quiet.restart(float(self._h.t))
        if self.stepping.cvode:
            self._h.cvode.re_init()

    def _get_many(self, names: list[str]) -> Sequence[float]:
        group = self._read
        if group is None or group.names != names:
            group = self._read = self._pointers(names)
        if group is None:
            return [self._entry(n).get() for n in names]
        group.gather(group.buffer)
        return group.view.copy()

    def _set_many(self, names: list[str], values: np.ndarray) -> None:
        group = self._written
        if group is None or group.names != names:
            group = self._written = self._pointers(names)
        if group is None:
            for n, v in zip(names, values, strict=True):
                self._entry(n).set(float(v))
            event_only = all(self._entry(n).event_only for n in names)
        else:
            group.view[:] = values
            group.scatter(group.buffer)
            event_only = group.event_only
        self._after_external_change(event_only)

    def _pointers(self, names: list[str]) -> _PointerGroup | None:
        """The cached pointer group of `names`, or None if one of them has no pointer.

        `_get_many` and `_set_many` first compare `names` with the list they used last: for a
        long list that costs a fraction of hashing a tuple of it.
        """
        key = tuple(names)
        cached = self._ptr_cache.get(key)
        if cached is not None:
            return cached
        entries = [self._entry(n) for n in names]
        if not entries or any(e.ref is None for e in entries):
            return None
        ptrs = self._h.PtrVector(len(entries))
        for i, e in enumerate(entries):
            ptrs.pset(i, e.ref)
        buffer = self._h.Vector(len(entries))
        if len(self._ptr_cache) >= _PTR_CACHE_SIZE:
            self._ptr_cache.pop(next(iter(self._ptr_cache)))
        event_only = all(e.event_only for e in entries)
        group = _PointerGroup(
            list(key), event_only, ptrs, buffer, buffer.as_numpy(), ptrs.gather, ptrs.scatter
        )
        self._ptr_cache[key] = group
        return group

    # ---------------------------------------------------------------- advance
    def _advance(self, until_ms: float, watches: tuple[Watch, ...]) -> Reached:
        armed = [Armed(w, self._entry(w.variable)) for w in watches]
        if self.stepping.cvode:
            return self._advance_cvode(until_ms, armed)
        self._step_ms = self.dt_ms
        self._h.dt = self.dt_ms
        while float(self._h.t) < until_ms - STEP_TOL * self.dt_ms:
            fired = self._jump_if_quiet(until_ms, armed)
            if fired:
                return self._finish(until_ms, fired, watches)
            if float(self._h.t) >= until_ms - STEP_TOL * self.dt_ms:
                break
            segment = self._until_next_check(self._next_segment(until_ms))
            self._step_ms = segment.step_ms
            self._h.dt = self._step_ms
            t0 = float(self._h.t)
            try:
                fired = self._steps(segment.end_ms, armed)
            finally:
                self._step_ms = self.dt_ms
                self._h.dt = self.dt_ms
            if self._quiet is not None:
                next_input = getattr(self.model, "next_input_ms", None)
                self._quiet.ran(segment, t0, float(self._h.t), next_input)
            if fired:
                return self._finish(until_ms, fired, watches)
        return self._finish(until_ms, [], watches)

    def _steps(self, until_ms: float, armed: list[Armed]) -> list[Watch]:
        """Steps of `_step_ms` to `until_ms`; the watches that fired (then `h.t` is there)."""
        if self._threads > 1:
            if armed:
                return self._steps_checked(until_ms, armed)
            return self._steps_unchecked(until_ms)
        native, _ = split(armed, self._native.shared)
        self._native.prepare(native)
        native, stepped = split(armed, self._native.shared)
        if stepped:
            self._native.disarm()
            return self._steps_checked(until_ms, armed)
        if not native:
            self._native.disarm()
            return self._steps_unchecked(until_ms)
        self._native.arm(native, float(self._h.t))
        n, _ = self._steps_to(until_ms)
        if n > 1:
            t_bulk = float(self._h.t) + (n - 1) * self._step_ms
            fired = self._run(lambda: self._pc.psolve(t_bulk))
            if fired:
                return fired
        # The last step is checked here: NEURON checks its thresholds only in the next step.
        return self._steps_checked(until_ms, native)

    def _next_segment(self, until_ms: float) -> Segment:
        """The next run of steps: regular ones to `until_ms` unless quiet steps are on."""
        if self._quiet is None:
            return Segment(until_ms, self.dt_ms, False)
        t_input = self._next_event_time()
        return self._quiet.segment(float(self._h.t), until_ms, t_input, self.observed)

    def _until_next_check(self, segment: Segment) -> Segment:
        """`segment` cut at the first whole step past the next rest check, so that a long
        advance checks for rest again as it goes."""
        jump = self._jump
        if jump is None:
            return segment
        t = float(self._h.t)
        check_ms = max(jump.next_check_ms, t + jump.min_ms)
        if check_ms >= segment.end_ms - jump.min_ms:
            return segment
        n = math.ceil((check_ms - t) / segment.step_ms - STEP_TOL)
        return segment._replace(end_ms=t + n * segment.step_ms)

    def _steps_to(self, until_ms: float) -> tuple[int, float]:
        """Whole steps to `until_ms` and the remainder (0 when `until_ms` is on the grid)."""
        span = until_ms - float(self._h.t)
        n = max(0, math.floor(span / self._step_ms + STEP_TOL))
        rest = span - n * self._step_ms
        return n, (rest if rest > STEP_TOL * self._step_ms else 0.0)

    def _steps_unchecked(self, until_ms: float) -> list[Watch]:
        n, rest = self._steps_to(until_ms)
        if n and self._threads > 1:
            for _ in range(n):
                self._partial_step()
        elif n:
            self._pc.psolve(float(self._h.t) + n * self._step_ms)
        if rest:
            self._partial_step(rest)
        return []

    def _steps_checked(self, until_ms: float, armed: Sequence[Armed]) -> list[Watch]:
        """Step by step, comparing the watched values before and after each step."""
        check = self._check(armed)
        n, rest = self._steps_to(until_ms)
        before = check.values()
        for i in range(n + (1 if rest else 0)):
            fired = self._run(lambda last=(i == n): self._partial_step(rest if last else 0.0))
            if fired:
                return fired
            after = check.values()
            crossed = check.crossed(before, after)
            if crossed:
                return [armed[j].watch for j in crossed]
            before = after
        return []

    def _check(self, armed: Sequence[Armed]) -> SteppedCheck:
        """A SteppedCheck for these watches, cached by (pointer, level, direction)."""
        key = tuple(
            (a.entry.key or a.watch.variable, a.watch.level, a.watch.direction) for a in armed
        )
        check = self._checks.get(key)
        if check is None:
            if len(self._checks) >= _CHECK_CACHE_SIZE:
                self._checks.pop(next(iter(self._checks)))
            check = self._checks[key] = SteppedCheck(self._h, armed)
        return check

    def _partial_step(self, dt_ms: float = 0.0) -> None:
        """One step; a shorter step of `dt_ms` when given (then the step is restored)."""
        if self._threads > 1:
            self._recordings.poll(float(self._h.t), dt_ms or self._step_ms)
        if not dt_ms:
            self._h.fadvance()
            return
        self._h.dt = dt_ms
        try:
            self._h.fadvance()
        finally:
            self._h.dt = self._step_ms

    def _run(self, integrate: Callable[[], object]) -> list[Watch]:
        """Call a NEURON integrator; a native watch firing unwinds it at the crossing step."""
        native = self._native
        if not native.armed:
            integrate()
            return []
        error: RuntimeError | None = None
        with self._stderr.capture() as captured:
            try:
                integrate()
            except RuntimeError as exc:
                error = exc
        if not native.stopping:
            sys.stderr.write("".join(captured))
            if error is not None:
                raise error
            return []
        native.stopping = False
        self._h.t = min(native.fired.values())
        return native.take_fired()

    def _finish(self, until_ms: float, fired: list[Watch], watches: Sequence[Watch]) -> Reached:
        t = float(self._h.t)
        if abs(t - until_ms) <= STEP_TOL * self.dt_ms:
            t = until_ms
        names = {id(w) for w in fired}
        return Reached(min(t, until_ms), tuple(w for w in watches if id(w) in names))

    def _advance_cvode(self, until_ms: float, armed: list[Armed]) -> Reached:
        """CVode: one `psolve` without watches, else watches checked every `dt_ms`."""
        watches = [a.watch for a in armed]
        if not armed:
            self._pc.psolve(until_ms)
            return self._finish(until_ms, [], watches)
        check = self._check(armed)
        before = check.values()
        while float(self._h.t) < until_ms - STEP_TOL * self.dt_ms:
            self._pc.psolve(min(until_ms, float(self._h.t) + self.dt_ms))
            after = check.values()
            crossed = check.crossed(before, after)
            if crossed:
                return self._finish(until_ms, [armed[j].watch for j in crossed], watches)
            before = after
        return self._finish(until_ms, [], watches)

    # ------------------------------------------------------------ quiet periods
    def _jump_if_quiet(self, until_ms: float, armed: Sequence[Armed]) -> list[Watch]:
        """Set h.t forward over a stretch at rest (`RestJump`; criterion in the module docstring).

        Returns the watches that fired in the trial step taken when CVode cannot evaluate the
        model's rates (then the stop is at the end of that step).
        """
        jump = self._jump
        if jump is None:
            return []
        t = float(self._h.t)
        n = jump.steps(until_ms, self._next_event_time)
        if not n or jump.near_a_level(armed):
            return []
        rate = self._rest.cvode_rate_per_ms(self.dt_ms)
        if rate is None:
            fired, rate = self._trial_step(armed)
            if fired:
                return fired
        t_from = float(self._h.t)
        jump.jump(t, n, rate, armed)
        if float(self._h.t) > t_from:
            held = {name: self._entry(name).get() for name in self._recordings.names()}
            self._recordings.jumped(t_from, held)
        return []

    def _trial_step(self, armed: Sequence[Armed]) -> tuple[list[Watch], float]:
        """One regular step that measures max |dy/dt| over all states; watches are checked."""
        self._native.disarm()
        check = self._check(armed) if armed else None
        before = check.values() if check is not None else None
        y0 = self._rest.states()
        self._partial_step()
        rate = float(np.max(np.abs(self._rest.states() - y0))) / self.dt_ms
        if check is not None and before is not None:
            crossed = check.crossed(before, check.values())
            if crossed:
                return [armed[j].watch for j in crossed], rate
        return [], rate

    def max_rate_per_ms(self) -> float | None:
        """max |dy/dt| over every state now (each in its unit per ms) from CVode's right-hand
        side; None when CVode cannot run the model (advance then measures over one step)."""
        return self._rest.cvode_rate_per_ms(self.dt_ms)

    # ------------------------------------------------------------ inputs
    def _next_event_time(self) -> float:
        """Earliest queued input after now: the model's `next_input_ms`, else NEURON's queue.

        Also counts the onsets and ends of IClamps with a non-zero amplitude (those that
        exist at `initialize`). Vector.play and other continuous drives are not seen.
        """
        h = self._h
        t = float(h.t)
        times: list[float] = []
        next_input = getattr(self.model, "next_input_ms", None)
        if next_input is not None:
            times.append(float(next_input(t)))
        else:
            for mode in (2, 3):
                tvec, objs = h.Vector(), h.List()
                if mode == 2:
                    h.cvode.event_queue_info(2, tvec, objs)
                else:
                    h.cvode.event_queue_info(3, tvec, h.Vector(), objs)
                times.extend(tvec.as_numpy().tolist())
        for clamp in self._clamps:
            if clamp.has_loc() and clamp.amp != 0.0:
                times.extend((float(clamp.delay), float(clamp.delay + clamp.dur)))
        future = [x for x in times if x > t + 1e-9]
        return min(future, default=math.inf)

    # ------------------------------------------------------------ recording
    def _record(self, names: list[str], dt_ms: float) -> None:
        """Record `names` every `record_dt_ms` (or `dt_ms`), rounded to whole steps; a
        variable asked for by several callers is recorded at the finest interval asked."""
        refs = {}
        for name in names:
            entry = self._entry(name)
            if entry.ref is None:
                raise AdapterError(f"{self.label}: {name!r} has no NEURON pointer to record")
            refs[name] = (entry.ref, entry.section)
        requested = self.stepping.record_dt_ms or dt_ms
        self._recordings.add(refs, max(1, round(requested / self.dt_ms)) * self.dt_ms)

    def _samples(self, name: str, t0_ms: float, t1_ms: float) -> Samples:
        rec = self._recordings.get(name)
        if rec is None:
            raise AdapterError(f"{self.label}: {name!r} is not recorded; call record() first")
        return samples_of(rec, t0_ms, t1_ms, float(self._h.t), self._entry(name).get())

    def series(self, name: str, t0_ms: float, t1_ms: float) -> Series:
        """Recorded values of `name` on [t0, t1) as a piecewise-constant series (record grid)."""
        rec = self.samples(name, t0_ms, t1_ms)
        values = rec.values[:-1] if len(rec.values) > 1 else rec.values
        return Series(rec.t0_ms, rec.dt_ms, values)

    def _forget_before(self, t_ms: float) -> None:
        self._recordings.forget_before(t_ms)

    # ------------------------------------------------------------ save / restore
    def _save_state(self) -> object:
        state = self._h.SaveState()
        sentinel = self._native.detach_sentinel()
        state.save()
        if sentinel:
            self._native.attach_sentinel()
        archives = self._recordings.save()
        return _Snapshot(state, frozenset(self._native.netcons), archives)

    def _restore_state(self, state: object, t_ms: float) -> None:
        if not isinstance(state, _Snapshot):
            raise AdapterError(f"{self.label}: not a NeuronAdapter snapshot: {state!r}")
        self._native.drop_since(state.netcons)
        sentinel = self._native.detach_sentinel()
        state.state.restore()
        if sentinel:
            self._native.attach_sentinel()
        self._h.dt = self.dt_ms
        if self.stepping.cvode:
            self._h.cvode.re_init()
        self._native.disarm()
        self._recordings.restore(state.archives)
        self._after_external_change()

    # ------------------------------------------------------------ checkpoints
    def _checkpoint(self) -> object:
        """SaveState as bytes, with what it misses (range PARAMETERs and ASSIGNEDs, NetCon
        weights), the watched pointers, the recordings and the step control's state.
        SaveState also holds the state of every recording and NetCon, so resuming creates
        the same ones first, in the same order."""
        state = self._h.SaveState()
        sentinel = self._native.detach_sentinel()
        state.save()
        saved = savestate_bytes(state, self._h)
        weights = netcon_weights(self._h)
        if sentinel:
            self._native.attach_sentinel()
        watched = {entry.key: name for name, entry in self._entries.items()}
        return {
            "savestate": saved,
            "range_values": self._range_values.values(),
            "netcon_weights": weights,
            "watched": [watched[key] for key in self._native.netcons],
            "recordings": self._recordings.checkpoint(),
            "h_dt_ms": float(self._h.dt),
            "step_ms": self._step_ms,
            "quiet": copy.deepcopy(self._quiet),
            "jump": None if self._jump is None else self._jump.bookkeeping(),
        }

    def _resume_from(self, state: object, t_ms: float) -> None:
        if not isinstance(state, dict) or "savestate" not in state:
            raise AdapterError(f"{self.label}: not a NeuronAdapter checkpoint")
        armed = [Armed(Watch(name, 0.0), self._entry(name)) for name in state["watched"]]
        self._native.prepare(armed)
        recordings = state["recordings"]
        refs = {n: (self._entry(n).ref, self._entry(n).section) for n in recordings}
        self._recordings.resume(recordings, refs)
        sentinel = self._native.detach_sentinel()
        try:
            savestate_from_bytes(state["savestate"], self._h).restore()
            set_netcon_weights(self._h, state["netcon_weights"])
            self._range_values.restore(state["range_values"])
        except (RuntimeError, ValueError) as exc:
            raise AdapterError(f"{self.label}: cannot resume this model: {exc}") from None
        if sentinel:
            self._native.attach_sentinel()
        self._h.dt = state["h_dt_ms"]
        self._step_ms = state["step_ms"]
        self._native.disarm()
        self._recordings.restart(float(self._h.t))
        self._quiet = copy.deepcopy(state["quiet"])
        if self._jump is not None:
            self._jump.resume(state["jump"])

    # ------------------------------------------------------------ close
    def _close(self) -> None:
        """Drop every NEURON object of this adapter and delete the sections its model built."""
        self._native.close()
        self._rest.forget()
        self._range_values.forget()
        self._stderr.close()
        self._checks.clear()
        self._ptr_cache.clear()
        self._read = self._written = None
        # Freeing Dt-recording Vectors is safe here only because the next adapter's
        # initialize() calls finitialize (which empties the event queue) before any run.
        self._recordings.clear()
        self._entries.clear()
        self._resolver.clear()
        self.model = None
        gc.collect()
        self._delete_new_sections()
        if NeuronAdapter._live is not None and NeuronAdapter._live() is self:
            NeuronAdapter._live = None


def _check_steps(label: str, dt_ms: float, stepping: Stepping) -> None:
    """The fixed step and the quiet step must be steps NEURON can take."""
    if not (math.isfinite(dt_ms) and dt_ms > 0):
        raise AdapterError(f"{label}: dt_ms must be a finite number > 0, got {dt_ms!r}")
    if stepping.quiet_dt_ms is not None and not stepping.quiet_dt_ms >= dt_ms:
        raise AdapterError(
            f"{label}: stepping.quiet_dt_ms={stepping.quiet_dt_ms!r} must be >= dt_ms={dt_ms!r}"
        )


@dataclass(frozen=True, slots=True)
class _Spec:
    """The fields `register` passes on (the same duck type as a model's NeuronVar)."""

    unit: str
    role: str
    ref: Any
    getter: Callable[[], float] | None
    setter: Callable[[float], None] | None
    description: str
    section: Any
    event_only: bool
