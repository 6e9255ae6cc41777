"""Recorded samples of NEURON variables: `Vector.record` with a fixed Dt, plus an archive.

NEURON fills a recording vector one sample per Dt, but `h.frecord_init()` (needed to start a
recording after `finitialize`) empties every recording vector. So before each restart the
live samples move into a numpy archive of segments, each on its own grid `t0 + i*Dt`.

On several threads NEURON 9 queues every Dt sample on the first thread, which then reads
variables that another thread is stepping. There the vectors are filled by `poll` before
each step instead, with the samples NEURON would take at that step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from timescales.adapter import Samples
from timescales.errors import AdapterError

_EPS_MS = 1e-9


@dataclass(slots=True)
class _Segment:
    """Samples at `t0_ms + i*dt_ms`."""

    t0_ms: float
    values: np.ndarray

    def times(self, dt_ms: float) -> np.ndarray:
        return self.t0_ms + dt_ms * np.arange(len(self.values))


@dataclass(slots=True)
class Recording:
    """One variable recorded every `dt_ms`: archived segments plus NEURON's live vector."""

    name: str
    dt_ms: float
    vector: Any
    live_t0_ms: float = 0.0
    archive: list[_Segment] = field(default_factory=list)
    #: Polled recordings (several threads): the pointer read and the next sample's time.
    ref: Any = None
    next_ms: float = 0.0

    def archive_live(self, until_ms: float = np.inf) -> None:
        """Move the live samples older than `until_ms` into the archive (NEURON empties them)."""
        values = self.vector.as_numpy()
        n = len(values)
        if until_ms < np.inf:
            n = min(n, max(0, int(np.ceil((until_ms - self.live_t0_ms) / self.dt_ms - 1e-6))))
        if n:
            self.archive.append(_Segment(self.live_t0_ms, values[:n].copy()))
        self.vector.resize(0)

    def window(self, t0_ms: float, t1_ms: float) -> tuple[np.ndarray, np.ndarray]:
        """Sample times and values touching [t0, t1], one sample either side when present."""
        segments = [*self.archive, _Segment(self.live_t0_ms, self.vector.as_numpy())]
        times = np.concatenate([s.times(self.dt_ms) for s in segments])
        values = np.concatenate([s.values for s in segments])
        lo = max(0, int(np.searchsorted(times, t0_ms - _EPS_MS)) - 1)
        hi = int(np.searchsorted(times, t1_ms + _EPS_MS)) + 1
        return times[lo:hi], values[lo:hi].copy()

    def first_time_ms(self) -> float:
        """The earliest time covered: the oldest kept sample, or the start of the recording."""
        return self.archive[0].t0_ms if self.archive else self.live_t0_ms

    def forget_before(self, t_ms: float) -> None:
        """Drop samples older than `t_ms`, keeping the last one at or before it (for holds
        and for interpolating across a jump over rest, after which the next sample may lie
        far ahead)."""
        keep_from = t_ms - self.dt_ms - _EPS_MS
        kept: list[_Segment] = []
        last: _Segment | None = None
        for seg in self.archive:
            times = seg.times(self.dt_ms)
            k = int(np.searchsorted(times, keep_from))
            if k > 0:
                last = _Segment(float(times[k - 1]), seg.values[k - 1 : k].copy())
            if k < len(times):
                kept.append(_Segment(float(times[k]), seg.values[k:]))
        n = self.vector.size()
        k = min(n, max(0, int(np.floor((keep_from - self.live_t0_ms) / self.dt_ms))))
        if k > 0:
            last = None
            self.vector.remove(0, k - 1)
            self.live_t0_ms += k * self.dt_ms
        elif n and self.live_t0_ms <= t_ms + _EPS_MS:
            last = None
        if last is not None and not (kept and kept[0].t0_ms <= t_ms + _EPS_MS):
            kept.insert(0, last)
        self.archive = kept


