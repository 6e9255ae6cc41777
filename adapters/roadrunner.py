"""The biochemical side: SBML models run in libRoadRunner, one instance per spine.

`SBMLModel.load` validates a model once and keeps ONE modified SBML string, so all instances
share one compile; each instance drops the SBML document and sensitivity memory it never uses
(`_roadrunner_lean`). `RoadRunnerAdapter` runs one instance with exact stop-and-go: it keeps the
time itself, restarts CVODE after every external change, and lets SBML events fire across chunk
boundaries. Times are ms outside and the model's own time unit inside.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from timescales import mpi
from timescales.adapter import Adapter, Capabilities, Reached, Series, Variable, Watch
from timescales.errors import AdapterError, ModelError, SolverError

from ._imports import import_roadrunner
from ._roadrunner_lean import new_runner
from ._sbml_inputs import FluxInput
from ._smooth_series import flux_pieces
from .sbml_model import SBMLModel

__all__ = ["RoadRunnerAdapter", "SBMLModel", "use_lljit"]

Tolerances = tuple[float, float] | None
#: Key of the RoadRunner `keep_compiled` keeps in a model's cache.
COMPILED = "compiled"
#: The C++ function libRoadRunner appends to its errors ("...; In virtual double rr::...").
_ROADRUNNER_PLACE = re.compile(r";\s*In [^;]*$")


def use_lljit(enabled: bool = True) -> None:
    """Compile later models with RoadRunner's LLJIT backend (faster first load) or MCJIT."""
    rr = import_roadrunner()
    backend = rr.Config.LLJIT if enabled else rr.Config.MCJIT
    rr.Config.setValue(rr.Config.LLVM_BACKEND, backend)


def keep_compiled(model: SBMLModel) -> None:
    """Keep a RoadRunner compiled from `model` alive as long as the model, in this process.

    libRoadRunner keeps a compiled model in its cache only while a RoadRunner compiled from
    that SBML lives (instances that loaded a saved state do not count): once the template is
    closed, every lazy instance that materializes compiles the model again (2.2 s for the
    spine network, against 0.13 s while one lives).
    """
    if COMPILED not in model.cache:
        model.cache[COMPILED] = import_roadrunner().RoadRunner(model.sbml)


def _new_runner(model: SBMLModel, tolerances: Tolerances) -> Any:
    """A lean RoadRunner of `model` (shared compiled model, no SBML document) with `tolerances`."""
    try:
        runner = new_runner(model)
    except RuntimeError as exc:
        raise ModelError(
            f"{model.source_name}: libRoadRunner cannot load the model: {exc}"
        ) from exc
    if tolerances is not None:
        rel, abs_ = tolerances
        runner.integrator.setValue("relative_tolerance", float(rel))
        runner.integrator.setValue("absolute_tolerance", float(abs_))
    return runner


@dataclass(frozen=True, slots=True)
class _StateLayout:
    """Where each entry of the integrator's state vector is read from (same for all instances)."""

    amount_slots: np.ndarray
    amount_index: np.ndarray
    other_ids: tuple[tuple[int, str], ...]
    size: int

    @classmethod
    def of(cls, model: SBMLModel, runner: Any) -> _StateLayout:
        if "layout" not in model.cache:
            exe = runner.model
            floating = {sid: i for i, sid in enumerate(exe.getFloatingSpeciesIds())}
            ids = [exe.getStateVectorId(i) for i in range(len(runner.getRatesOfChange()))]
            slots = [i for i, sid in enumerate(ids) if sid in floating]
            model.cache["layout"] = cls(
                amount_slots=np.array(slots, dtype=int),
                amount_index=np.array([floating[ids[i]] for i in slots], dtype=int),
                other_ids=tuple((i, sid) for i, sid in enumerate(ids) if sid not in floating),
                size=len(ids),
            )
        return model.cache["layout"]

    def read(self, runner: Any) -> np.ndarray:
        """The state vector: rate-rule variables and independent floating species amounts."""
        state = np.empty(self.size)
        if self.amount_slots.size:
            amounts = np.asarray(runner.model.getFloatingSpeciesAmounts(), dtype=float)
            state[self.amount_slots] = amounts[self.amount_index]
        for i, sid in self.other_ids:
            state[i] = runner.getValue(sid)
        return state


def _steady_over(
    layout: _StateLayout, runner: Any, atol: np.ndarray, rtol: float, dt_model: float
) -> bool:
    """Rest criterion: every state x has |dx/dt| * dt <= atol + rtol * |x| over the jump."""
    rates = np.asarray(runner.getRatesOfChange(), dtype=float)
    state = layout.read(runner)
    return bool(np.all(np.abs(rates) * dt_model <= atol + rtol * np.abs(state)))


