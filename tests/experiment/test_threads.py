"""A run on two NEURON threads (`cell.threads = 2`: the MSN split at the soma) against the
same run on one thread: the cell's results agree to rounding, the couplings sync and
exchange alike. Each run is a fresh `timescales run` process (NEURON splits one cell per
process).

Stimulated spines sit on both halves of the split (554, 555 on dend1; 1468, 1469 on dend4),
so watches, recordings and calcium deliveries are read from both threads; a checkpoint
taken on two threads resumes there as one taken on one thread does. The spine
networks' results agree to CVODE's tolerance: calcium series equal to rounding can still
change CVODE's steps.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import h5py
import pytest

from conftest import assert_same_datasets, run_stats

pytestmark = [pytest.mark.neuron, pytest.mark.roadrunner]

EXPERIMENT = """
[experiment]
name = "threads"
duration_ms = 300.0

[cell]
spines = [554, 555, 1468, 1469]
threads = {threads}

[[stimulus]]
spines = [554, 1468]
synapses = ["ampa", "nmda"]
start_ms = 110.0
rate_hz = 50.0
count = 4

[[stimulus]]
spines = [555, 1469]
synapses = ["ampa", "nmda"]
start_ms = 130.0
rate_hz = 20.0
count = 2

[biochemistry]
model = "spine_network"

[biochemistry.calcium]
species = "ca"
switch_off = ["ca_leak_vmax", "ca_pump_vmax"]

[biochemistry.output]
variable = "AMPAR_P"

[record]
spine_calcium = "stimulated"
"""
#: Datasets the spine networks compute (CVODE at rtol 1e-6), and how closely they agree.
BIOCHEMICAL = dict.fromkeys(("biochem/output", "biochem/weight", "exchanges/value"), 1e-5)


def _timescales(*args: str, cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "timescales", *args, "--no-progress"],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[tuple[int, str], Path]:
    """On 1 and 2 threads: the whole run, and the run stopped at 250 ms with a checkpoint at
    200 ms, then resumed to the end (400 ms: 100 ms of equilibration, 300 of experiment)."""
    folder = tmp_path_factory.mktemp("threads")
    out = {}
    for threads in (1, 2):
        (folder / f"t{threads}.toml").write_text(EXPERIMENT.format(threads=threads))
        whole, resumed = folder / f"whole{threads}.h5", folder / f"resumed{threads}.h5"
        _timescales("run", f"t{threads}.toml", "-o", str(whole), cwd=folder)
        _timescales("run", f"t{threads}.toml", "-o", str(resumed), "--duration", "150",
                    "--checkpoint-ms", "100", cwd=folder)  # fmt: skip
        _timescales("resume", str(resumed), "--until", "400", cwd=folder)
        out[(threads, "whole")], out[(threads, "resumed")] = whole, resumed
    return out


@pytest.mark.parametrize("kind", ["whole", "resumed"])
def test_two_threads_give_the_one_thread_run(runs: dict[tuple[int, str], Path], kind: str) -> None:
    one, two = runs[(1, kind)], runs[(2, kind)]
    assert_same_datasets(one, two, rtol=1e-9, looser=BIOCHEMICAL)
    a, b = run_stats(one), run_stats(two)
    assert (b["syncs"], b["exchanges"]) == (a["syncs"], a["exchanges"])
    with h5py.File(one, "r") as f:
        assert len(f["windows/open_ms"]) >= 4  # every stimulated spine opened a window