class Recordings:
    """The recorded variables of one adapter, by name (each in its own `Recording`)."""

    def __init__(self, h: Any) -> None:
        self._h = h
        self._by_name: dict[str, Recording] = {}
        self._retired: list[Any] = []
        self._polled: list[Recording] = []
        self._next_due_ms = np.inf

    def get(self, name: str) -> Recording | None:
        return self._by_name.get(name)

    def add(self, refs: dict[str, tuple[Any, Any]], every_ms: float) -> None:
        """Record each (pointer, section or None) of `refs` (by name) every `every_ms` from now on.

        The section, when known, makes the thread that steps it take the samples: on several
        threads a sample taken by another thread could read the value mid-step.

        A variable asked for again keeps the finer of its two intervals; its samples before
        now are dropped (they lie on the coarser grid). The coarser recording is retired, not
        removed: removing a recording mid-run (`play_remove`, or recording its Vector again)
        leaves its next sample's event in NEURON's queue pointing at freed memory, and the
        next `frecord_init` walks that queue. Retired Vectors are emptied at every restart
        and removed only when the model is closed.
        """
        t = float(self._h.t)
        for rec in self._by_name.values():
            rec.archive_live(until_ms=t)
        for name, (ref, section) in refs.items():
            old = self._by_name.get(name)
            if old is not None and old.dt_ms <= every_ms + 1e-12:
                continue
            if old is not None:
                self._retired.append(old.vector)
            vec = self._h.Vector()
            if self._threaded():
                self._by_name[name] = Recording(name, every_ms, vec, ref=ref)
                continue
            if section is None:
                vec.record(ref, every_ms)
            else:
                vec.record(ref, every_ms, sec=section)
            self._by_name[name] = Recording(name, every_ms, vec)
        self._polled = [rec for rec in self._by_name.values() if rec.ref is not None]
        self.restart(t)

    def _threaded(self) -> bool:
        return int(self._h.ParallelContext().nthread()) > 1

    def poll(self, t_ms: float, dt_ms: float) -> None:
        """Take the polled samples due by the step of `dt_ms` from `t_ms`: those at or before
        `t_ms + dt_ms / 2`, each the value now, as NEURON delivers its sample events."""
        due_ms = t_ms + 0.5 * dt_ms
        if due_ms < self._next_due_ms:
            return
        for rec in self._polled:
            n = 0
            while rec.next_ms <= due_ms:
                rec.next_ms += rec.dt_ms
                n += 1
            if n:  # one call for a long step's samples (40 in a 1 ms quiet step)
                rec.vector.append(*(rec.ref[0],) * n)
        self._next_due_ms = min((rec.next_ms for rec in self._polled), default=np.inf)

    def _restart_polled(self, t_ms: float) -> None:
        """Polled recordings start anew at `t_ms`, as `frecord_init` starts NEURON's."""
        for rec in self._polled:
            rec.vector.resize(0)
            rec.next_ms = t_ms
        self._next_due_ms = t_ms if self._polled else np.inf

    def restart(self, t_ms: float) -> None:
        """Start NEURON's recording anew at `t_ms` (it empties every live vector)."""
        self._h.frecord_init()
        for rec in self._by_name.values():
            rec.live_t0_ms = t_ms
        for vector in self._retired:
            vector.resize(0)
        self._restart_polled(t_ms)

    def names(self) -> list[str]:
        return list(self._by_name)

    def jumped(self, from_ms: float, values: dict[str, float]) -> None:
        """NEURON's clock was set forward from `from_ms`, every state held: the samples so
        far are archived with the held `values` (by name) at `from_ms`, which NEURON would
        only have recorded during the next step, and recording starts anew at the new time.
        (Left alone, NEURON would record every sample the jump skipped at the next step:
        millions over an hour at rest.)"""
        for name, rec in self._by_name.items():
            rec.archive_live(until_ms=from_ms)
            rec.archive.append(_Segment(from_ms, np.array([values[name]])))
        self.restart(float(self._h.t))

    def initialized(self, t0_ms: float) -> None:
        """The model was initialized at `t0_ms`: earlier samples are gone."""
        for rec in self._by_name.values():
            rec.archive = []
            rec.live_t0_ms = t0_ms
        self._restart_polled(t0_ms)

    def forget_before(self, t_ms: float) -> None:
        for rec in self._by_name.values():
            rec.forget_before(t_ms)

    def save(self) -> dict[str, list[_Segment]]:
        """Every sample so far, archived, for a saved state (recording goes on)."""
        t = float(self._h.t)
        archives = {}
        for name, rec in self._by_name.items():
            rec.archive_live(until_ms=t)
            archives[name] = list(rec.archive)
        self.restart(t)
        return archives

    def restore(self, archives: dict[str, list[_Segment]]) -> None:
        """Return to the samples `save` returned (NEURON's clock is already back)."""
        for name, rec in self._by_name.items():
            rec.vector.resize(0)
            rec.archive = list(archives.get(name, []))
        self.restart(float(self._h.t))

    def checkpoint(self) -> dict[str, tuple[float, list[_Segment]]]:
        """Each recording's interval and samples so far (archived as `save` does)."""
        archives = self.save()
        return {name: (rec.dt_ms, archives[name]) for name, rec in self._by_name.items()}

    def resume(
        self, saved: dict[str, tuple[float, list[_Segment]]], refs: dict[str, tuple[Any, Any]]
    ) -> None:
        """Record again what a checkpoint recorded, holding its samples (`refs`: (pointer,
        section or None) by name)."""
        for name, (dt_ms, _) in saved.items():
            self.add({name: refs[name]}, dt_ms)
        self.restore({name: archive for name, (_, archive) in saved.items()})

    def clear(self) -> None:
        """Stop every recording: NEURON forgets the Vectors (`play_remove`) before Python
        frees them, whenever that happens (a freed recording Vector crashes NEURON's next
        `frecord_init`)."""
        for vector in [rec.vector for rec in self._by_name.values()] + self._retired:
            vector.play_remove()
        self._by_name.clear()
        self._retired.clear()
        self._polled.clear()


def samples_of(rec: Recording, t0_ms: float, t1_ms: float, now_ms: float, now: float) -> Samples:
    """Values of `rec` at `t0 + i*Dt` up to `t1` (inclusive), interpolating missing grid points.

    NEURON records the sample due at the current time `now_ms` only during the next step, so the
    current value `now` stands in for it; samples skipped by a quiet-period jump are filled by
    linear interpolation between their recorded neighbours (the model was at rest there).
    """
    if t0_ms < rec.first_time_ms() - _EPS_MS:
        raise AdapterError(
            f"samples of {rec.name} from {t0_ms} ms: recording starts at "
            f"{rec.first_time_ms()} ms (not recorded, or forgotten)"
        )
    times, values = rec.window(t0_ms, t1_ms)
    if t1_ms >= now_ms - _EPS_MS and (not len(times) or times[-1] < now_ms - _EPS_MS):
        times = np.append(times, now_ms)
        values = np.append(values, now)
    n = int(np.floor((t1_ms - t0_ms) / rec.dt_ms + 1e-6)) + 1
    grid = t0_ms + rec.dt_ms * np.arange(n)
    return Samples(t0_ms, rec.dt_ms, _at(grid, times, values))


def _at(grid: np.ndarray, times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Values at `grid`: recorded ones where a sample lies within 1e-9 ms, else interpolated."""
    out = np.interp(grid, times, values)
    idx = np.clip(np.searchsorted(times, grid - _EPS_MS), 0, len(times) - 1)
    exact = np.abs(times[idx] - grid) <= _EPS_MS
    out[exact] = values[idx[exact]]
    return out
