"""How far a run is: a progress bar on a terminal, one log line per simulated second
elsewhere (a batch job's log, a pipe).

Both are the scheduler's progress hook, called after every sync with the simulated time,
the run's end, the open windows and the exchanges so far.
"""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO

from tqdm import tqdm

#: Simulated time between two log lines (ms).
LOG_EVERY_MS = 1000.0
#: Shortest wall time between two redraws of the bar (s).
REDRAW_S = 0.2


class ProgressBar:
    """A tqdm bar over simulated time (ms): speed and remaining wall time, with the open
    windows and the exchanges so far."""

    def __init__(self, start_ms: float, until_ms: float, stream: TextIO) -> None:
        self.start_ms = start_ms
        self.bar = tqdm(total=round(until_ms - start_ms), unit="ms", desc="simulated", file=stream)
        self._last_wall = -math.inf

    def __call__(self, t_ms: float, until_ms: float, open_windows: int, exchanges: int) -> None:
        now = time.monotonic()
        if now - self._last_wall < REDRAW_S and t_ms < until_ms:
            return
        self._last_wall = now
        self.bar.n = round(t_ms - self.start_ms)
        self.bar.set_postfix({"windows": open_windows, "exchanges": exchanges}, refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


class ProgressLog:
    """One line per simulated second: simulated time, open windows, exchanges so far, wall
    time and the remaining wall time at the pace so far."""

    def __init__(self, start_ms: float, until_ms: float, stream: TextIO) -> None:
        self.start_ms = start_ms
        self.until_ms = until_ms
        self.stream = stream
        self._wall0 = time.monotonic()
        self._logged = 0

    def __call__(self, t_ms: float, until_ms: float, open_windows: int, exchanges: int) -> None:
        seconds = math.floor((t_ms - self.start_ms) / LOG_EVERY_MS + 1e-9)
        if seconds <= self._logged and t_ms < until_ms:
            return
        self._logged = seconds
        print(self.line(t_ms, until_ms, open_windows, exchanges), file=self.stream, flush=True)

    def line(self, t_ms: float, until_ms: float, open_windows: int, exchanges: int) -> str:
        wall_s = time.monotonic() - self._wall0
        done = (t_ms - self.start_ms) / max(until_ms - self.start_ms, 1e-12)
        left = f"{wall_s * (1.0 - done) / done:.0f} s left" if done > 0 else "time left unknown"
        return (
            f"simulated {t_ms:.0f} of {until_ms:.0f} ms ({100 * done:.0f} %), "
            f"{open_windows} open windows, {exchanges} exchanges, {wall_s:.0f} s so far, {left}"
        )

    def close(self) -> None:
        """Nothing to release (each line is flushed as it is written)."""


def progress_hook(
    start_ms: float, until_ms: float, enabled: bool, stream: TextIO | None = None
) -> ProgressBar | ProgressLog | None:
    """A bar when `stream` (default stderr) is a terminal, log lines when it is not, None when
    progress is off."""
    out = sys.stderr if stream is None else stream
    if not enabled:
        return None
    if out.isatty():
        return ProgressBar(start_ms, until_ms, out)
    return ProgressLog(start_ms, until_ms, out)
