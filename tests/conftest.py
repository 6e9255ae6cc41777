"""Shared fixtures and markers. Imports no simulator: tests of the core run without them.

Tests that need NEURON or libRoadRunner carry the `neuron` / `roadrunner` marker and are
skipped, with what to install, when the simulator is missing; modules that import one at
import time call `skip_module_without` first.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

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
}


def missing(marker: str) -> str | None:
    """Why tests marked `marker` cannot run here, or None when they can."""
    absent = {m: p for m, p in SIMULATORS[marker].items() if importlib.util.find_spec(m) is None}
    if not absent:
        return None
    verb = "is" if len(absent) == 1 else "are"
    return f"{', '.join(absent)} {verb} not installed (pip install {' '.join(absent.values())})"


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
