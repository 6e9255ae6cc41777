"""Runs and sweeps over MPI ranks (`mpirun -n N timescales ...`): the spine networks on
ranks 1..N-1 give the results of local worker processes, dataset for dataset, and resume
their checkpoints alike; a rank that fails ends the run with one line and a kept file;
sweeps spread their points over ranks.

The reference is the same experiment run without mpirun, its spine networks in two local
worker processes (`coupling.workers = 2`), which is also what one rank runs.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import pytest

from conftest import ROOT, assert_same_datasets, h5_datasets, mpirun, run_stats

pytestmark = [pytest.mark.mpi, pytest.mark.neuron, pytest.mark.roadrunner]

#: Six spines on two branches: two 50 Hz trains, three 20 Hz ones, one Poisson train.
SEVERAL = """
[experiment]
name = "several"
duration_ms = 400.0
seed = 3

[cell]
spines = [554, 555, 556, 1468, 1469, 1470]

[[stimulus]]
spines = [554, 1468]
synapses = ["ampa", "nmda"]
start_ms = 110.0
rate_hz = 50.0
count = 4

[[stimulus]]
spines = [555, 1469, 556]
synapses = ["ampa", "nmda"]
start_ms = 130.0
rate_hz = 20.0
count = 2

[[stimulus]]
spines = [1470]
synapses = ["ampa", "nmda"]
process = "poisson"
start_ms = 100.0
stop_ms = 300.0
rate_hz = 40.0

[biochemistry]
model = "spine_network"

[biochemistry.calcium]
species = "ca"
switch_off = ["ca_leak_vmax", "ca_pump_vmax"]

[biochemistry.output]
variable = "AMPAR_P"

[coupling]
workers = 2

[record]
biochem = ["CaMKIIp"]
"""
DURATION_MS = "150"
#: One spine network whose integration fails as soon as calcium arrives (at spine 1's
#: single input, 110 ms, which reaches the synapse 1 ms later).
FAILING_MODEL = """
model grows_with_calcium
  unit substance = item
  unit extent = item
  compartment Spine = 1e-15
  substanceOnly species ca in Spine, X in Spine
  ca = 0; X = 1
  J1: -> X; k*ca*X
  k = 1e12
end
"""
FAILING = """
[experiment]
name = "failing"
duration_ms = 50.0

[cell]
spines = "two"

[[stimulus]]
spines = [1]
times_ms = [110.0]

[biochemistry]
model = "model.ant"
equilibration_s = 5.0

[biochemistry.calcium]
species = "ca"

[biochemistry.output]
variable = "X"

