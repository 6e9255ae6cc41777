"""Cells and simulators of other packages, selected by name from an experiment file.

A distribution is installed for the test as a `.dist-info` folder beside its module (which
is all `importlib.metadata` needs), registering a cell in `timescales.cells` and a
simulator in `timescales.adapters`; a subprocess with that folder on its path runs an
experiment naming them, coupled to the bundled spine network.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN = Path(__file__).with_name("plugin") / "fake_plugin.py"

ENTRY_POINTS = """\
[timescales.adapters]
pulse = fake_plugin:PulseSimulator

[timescales.cells]
pulsecell = fake_plugin:PULSE_CELL
"""

EXPERIMENT = """\
[experiment]
name = "plugin"
duration_ms = 400.0

[cell]
model = "pulsecell"
simulator = "pulse"
equilibration_ms = 10.0

[[stimulus]]
spines = [1]
start_ms = 50.0
rate_hz = 20.0
count = 5

[biochemistry]
model = "spine_network"
equilibration_s = 100.0

[record]
soma_v = false
spine_calcium = "none"
"""

RUN = """\
import json, sys
from timescales import Experiment
result = Experiment.from_file(sys.argv[1]).run(output=sys.argv[2])
print(json.dumps({"weights": result.final_weights(), "kinds": sorted(result.stats.adapters),
                  "windows": len(result.stats.windows)}))
"""


@pytest.fixture
def installed(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    dist = site / "fake_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS)
    shutil.copy(PLUGIN, site / PLUGIN.name)
    return {**os.environ, "PYTHONPATH": str(site)}


@pytest.mark.roadrunner
def test_a_registered_cell_and_simulator_run_from_an_experiment_file(
    tmp_path: Path, installed: dict[str, str]
) -> None:
    experiment = tmp_path / "plugin.toml"
    experiment.write_text(EXPERIMENT)
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(experiment), str(tmp_path / "plugin.h5")],
        env=installed,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.splitlines()[-1])
    assert got["kinds"] == ["pulse", "roadrunner"]
    assert got["windows"] >= 1
    # only spine 1 gets input (and a biochemical instance): its weight rises from 1
    assert list(got["weights"]) == ["1"]
    assert got["weights"]["1"] > 1.0


def test_an_unknown_simulator_is_one_line_listing_the_installed(
    tmp_path: Path, installed: dict[str, str]
) -> None:
    experiment = tmp_path / "plugin.toml"
    experiment.write_text(EXPERIMENT.replace('simulator = "pulse"', 'simulator = "pulsar"'))
    done = subprocess.run(
        [sys.executable, "-m", "timescales", "validate", str(experiment)],
        env=installed,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "plugin.toml: cell.simulator: an installed simulator (" in line
    assert "pulse" in line
    assert "neuron" in line
    assert "got 'pulsar'" in line
