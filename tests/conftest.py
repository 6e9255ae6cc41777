"""Shared fixtures and markers. Imports no simulator: tests of the core run without them.

Tests that need NEURON or libRoadRunner carry the `neuron` / `roadrunner` marker and are
skipped, with what to install, when the simulator is missing; modules that import one at
import time call `skip_module_without` first. Tests marked `mpi` start ranks with
`mpirun(n)` and are skipped without an MPI launcher or mpi4py.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

# Python subprocesses the tests start must import the installed package, not the source
# tree (whose `timescales/` lacks the `adapters` and `models` it installs): keep the
# working directory off their sys.path.
os.environ["PYTHONSAFEPATH"] = "1"

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TIMESCALES_SHARED", ROOT.parent / "shared"))

#: marker -> the modules its tests import, each with the package that installs it (RoadRunner
#: tests load their models through python-libsbml, and from Antimony text)
SIMULATORS = {
    "neuron": {"neuron": "neuron"},
    "roadrunner": {
        "roadrunner": "libroadrunner",
        "libsbml": "python-libsbml",
        "antimony": "antimony",
    },
    "mpi": {"mpi4py": "mpi4py"},
}
#: The MPI launcher `mpi` tests start their ranks with.
MPIRUN = shutil.which("mpirun")


def missing(marker: str) -> str | None:
    """Why tests marked `marker` cannot run here, or None when they can."""
    if marker == "mpi" and MPIRUN is None:
        return "no MPI launcher: mpirun is not on PATH (Debian: apt install openmpi-bin)"
    absent = {m: p for m, p in SIMULATORS[marker].items() if importlib.util.find_spec(m) is None}
    if not absent:
        return None
    verb = "is" if len(absent) == 1 else "are"
    return f"{', '.join(absent)} {verb} not installed (pip install {' '.join(absent.values())})"


@functools.cache
def _open_mpi() -> bool:
    assert MPIRUN is not None
    version = subprocess.run([MPIRUN, "--version"], capture_output=True, text=True, timeout=60)
    return "Open MPI" in version.stdout + version.stderr


def mpirun(ranks: int, *, wait_for_all: bool = False) -> list[str]:
    """The command that starts `ranks` ranks; Open MPI's is allowed, for these tests only, to
    run as root (CI runs in a root container) and to start more ranks than there are cores.
    `wait_for_all`: Open MPI lets every rank end by itself instead of killing the others
    once one exits non-zero (a test of how each rank exits needs all of them to)."""
    assert MPIRUN is not None
    extra = ["--allow-run-as-root", "--oversubscribe"] if _open_mpi() else []
    if wait_for_all and _open_mpi():
        extra += ["--mca", "orte_abort_on_non_zero_status", "0"]
    return [MPIRUN, "-n", str(ranks), *extra]


def skip_module_without(marker: str) -> None:
    """Skip the calling test module when the simulator `marker` names is missing."""
    reason = missing(marker)
    if reason is not None:
        pytest.skip(reason, allow_module_level=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for marker in SIMULATORS:
        reason = missing(marker)
        if reason is None:
            continue
        for item in items:
            if item.get_closest_marker(marker) is not None:
                item.add_marker(pytest.mark.skip(reason=reason))


def shared_path(*parts: str) -> Path:
    """A path under ../shared; skips the calling test with a clear reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference material not present: {path} (set TIMESCALES_SHARED)")
    return path


@pytest.fixture
def shared_dir() -> Path:
    return shared_path()


def h5_datasets(path: Path) -> dict[str, Any]:
    """Every dataset of the HDF5 file at `path`, read whole, by its name in the file."""
    import h5py

    out: dict[str, Any] = {}

    def keep(name: str, item: object) -> None:
        if isinstance(item, h5py.Dataset):
            out[name] = item[()]

    with h5py.File(path, "r") as f:
        f.visititems(keep)
    return out


def assert_same_datasets(
    reference: Path, other: Path, rtol: float, looser: dict[str, float] | None = None
) -> None:
    """`other` holds the datasets `reference` holds, each of the same shape, numbers within
    `rtol` (or the rtol `looser` gives for that dataset's name; NaN where NaN) and everything
    else equal."""
    import numpy as np

    expected, got = h5_datasets(reference), h5_datasets(other)
    assert sorted(got) == sorted(expected)
    for name, x in expected.items():
        y = got[name]
        assert y.shape == x.shape, name
        if x.dtype.kind in "fiu":
            tol = (looser or {}).get(name, rtol)
            np.testing.assert_allclose(y, x, rtol=tol, atol=0, equal_nan=True, err_msg=name)
        else:
            assert (y == x).all(), name


def run_stats(path: Path) -> dict:
    """The run statistics of a complete results file."""
    import h5py

    with h5py.File(path, "r") as f:
        assert f.attrs["status"] == "complete"
        return json.loads(f["stats"].attrs["json"])