@dataclass
class _Rest:
    """A state shared by unmaterialized (lazy) instances: the model's initial state, or a
    saved state restored into them (e.g. an equilibrated template's)."""

    values: dict[str, float]
    steady_rate: np.ndarray
    atol: np.ndarray
    rtol: float
    state: np.ndarray
    #: Kept so that the id in the cache key stays this object's.
    saved: bytes | None = None

    @classmethod
    def of(cls, model: SBMLModel, tolerances: Tolerances, saved: bytes | None = None) -> _Rest:
        key = ("rest", tolerances, id(saved))
        if key not in model.cache:
            runner = _new_runner(model, tolerances)
            if saved is not None:
                runner.loadStateS(saved)
            values = {
                name: float(runner.getValue(model.binding(name).selector))
                * model.binding(name).factor
                for name in model.variables()
            }
            model.cache[key] = cls(
                values=values,
                steady_rate=np.abs(np.asarray(runner.getRatesOfChange(), dtype=float)),
                atol=np.asarray(runner.integrator.getAbsoluteToleranceVector(), dtype=float),
                rtol=float(runner.integrator.getValue("relative_tolerance")),
                state=np.abs(_StateLayout.of(model, runner).read(runner)),
                saved=saved,
            )
        return model.cache[key]

    def steady_over(self, dt_model: float, atol_floor: float) -> bool:
        atol = np.maximum(self.atol, atol_floor)
        return bool(np.all(self.steady_rate * dt_model <= atol + self.rtol * self.state))


@dataclass
class _SeriesFeed:
    """A series being delivered through a flux input's knots, `knots` pieces per restart;
    `pieces` holds each piece's flux coefficients (`flux_pieces`), one column per piece."""

    flux: FluxInput
    t0_ms: float
    dt_ms: float
    pieces: np.ndarray
    loaded: int = 0
    chunk_end_ms: float = -math.inf

    @property
    def exhausted(self) -> bool:
        return self.loaded >= self.pieces.shape[1]


