"""Recorded samples of NEURON variables: `Vector.record` with a fixed Dt, plus an archive.

NEURON fills a recording vector one sample per Dt, but `h.frecord_init()` (needed to start a
recording after `finitialize`) empties every recording vector. So before each restart the
live samples move into a numpy archive of segments, each on its own grid `t0 + i*Dt`.
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
        """Drop samples older than `t_ms`, keeping the last one at or before it (for holds)."""
        keep_from = t_ms - self.dt_ms - _EPS_MS
        kept: list[_Segment] = []
        for seg in self.archive:
            times = seg.times(self.dt_ms)
            k = int(np.searchsorted(times, keep_from))
            if k < len(times):
                kept.append(_Segment(float(times[k]), seg.values[k:]))
        self.archive = kept
        n = self.vector.size()
        k = min(n, max(0, int(np.floor((keep_from - self.live_t0_ms) / self.dt_ms))))
        if k > 0:
            self.vector.remove(0, k - 1)
            self.live_t0_ms += k * self.dt_ms


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
