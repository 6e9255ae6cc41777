"""MSN.set_threads: the cell split at the soma so that two threads get half of it each,
once per process. Each check runs in a fresh interpreter (NEURON keeps its thread setup
and the split for the process)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.neuron

SPLIT = """
import json
from timescales.models.neuron.msn import MSN
cell = MSN(spines="all")
cell.apply_settings()
cell.set_threads(2)
h = cell.h
h.finitialize(cell.settings.v_init_mV)
pc = h.ParallelContext()
segments = [0, 0]
roots = {}
for sec in h.allsec():
    thread = int(pc.sec_in_thread(sec=sec))
    segments[thread] += sec.nseg
    if sec in (cell.soma, *(cell.dendrites[f"dend{t}"] for t in (1, 2, 3, 4))):
        roots[sec.name().split(".")[-1]] = thread
print(json.dumps({"threads": int(pc.nthread()), "segments": segments, "roots": roots}))
"""
TWICE = """
from timescales.errors import ModelError
from timescales.models.neuron.msn import MSN
MSN(spines="two").set_threads(2)
try:
    MSN(spines="two").set_threads(2)
except ModelError as exc:
    print(exc)
"""


def _python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_two_threads_take_half_of_the_cell_each() -> None:
    got = json.loads(_python(SPLIT))
    assert got["threads"] == 2
    assert got["roots"] == {"soma": 0, "dend1": 0, "dend2": 0, "dend3": 1, "dend4": 1}
    first, second = got["segments"]
    assert abs(first - second) <= 0.02 * (first + second)


def test_a_second_split_in_one_process_is_refused() -> None:
    assert "NEURON splits one cell per process" in _python(TWICE)