class RoadRunnerAdapter(Adapter):
    """One libRoadRunner instance of an `SBMLModel` (e.g. the biochemistry of one spine).

    Lazy instances create no RoadRunner until an input changes or the model must integrate.
    An instance is fast-forwarded without integrating over a jump Δt when nothing drives it
    (no time-dependent math or events, no input series pending) and it is at steady state:
    every state x (rate-rule variables, floating species amounts) has
    |dx/dt|·Δt <= atol_x + rtol·|x|, with the model's rates and the integrator's tolerances;
    `rest_atol` (model amount units) raises atol_x to a floor, e.g. 1e-24 mol (0.6 molecules),
    so that species at sub-molecule levels drifting towards zero do not count as activity.
    Watches step CVODE one internal step at a time, and bisect (restoring the state) to
    within `watch_tol_ms` of a crossing; the adapter stops just after it, never beyond.
    """

    kind = "roadrunner"
    capabilities = Capabilities(native_watches=True, save_restore=True, series_input=True)

    def __init__(
        self,
        model: SBMLModel,
        label: str = "",
        *,
        lazy: bool = False,
        integrator_tolerances: Tolerances = None,
        watch_tol_ms: float = 1e-6,
        rest_atol: float = 0.0,
    ) -> None:
        super().__init__(label or model.model_id)
        self.model = model
        self.lazy = lazy
        self.watch_tol_ms = watch_tol_ms
        self.rest_atol = rest_atol
        self._tolerances = integrator_tolerances
        self._ms = model.ms_per_time_unit
        self._runner: Any = None if lazy else _new_runner(model, integrator_tolerances)
        self._restart = True
        self._feeds: dict[str, _SeriesFeed] = {}
        self._rest_state: bytes | None = None
        self._tolerance_vectors: tuple[np.ndarray, float] | None = None
        #: Advances (or parts) skipped at steady state instead of integrated.
        self.n_fast_forwards = 0

    @classmethod
    def many(
        cls,
        model: SBMLModel,
        n: int,
        labels: Sequence[str] | None = None,
        *,
        lazy: bool = True,
        integrator_tolerances: Tolerances = None,
        rest_atol: float = 0.0,
    ) -> list[RoadRunnerAdapter]:
        """`n` instances of one model (one compile), labelled `labels` or "<model>[i]"."""
        if labels is not None and len(labels) != n:
            raise AdapterError(f"many: {n} instances but {len(labels)} labels")
        names = labels or [f"{model.model_id}[{i}]" for i in range(n)]
        return [
            cls(
                model,
                name,
                lazy=lazy,
                integrator_tolerances=integrator_tolerances,
                rest_atol=rest_atol,
            )
            for name in names
        ]

    # ------------------------------------------------- an experiment's biochemistry
    @classmethod
    def load_model(
        cls,
        source: Any,
        flux_inputs: Mapping[str, str] | None = None,
        switches: Sequence[str] = (),
        assume_units: Mapping[str, str] | None = None,
    ) -> SBMLModel:
        """The model an experiment's `[biochemistry] model` names, prepared for coupling
        (`assume_units`: units of variables the model declares none for)."""
        return SBMLModel.load(
            source, flux_inputs=flux_inputs, switches=tuple(switches), assume_units=assume_units
        )

    @classmethod
    def template(cls, model: SBMLModel, tolerances: Tolerances) -> RoadRunnerAdapter:
        """One instance to equilibrate, whose state every spine's instance starts from."""
        keep_compiled(model)
        return cls(model, label="template", integrator_tolerances=tolerances)

    @classmethod
    def instances(
        cls, model: SBMLModel, labels: Sequence[str], tolerances: Tolerances, workers: int
    ) -> tuple[list[Adapter], Any]:
        """One lazy instance per label, in `workers` processes (0: here), or on the other MPI
        ranks when this process leads a run over ranks (`workers` then unused); and the pool
        to close after the run (None without workers or ranks). Pools place the instances
        round-robin in the order of `labels`."""
        leader = mpi.leader()
        if leader is not None:
            from .roadrunner_ranks import RoadRunnerRanks

            ranks = RoadRunnerRanks(model, leader, tolerances)
            return list(ranks.adapters(labels, lazy=True)), ranks
        if workers > 0:
            from .roadrunner_pool import RoadRunnerPool

            pool = RoadRunnerPool(model, workers=workers, tolerances=tolerances)
            return list(pool.adapters(labels, lazy=True)), pool
        keep_compiled(model)
        many = cls.many(
            model, len(labels), labels=labels, lazy=True, integrator_tolerances=tolerances
        )
        return list(many), None

    @staticmethod
    def get_all(instances: Sequence[RoadRunnerAdapter], names: Sequence[str]) -> np.ndarray:
        """Values of `names` in every instance: array of shape (instances, names)."""
        return np.array([a.get_many(names) for a in instances], dtype=float).reshape(
            len(instances), len(names)
        )

    @staticmethod
    def set_all(
        instances: Sequence[RoadRunnerAdapter], names: Sequence[str], values: np.ndarray
    ) -> None:
        """Set `names` in every instance from rows of `values` (shape (instances, names))."""
        values = np.asarray(values, dtype=float)
        if values.shape != (len(instances), len(names)):
            raise AdapterError(
                f"set_all: expected values of shape {(len(instances), len(names))}, "
                f"got {values.shape}"
            )
        for adapter, row in zip(instances, values, strict=True):
            adapter.set_many(names, row)

    @property
    def materialized(self) -> bool:
        """Whether this instance holds a RoadRunner (lazy ones start without)."""
        return self._runner is not None

    # ------------------------------------------------------------------ contract
    def variables(self) -> Mapping[str, Variable]:
        return self.model.variables()

    def _initialize(self, t0_ms: float) -> None:
        self._feeds.clear()
        self._rest_state = None
        if self._runner is not None and self.initialized:
            if self.lazy:
                self._runner = None
            else:
                self._runner.resetAll()
        self._restart = True

    def _advance(self, until_ms: float, watches: tuple[Watch, ...]) -> Reached:
        if self._runner is None:
            rest = self._rest()
            if not self.model.time_dependent and rest.steady_over(
                (until_ms - self._t_ms) / self._ms, self.rest_atol
            ):
                self.n_fast_forwards += 1
                return Reached(until_ms)
            self._materialize()
        t_ms = self._t_ms
        while True:
            self._feed_series(t_ms)
            end_ms = min([until_ms, *(f.chunk_end_ms for f in self._pending(t_ms))])
            if end_ms > t_ms and self._can_jump(end_ms - t_ms):
                self._restart = True
                self.n_fast_forwards += 1
            elif end_ms > t_ms:
                reached = self._integrate(t_ms, end_ms, watches)
                if reached.fired:
                    return reached
            t_ms = end_ms
            if t_ms >= until_ms:
                return Reached(until_ms)

    def _get(self, name: str) -> float:
        if self._runner is None:
            return self._rest().values[name]
        binding = self.model.binding(name)
        return float(self._runner.getValue(binding.selector)) * binding.factor

    def _set(self, name: str, value: float) -> None:
        if self._runner is None:
            if self._rest().values[name] == value:
                return
            self._materialize()
        binding = self.model.binding(name)
        self._runner.setValue(binding.selector, value / binding.factor)
        self._restart = True

    def _takes_series(self, name: str) -> bool:
        return self.model.flux_input(name) is not None

    def _set_series(self, name: str, series: Series) -> None:
        flux = self.model.flux_input(name)
        if flux is None:
            inputs = [f.parameter for f in self.model.flux_inputs.values()]
            raise AdapterError(
                f"{self.label}: only flux inputs take a series; {name!r} is not one "
                f"(flux inputs: {', '.join(inputs) or 'none, see SBMLModel.load(flux_inputs=...)'})"
            )
        if self._runner is None:
            self._materialize()
        values = np.asarray(series.values, dtype=float)
        if not np.all(np.isfinite(values)):
            raise AdapterError(f"{self.label}: series for {name} has non-finite values")
        pieces = flux_pieces(values, series.dt_ms / self._ms)
        feed = _SeriesFeed(flux, series.t0_ms, series.dt_ms, pieces)
        self._feeds[name] = feed
        self._load_chunk(feed)

    def _save_state(self) -> object:
        """RoadRunner's full state; the integrator restarts here too, so replays are exact."""
        if self._runner is None:
            return None if self._rest_state is None else (self._rest_state, {})
        self._restart = True
        return (self._runner.saveStateS(), copy.deepcopy(self._feeds))

    def _restore_state(self, state: object, t_ms: float) -> None:
        """An unmaterialized lazy instance stays so: it rests at the restored state until
        needed (one reference RoadRunner per distinct state: restore the same object into
        many spines). A materialized instance loads the state into its own RoadRunner."""
        saved, feeds = (None, {}) if state is None else state  # type: ignore[misc]
        self._feeds = copy.deepcopy(feeds)
        self._restart = True
        if self.lazy and (self._runner is None or saved is None):
            self._runner = None
            self._rest_state = saved
            if self._feeds:
                self._materialize()
        elif saved is None:
            self._runner.resetAll()
        else:
            self._runner.loadStateS(saved)

    def _close(self) -> None:
        self._runner = None
        self._feeds.clear()

    # ------------------------------------------------------------------ internals
    def _rest(self) -> _Rest:
        return _Rest.of(self.model, self._tolerances, self._rest_state)

    def _materialize(self) -> None:
        self._runner = _new_runner(self.model, self._tolerances)
        if self._rest_state is not None:
            self._runner.loadStateS(self._rest_state)
        self._restart = True

    def _pending(self, t_ms: float) -> list[_SeriesFeed]:
        return [f for f in self._feeds.values() if f.chunk_end_ms > t_ms]

    def _feed_series(self, t_ms: float) -> None:
        """Load the next knots of every series whose loaded chunk ends at `t_ms`."""
        for name, feed in list(self._feeds.items()):
            if feed.chunk_end_ms > t_ms:
                continue
            if feed.exhausted:
                del self._feeds[name]
            else:
                self._load_chunk(feed)

    def _load_chunk(self, feed: _SeriesFeed) -> None:
        flux, runner = feed.flux, self._runner
        chunk = feed.pieces[:, feed.loaded : feed.loaded + len(flux.knots)]
        for ids, row in zip((flux.knots, flux.slopes, flux.curves), chunk, strict=True):
            for knot, value in zip(ids, row, strict=False):
                runner.setValue(knot, float(value))
        runner.setValue(flux.t0, (feed.t0_ms + feed.loaded * feed.dt_ms) / self._ms)
        runner.setValue(flux.dt, feed.dt_ms / self._ms)
        runner.setValue(flux.n, float(chunk.shape[1]))
        feed.loaded += chunk.shape[1]
        feed.chunk_end_ms = feed.t0_ms + feed.loaded * feed.dt_ms
        self._restart = True

    def _can_jump(self, dt_ms: float) -> bool:
        if self.model.time_dependent or self._feeds:
            return False
        if self._tolerance_vectors is None:
            integrator = self._runner.integrator
            self._tolerance_vectors = (
                np.asarray(integrator.getAbsoluteToleranceVector(), dtype=float),
                float(integrator.getValue("relative_tolerance")),
            )
        atol, rtol = self._tolerance_vectors
        atol = np.maximum(atol, self.rest_atol)
        layout = _StateLayout.of(self.model, self._runner)
        return _steady_over(layout, self._runner, atol, rtol, dt_ms / self._ms)

    def _restart_at(self, t: float) -> None:
        self._runner.model.setTime(t)
        self._runner.integrator.restart(t)
        self._restart = False

    def _integrate(self, t0_ms: float, t1_ms: float, watches: tuple[Watch, ...]) -> Reached:
        """Integrate from `t0_ms` to `t1_ms`; a failure of the integrator is a SolverError
        naming this instance, the time the integrator reached and the model."""
        t0, t1 = t0_ms / self._ms, t1_ms / self._ms
        if self._restart:
            self._restart_at(t0)
        try:
            if not watches:
                self._runner.integrator.integrate(t0, t1 - t0)
                return Reached(t1_ms)
            return _WatchedRun(self, watches).run(t0, t1)
        except RuntimeError as exc:
            t_ms = float(self._runner.model.getTime()) * self._ms
            message = _ROADRUNNER_PLACE.sub("", str(exc))
            raise SolverError(self.label, t_ms, self.model.source_name, message) from exc

    def _watch_values(self, watches: tuple[Watch, ...]) -> list[float]:
        return [self._get(w.variable) for w in watches]

    def _snapshot(self, t: float) -> tuple[float, object]:
        """State at model time `t`, cheap unless events make the full state necessary."""
        runner = self._runner
        if self.model.has_events:
            return t, runner.saveStateS()
        symbols = runner.model.getRateRuleSymbols()
        return t, (
            np.array(runner.model.getFloatingSpeciesAmounts(), dtype=float),
            [(s, runner.getValue(s)) for s in symbols],
        )

    def _rewind(self, snapshot: tuple[float, object]) -> None:
        t, saved = snapshot
        runner = self._runner
        if isinstance(saved, bytes):
            runner.loadStateS(saved)
        else:
            amounts, rules = saved  # type: ignore[misc]
            runner.model.setFloatingSpeciesAmounts(amounts)
            for symbol, value in rules:
                runner.setValue(symbol, value)
        self._restart_at(t)


