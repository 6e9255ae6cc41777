"""Watches for the NEURON adapter: native NetCon thresholds and a vectorized per-step check.

Native (fixed step; rising crossings of pointer variables): one `NetCon(ref, None)` per
pointer with `record(callback)`. NEURON checks thresholds at the start of each step, on the
state the previous step produced, and calls the callback there, before the step integrates.
A callback that sees a crossing marks it and raises a sentinel: the `cm` of a tiny isolated
section (no mechanisms, so `cm` has no effect), watched by one more NetCon created after all
the others. NEURON checks that NetCon last in the same pass, so its callback runs once every
watch of the step has been seen; it raises `StopAdvance`, which unwinds `psolve` and leaves
the state at the end of the crossing step.

Stepped (falling, either, pointer-less variables, a second level on one pointer, CVode): the
adapter compares the values before and after each step (or each `dt_ms` with CVode) with numpy.
A NetCon on a negated copy would need an NMODL helper mechanism updating -x every step; the
per-step check costs about as much and needs no compiled code.

Measured with NEURON 9.0.2 (why not the simpler ways): `psolve` ignores `h.stoprun`;
`continuerun` honours it, but only after the step following the crossing (the threshold check
runs at the start of that step); a `cvode.event` at the current time is never delivered and
one just after it is delivered at the end of the following step. An exception raised in a
NetCon record callback unwinds `psolve` cleanly: continuing afterwards gives the same states,
to the last bit, as an uninterrupted run. It does leave psolve's SIGALRM watchdog armed, so
the adapter sets `ParallelContext.timeout(0)`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from timescales.adapter import Watch

from ._neuron_names import Entry

#: NEURON stamps a threshold crossing found by the fixed-step check at step time + 1e-10 ms.
THRESHOLD_TEPS_MS = 1e-10
_FIRST_CHECK_MS = 1e-8
#: Thresholds set briefly on new NetCons to find model NetCons sharing their source.
_PROBE_LEVEL = 7.77e29


class StopAdvance(Exception):
    """Raised inside NEURON to end the current run at the step where a watch fired."""


@dataclass(frozen=True, slots=True)
class Armed:
    """A watch with the entry of its variable."""

    watch: Watch
    entry: Entry


def split(armed: Sequence[Armed], shared: set[str]) -> tuple[list[Armed], list[Armed]]:
    """(native, stepped): rising watches on distinct pointers of known sections can be native.

    NEURON places a NetCon's threshold check in the section owning the pointer; a model
    variable that names no `section` is therefore checked step by step, and so is a pointer
    in `shared` (the model's own NetCons watch it: their threshold must stay theirs).
    """
    native: list[Armed] = []
    stepped: list[Armed] = []
    seen: set[str] = set()
    for a in armed:
        key, entry = a.entry.key, a.entry
        if (
            a.watch.direction == "rising"
            and entry.ref is not None
            and entry.section is not None
            and key not in seen
            and key not in shared
        ):
            native.append(a)
            seen.add(key)
        else:
            stepped.append(a)
    return native, stepped


class NativeWatches:
    """NetCon threshold watchers, one per pointer, kept across advances."""

    def __init__(self, h: Any) -> None:
        self._h = h
        self.netcons: dict[str, Any] = {}
        self._active: dict[str, Watch] = {}
        self._start_ms = 0.0
        # Created now, so that SaveState sees the same sections before and after any watch.
        self._sentinel_sec: Any = h.Section(name="timescales_stop_sentinel")
        self._sentinel: Any = None
        self.fired: dict[str, float] = {}
        self.stopping = False
        self.shared: set[str] = set()

    @property
    def armed(self) -> bool:
        return bool(self._active)

    def prepare(self, native: Sequence[Armed]) -> None:
        """Create the missing NetCons; pointers the model's NetCons watch go to `shared`.

        NetCons on one pointer share one threshold and one record callback. Each new NetCon
        gets a probe threshold first: a model NetCon whose threshold changes with it shares
        its source, gets its threshold back and keeps its own record; ours is deleted.
        """
        missing = {a.entry.key: a.entry for a in native if a.entry.key not in self.netcons}
        if not missing:
            return
        before = self._model_thresholds()
        new = {}
        for i, (key, entry) in enumerate(missing.items()):
            new[key] = self._h.NetCon(entry.ref, None, sec=entry.section)
            new[key].threshold = _PROBE_LEVEL + i
        keys = list(missing)
        for nc, threshold in before:
            if nc.threshold != threshold:
                self.shared.add(keys[round(nc.threshold - _PROBE_LEVEL)])
                nc.threshold = threshold
        for key, nc in new.items():
            if key not in self.shared:
                nc.record(self._callback(key))
                self.netcons[key] = nc
        self._make_sentinel()

    def _model_thresholds(self) -> list[tuple[Any, float]]:
        """(NetCon, threshold) of every NetCon on a pointer source that is not ours."""
        ours = {nc.hname() for nc in self.netcons.values()}
        if self._sentinel is not None:
            ours.add(self._sentinel.hname())
        found = []
        for nc in self._h.List("NetCon"):
            if nc.pre() is None and nc.hname() not in ours:
                found.append((nc, float(nc.threshold)))
        return found

    def arm(self, native: Sequence[Armed], start_ms: float) -> None:
        """Set the thresholds of this advance's watches (NetCons made by `prepare`)."""
        self._active = {}
        for a in native:
            key = a.entry.key
            self.netcons[key].threshold = a.watch.level
            self._active[key] = a.watch
        if self._sentinel is None:
            self._make_sentinel()
        self.fired = {}
        self._start_ms = start_ms
        self.stopping = False

    def disarm(self) -> None:
        self._active = {}
        self.fired = {}

    def drop_since(self, keys: frozenset[str]) -> None:
        """Delete the NetCons not in `keys` (SaveState needs the structure it saved)."""
        for key in set(self.netcons) - keys:
            del self.netcons[key]

    def detach_sentinel(self) -> bool:
        """Delete the sentinel NetCon (around SaveState, which must not see it); was it there?"""
        present = self._sentinel is not None
        self._sentinel = None
        return present

    def attach_sentinel(self) -> None:
        self._make_sentinel()

    def take_fired(self) -> list[Watch]:
        """The watches that fired at the stop, cleared."""
        fired = [self._active[k] for k in self.fired if k in self._active]
        self.fired = {}
        return fired

    def close(self) -> None:
        self.disarm()
        self.netcons.clear()
        self._sentinel = None
        self._sentinel_sec = None

    def _make_sentinel(self) -> None:
        """(Re)create the sentinel NetCon so that it comes after every watch NetCon."""
        self._sentinel = None
        seg = self._sentinel_sec(0.5)
        seg.cm = 1.0
        self._sentinel = self._h.NetCon(seg._ref_cm, None, sec=self._sentinel_sec)
        self._sentinel.threshold = 1.5
        self._sentinel.record(self._on_sentinel)

    def _callback(self, key: str) -> Callable[[], None]:
        def on_cross() -> None:
            self._on_cross(key)

        return on_cross

    def _on_cross(self, key: str) -> None:
        if key not in self._active:
            return
        t_cross = float(self._h.t) - THRESHOLD_TEPS_MS
        if t_cross <= self._start_ms + _FIRST_CHECK_MS:
            # The check of the state the advance started from: not a crossing of this advance
            # (the previous advance checked its own last step).
            return
        self.fired[key] = t_cross
        self._sentinel_sec(0.5).cm = 2.0

    def _on_sentinel(self) -> None:
        self._sentinel_sec(0.5).cm = 1.0
        if self.fired:
            self.stopping = True
            raise StopAdvance


class SteppedCheck:
    """Vectorized sign-change check of several watches between consecutive steps."""

    def __init__(self, h: Any, stepped: Sequence[Armed]) -> None:
        self.size = len(stepped)
        self._pointer_idx = [i for i, a in enumerate(stepped) if a.entry.ref is not None]
        self._getter_idx = [i for i, a in enumerate(stepped) if a.entry.ref is None]
        self._getters = [stepped[i].entry.get for i in self._getter_idx]
        self._ptrs = h.PtrVector(max(1, len(self._pointer_idx)))
        for j, i in enumerate(self._pointer_idx):
            self._ptrs.pset(j, stepped[i].entry.ref)
        self._buf = h.Vector(max(1, len(self._pointer_idx)))
        # Bound once: hoc attribute lookups and as_numpy() cost more than the gather itself.
        self._gather = self._ptrs.gather
        self._view = self._buf.as_numpy()
        self._levels = np.array([a.watch.level for a in stepped], dtype=float)
        directions = np.array([a.watch.direction for a in stepped])
        self._up = directions != "falling"
        self._down = directions != "rising"

    def values(self) -> np.ndarray:
        if not self._getter_idx:
            self._gather(self._buf)
            return self._view.copy()
        out = np.empty(self.size)
        if self._pointer_idx:
            self._gather(self._buf)
            out[self._pointer_idx] = self._view[: len(self._pointer_idx)]
        for i, get in zip(self._getter_idx, self._getters, strict=True):
            out[i] = get()
        return out

    def crossed(self, before: np.ndarray, after: np.ndarray) -> list[int]:
        """Indices of the watches whose level lies between `before` and `after`, in direction."""
        lvl = self._levels
        hit = (self._up & (before < lvl) & (after >= lvl)) | (
            self._down & (before > lvl) & (after <= lvl)
        )
        return np.flatnonzero(hit).tolist() if hit.any() else []


class StderrTrap:
    """Holds back what NEURON prints when `StopAdvance` unwinds it; the caller replays the rest.

    NEURON reports a Python exception raised in a callback on stderr (the Python traceback
    on `sys.stderr`, a hoc error line on file descriptor 2). Both go to one reusable file.
    """

    def __init__(self) -> None:
        self._file: Any = None

    @contextlib.contextmanager
    def capture(self) -> Iterator[list[str]]:
        """Redirect stderr for the block; the text lands in the yielded list afterwards."""
        if self._file is None:
            self._file = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - kept open on purpose
        tmp = self._file
        tmp.seek(0)
        tmp.truncate()
        captured: list[str] = []
        sys.stderr.flush()
        saved_fd = os.dup(2)
        saved_stream = sys.stderr
        os.dup2(tmp.fileno(), 2)
        sys.stderr = tmp
        try:
            yield captured
        finally:
            tmp.flush()
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            sys.stderr = saved_stream
            tmp.seek(0)
            captured.append(tmp.read())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
