"""PeakMemory counts child processes, which getrusage(RUSAGE_SELF) does not."""

from __future__ import annotations

import resource
import subprocess
import sys
import time

from timescales.memory import PeakMemory

# A child that touches 300 MB (bytearray pages are committed when written) and waits.
CHILD = "import time; b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(2)"


def test_a_childs_memory_counts_while_it_runs() -> None:
    with PeakMemory(interval_s=0.05) as memory:
        child = subprocess.Popen([sys.executable, "-c", CHILD])
        time.sleep(1.5)
        child.wait()
    own_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    assert memory.peak_mb > own_mb + 250
