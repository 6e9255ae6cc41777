"""Peak resident memory of this process together with its children (biochemistry workers).

`resource.getrusage` reports the peak of one process at a time, which undercounts a run
whose RoadRunner instances live in worker processes; this samples the whole tree.
"""

from __future__ import annotations

import resource
import threading
from types import TracebackType

import psutil


class PeakMemory:
    """Context manager: samples the RSS of this process tree every `interval_s` seconds.

    `peak_mb` is the largest sum seen, and never less than this process's own peak.
    """

    def __init__(self, interval_s: float = 0.5) -> None:
        self.interval_s = interval_s
        self._peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def peak_mb(self) -> float:
        own_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return max(self._peak_bytes / 2**20, own_kb / 1024.0)

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def _sample(self) -> None:
        me = psutil.Process()
        total = 0
        for proc in [me, *me.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.Error:  # a worker that just ended
                continue
        self._peak_bytes = max(self._peak_bytes, total)
