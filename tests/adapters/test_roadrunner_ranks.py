"""RoadRunner instances on MPI ranks (`roadrunner_ranks`): rank_checks.py runs under pytest
on rank 0 of three ranks while ranks 1 and 2 hold the instances."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import mpirun

CHECKS = Path(__file__).with_name("rank_checks.py")
#: What each rank runs: rank 0 the checks, leading; the others serve until it is done.
LAUNCH = """
import sys
from timescales import mpi
comm = mpi.world()
if comm.Get_rank() > 0:
    sys.exit(mpi.serve(comm))
import pytest
with mpi.leading(comm):
    status = pytest.main(["-q", "--color=no", "-p", "no:cacheprovider", sys.argv[1]])
sys.exit(status)
"""

pytestmark = [pytest.mark.mpi, pytest.mark.roadrunner]


def test_the_rank_checks_pass_on_rank_0_of_three(tmp_path: Path) -> None:
    done = subprocess.run(
        [*mpirun(3), sys.executable, "-c", LAUNCH, str(CHECKS)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    summary = re.search(r"(\d+) passed", done.stdout)
    assert summary is not None, done.stdout[-2000:]
    assert int(summary.group(1)) >= 20
