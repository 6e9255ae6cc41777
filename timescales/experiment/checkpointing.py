"""Checkpoints of an experiment's run: when to take them, where they go, and stopping at a
sync when asked to stop.

A run with `checkpoint_ms` writes `<results>.checkpoint` beside its results file every
`checkpoint_ms` of simulated time, at the first sync past each multiple, and once more at
its end (so that a complete run can be extended). Ctrl-C, SIGTERM and SIGHUP then stop the
run at its next sync, after a last checkpoint; a second signal stops it at once.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import checkpoint
from ..scheduler import Scheduler

#: Signals that stop a run (at its next sync when it checkpoints).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def checkpoint_path(results: str | Path) -> Path:
    """Where the checkpoint of the run writing `results` lives."""
    results = Path(results)
    return results.with_name(results.name + ".checkpoint")


@dataclass
class Checkpointer:
    """Takes the run's checkpoints at syncs (`on_sync`) and at its end (`at_end`).

    `state()` gives what the experiment layer adds to each (the recorder's position and
    how to rebuild the run). `stop_requested` names a signal that asked the run to stop:
    the next sync writes a checkpoint and raises KeyboardInterrupt.
    """

    path: Path
    every_ms: float
    scheduler: Scheduler
    state: Callable[[], dict[str, Any]]
    next_ms: float = math.nan
    stop_requested: str = ""
    written: int = 0
    bytes_last: int = 0
    wall_s: float = 0.0
    times_ms: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if math.isnan(self.next_ms):
            self.next_ms = self._after(self.scheduler.t_ms)

    def on_sync(self, t_ms: float) -> None:
        if self.stop_requested:
            self.write(t_ms)
            raise KeyboardInterrupt(self.stop_requested)
        if t_ms >= self.next_ms - 1e-9:
            self.write(t_ms)

    def at_end(self, t_ms: float) -> None:
        self.write(t_ms)

    def write(self, t_ms: float) -> None:
        start = time.perf_counter()
        extra = {**self.state(), "next_checkpoint_ms": self._after(t_ms)}
        self.bytes_last = checkpoint.write(self.path, checkpoint.take(self.scheduler, extra))
        self.next_ms = self._after(t_ms)
        self.written += 1
        self.times_ms.append(t_ms)
        self.wall_s += time.perf_counter() - start

    def _after(self, t_ms: float) -> float:
        """The first multiple of `every_ms` after `t_ms`."""
        return (math.floor(t_ms / self.every_ms + 1e-9) + 1) * self.every_ms


@contextlib.contextmanager
def stop_at_sync(checkpointer: Checkpointer | None) -> Iterator[None]:
    """While the scheduler runs: a stop signal asks `checkpointer` to stop at the next sync
    (a second one, or any without a checkpointer, raises KeyboardInterrupt at once)."""
    if checkpointer is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def request(signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        if checkpointer.stop_requested:
            raise KeyboardInterrupt(name)
        checkpointer.stop_requested = name

    previous = {sig: signal.signal(sig, request) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
