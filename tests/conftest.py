"""Shared fixtures: the read-only reference material in ../shared, skipped when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from timescales.adapters._imports import import_roadrunner

# Load libRoadRunner before anything imports NEURON: with a system MPI library, NEURON makes
# its SUNDIALS copy global and a RoadRunner loaded after it crashes at its first model.
import_roadrunner()

# Python subprocesses the tests start must import the installed package, not the source
# tree (whose `timescales/` lacks the `adapters` and `models` it installs): keep the
# working directory off their sys.path.
os.environ["PYTHONSAFEPATH"] = "1"

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TIMESCALES_SHARED", ROOT.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """A path under ../shared; skips the calling test with a clear reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference material not present: {path} (set TIMESCALES_SHARED)")
    return path


@pytest.fixture
def shared_dir() -> Path:
    return shared_path()