class _WatchedRun:
    """Integrate step by step until a watch fires; bisect to locate the crossing."""

    def __init__(self, adapter: RoadRunnerAdapter, watches: tuple[Watch, ...]) -> None:
        self.adapter = adapter
        self.watches = watches
        self.integrator = adapter._runner.integrator

    def _fired(self, before: list[float], after: list[float]) -> tuple[Watch, ...]:
        return tuple(
            w for w, b, a in zip(self.watches, before, after, strict=True) if w.crossed(b, a)
        )

    def _step_mode(self, variable: bool) -> None:
        self.integrator.setValue("variable_step_size", variable)

    def run(self, t0: float, t1: float) -> Reached:
        adapter = self.adapter
        before = adapter._watch_values(self.watches)
        t = t0
        try:
            while t < t1:
                snapshot = adapter._snapshot(t)
                self._step_mode(True)
                t_new = self.integrator.integrate(t, t1 - t)
                self._step_mode(False)
                if t_new >= t1:
                    adapter._rewind(snapshot)
                    self.integrator.integrate(t, t1 - t)
                    t_new = t1
                after = adapter._watch_values(self.watches)
                if self._fired(before, after):
                    return self._locate(snapshot, before, t_new)
                before, t = after, t_new
        finally:
            self._step_mode(False)
        return Reached(t1 * adapter._ms)

    def _locate(self, snapshot: tuple[float, object], before: list[float], tb: float) -> Reached:
        adapter = self.adapter
        ta = snapshot[0]
        fired_b = self._fired(before, adapter._watch_values(self.watches))
        while (tb - ta) * adapter._ms > adapter.watch_tol_ms:
            tm = 0.5 * (ta + tb)
            adapter._rewind(snapshot)
            self.integrator.integrate(ta, tm - ta)
            values = adapter._watch_values(self.watches)
            fired_m = self._fired(before, values)
            if fired_m:
                tb, fired_b = tm, fired_m
            else:
                ta, before = tm, values
                snapshot = adapter._snapshot(tm)
        adapter._rewind(snapshot)
        self.integrator.integrate(ta, tb - ta)
        fired = self._fired(before, adapter._watch_values(self.watches)) or fired_b
        return Reached(tb * adapter._ms, fired)
