"""When timescales runs over MPI ranks: only in a process an MPI launcher started with more
than one rank; elsewhere mpi4py is not even imported, and a launcher without mpi4py is a
one-line error instead of N copies of the same run. Where the spine networks go: the most
driven spines first, so that placing them round-robin spreads them over the ranks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from timescales import mpi
from timescales.cli import main
from timescales.experiment.load import load_experiment
from timescales.experiment.runner import busiest_first

LAUNCHER = (*mpi.LAUNCHER_VARIABLES, *mpi.SIZE_VARIABLES)


def test_without_a_launcher_nothing_runs_over_ranks_and_mpi4py_is_not_imported() -> None:
    env = {k: v for k, v in os.environ.items() if k not in LAUNCHER}
    done = subprocess.run(
        [sys.executable, "-c",
         "import sys; from timescales import mpi; print(mpi.world(), 'mpi4py' in sys.modules)"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["None", "False"]


def test_a_launcher_of_several_ranks_without_mpi4py_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # as if it were not installed
    monkeypatch.setenv("NEURON_INIT_MPI", "0")  # world() sets it; restored afterwards
    demo = ROOT / "examples" / "demo.toml"
    assert main(["run", str(demo), "-o", str(tmp_path / "never.h5")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "timescales run: error: MPI launcher: expected mpi4py installed to run over its 4 "
        "ranks (pip install 'timescales[mpi]')"
    ]
    assert not (tmp_path / "never.h5").exists()


def test_a_launcher_of_one_rank_without_mpi4py_runs_as_without_a_launcher(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "1")
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setenv("NEURON_INIT_MPI", "0")
    assert mpi.world() is None


def test_the_spines_of_the_background_example_are_placed_most_driven_first() -> None:
    spec = load_experiment(ROOT / "examples" / "background_all_spines.toml")
    order = busiest_first(list(spec.instance_spines()), spec.stimulus_times_ms())
    # the spines of both 20 Hz trains of the file, and of the first one only
    first, second = (set(s.spines) for s in spec.stimulus if s.process != "poisson")
    both, one = first & second, first - second
    assert sorted(order) == list(spec.instance_spines())  # every spine, once
    assert set(order[: len(both)]) == both  # 100 inputs each (and their background)
    assert set(order[len(both) : len(both) + len(one)]) == one  # 50 each