[record]
spine_calcium = [1, 2]
"""
ARRIVAL_MS = 111.0
#: The console script, as `python -m mpi4py.futures $(which timescales)` runs it.
SCRIPT = str(Path(sys.executable).with_name("timescales"))
#: Open MPI binds each rank to a core; the local workers of a one-rank run share its core
#: unless binding is off (for these runs only).
UNBOUND = {**os.environ, "OMPI_MCA_hwloc_base_binding_policy": "none"}


def _timescales(*args: str, ranks: int = 0, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`timescales ARGS` without mpirun (`ranks` 0) or under `mpirun -n ranks`."""
    launcher = mpirun(ranks) if ranks else []
    return subprocess.run(
        [*launcher, sys.executable, "-m", "timescales", *args],
        cwd=cwd, env=UNBOUND, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    """The experiment run with local workers, and under mpirun with 1, 2 and 3 ranks: each
    run's results file and printed summary."""
    folder = tmp_path_factory.mktemp("several")
    (folder / "several.toml").write_text(SEVERAL)
    out = {}
    for name, ranks in (("local workers", 0), ("1 rank", 1), ("2 ranks", 2), ("3 ranks", 3)):
        path = folder / f"{name.replace(' ', '_')}.h5"
        done = _timescales(
            "run", "several.toml", "-o", str(path), "--duration", DURATION_MS, "--no-progress",
            ranks=ranks, cwd=folder,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        out[name] = (path, done.stdout)
    return out


@pytest.mark.parametrize("mode", ["1 rank", "2 ranks", "3 ranks"])
def test_ranks_give_the_results_of_local_workers(
    runs: dict[str, tuple[Path, str]], mode: str
) -> None:
    reference, _ = runs["local workers"]
    path, _ = runs[mode]
    assert_same_datasets(reference, path, rtol=1e-9)
    a, b = run_stats(reference), run_stats(path)
    assert (b["syncs"], b["exchanges"]) == (a["syncs"], a["exchanges"])
    with h5py.File(reference, "r") as f:
        assert len(f["windows/open_ms"]) >= 6  # every spine opened a window


def test_a_run_over_ranks_costs_a_round_per_sync_not_per_spine(
    runs: dict[str, tuple[Path, str]],
) -> None:
    path, summary = runs["3 ranks"]
    rounds = re.search(r"MPI\s+3 ranks, (\d+) rounds", summary)
    assert rounds is not None, summary
    windows = len(h5_datasets(path)["windows/open_ms"])
    # one round per sync (its reads and its dispatch), one more where windows open; a few
    # to start (the servers, the first read of each variable) and to stop
    assert int(rounds.group(1)) <= run_stats(path)["syncs"] + windows + 6
    assert "MPI" not in runs["1 rank"][1]  # one rank runs as without mpirun


def test_a_checkpoint_taken_here_resumes_over_ranks_as_it_resumes_here(tmp_path: Path) -> None:
    (tmp_path / "several.toml").write_text(SEVERAL)
    first = _timescales(
        "run", "several.toml", "-o", "here.h5", "--duration", "60", "--checkpoint-ms", "30",
        "--no-progress", cwd=tmp_path,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr[-3000:]
    for suffix in ("", ".checkpoint"):
        shutil.copy(tmp_path / f"here.h5{suffix}", tmp_path / f"ranks.h5{suffix}")
    for name, ranks in (("here", 0), ("ranks", 2)):
        done = _timescales("resume", f"{name}.h5", "--until", "220", "--no-progress",
                           ranks=ranks, cwd=tmp_path)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
    assert_same_datasets(tmp_path / "here.h5", tmp_path / "ranks.h5", rtol=1e-9)
    here, ranks = run_stats(tmp_path / "here.h5"), run_stats(tmp_path / "ranks.h5")
    assert ranks["exchanges"] == here["exchanges"]


def test_a_run_under_mpi4py_futures_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "several.toml").write_text(SEVERAL)
    done = subprocess.run(
        [*mpirun(2), sys.executable, "-m", "mpi4py.futures", SCRIPT, "run", "several.toml"],
        cwd=tmp_path, env=UNBOUND, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode != 0
    ours = [line for line in done.stderr.splitlines() if line.startswith("timescales")]
    assert ours == [
        "timescales run: error: MPI launcher: expected `mpirun -n N timescales run ...` "
        "(all ranks run it)"
    ]


def test_a_rank_that_fails_ends_the_run_with_one_line_and_a_kept_file(tmp_path: Path) -> None:
    (tmp_path / "model.ant").write_text(FAILING_MODEL)
    (tmp_path / "failing.toml").write_text(FAILING)
    # each rank runs the command, then writes its exit status to status.<rank>; the
    # launcher waits for both (its own status is then no rank's: the files are checked)
    each_rank = '"$@"; s=$?; echo $s > "status.${OMPI_COMM_WORLD_RANK:-$PMI_RANK}"; exit $s'
    done = subprocess.run(
        [*mpirun(2, wait_for_all=True), "sh", "-c", each_rank, "sh", sys.executable, "-m",
         "timescales", "run", "failing.toml", "-o", "out.h5", "--no-progress"],
        cwd=tmp_path, env=UNBOUND, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    ours = [line for line in done.stderr.splitlines() if line.startswith("timescales")]
    assert len(ours) == 1, done.stderr
    prefix = (
        f"timescales run: error: {tmp_path / 'model.ant'}: instance 'spine1' on rank 1: "
        "the integrator failed during the run at t = "
    )
    assert ours[0].startswith(prefix), ours[0]
    t_ms = float(ours[0][len(prefix) :].split(" ms: ")[0])
    assert ARRIVAL_MS < t_ms <= 150.0
    assert sorted(p.read_text().strip() for p in tmp_path.glob("status.*")) == ["2", "2"]
    assert done.stdout == ""  # no summary from any rank
    with h5py.File(tmp_path / "out.h5", "r") as f:
        assert f.attrs["status"] == "failed"
        kept = f["time_ms"][()]
    assert kept.size  # the samples up to the failure
    assert ARRIVAL_MS <= kept[-1] < 150.0


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "sweep.csv").open(newline="") as stream:
        return list(csv.DictReader(stream))


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "timescales"], [sys.executable, "-m", "mpi4py.futures", SCRIPT]],
    ids=["mpirun", "mpi4py.futures"],
)
def test_a_sweep_over_ranks_runs_its_points_on_them(tmp_path: Path, command: list[str]) -> None:
    done = subprocess.run(
        [*mpirun(2), *command, "sweep", str(ROOT / "examples" / "demo.toml"),
         "--vary", "stimulus.0.rate_hz=20,50", "--vary", "stimulus.0.count=2",
         "--duration", "200", "--out", str(tmp_path)],
        cwd=tmp_path, env=UNBOUND, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows = _rows(tmp_path)
    assert [r["status"] for r in rows] == ["complete", "complete"]
    assert [r["stimulus.0.rate_hz"] for r in rows] == ["20", "50"]
    assert len(list(tmp_path.glob("point*.h5"))) == 2
    assert done.stdout.count("point ") == 2  # rank 0 reports each point once
