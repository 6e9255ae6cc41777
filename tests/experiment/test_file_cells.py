"""Cells from files through experiment files: a Python builder and a hoc template with spines
at listed places, an SWC morphology with spines placed by density, and what validate says."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import h5py
import pytest

from conftest import ROOT
from timescales import Experiment
from timescales.experiment import ExperimentError, load_experiment

CELLS = Path(__file__).with_name("cells")
PYRAMIDAL = ROOT / "examples" / "pyramidal.swc"

EXPERIMENT = """\
[experiment]
name = "{name}"
duration_ms = 600.0

[cell]
model = "{model}"
v_init_mV = -65.0
{extra}
[cell.spines]
at = [["{section}", 0.3], ["{section}", 0.7]]

[[stimulus]]
spines = [1]
start_ms = 150.0
rate_hz = 20.0
count = 8

[biochemistry]
model = "camkii_simple"
instances = "all"
"""


def _experiment(tmp_path: Path, model: str, section: str, extra: str = "") -> Path:
    for file in CELLS.iterdir():
        (tmp_path / file.name).write_text(file.read_text())
    path = tmp_path / "cell.toml"
    path.write_text(EXPERIMENT.format(name="cell", model=model, section=section, extra=extra))
    return path


pytestmark = [pytest.mark.neuron, pytest.mark.roadrunner]


def test_a_python_cell_with_two_spines_at_listed_places(tmp_path: Path) -> None:
    path = _experiment(tmp_path, "ball_and_stick.py", "dend")
    result = Experiment.from_file(path).run(output=tmp_path / "out.h5")
    weights = result.final_weights()
    assert weights[1] > 1.05  # the stimulated spine's weight rises
    assert weights[2] == pytest.approx(1.0, abs=1e-3)  # the other's stays (dead band 1e-3)
    with h5py.File(tmp_path / "out.h5", "r") as f:
        assert f["cell"].attrs["model"] == "ball_and_stick.py"
        assert f["cell/section"].asstr()[()].tolist() == ["dend", "dend"]
        assert f["cell/x"][()].tolist() == [0.3, 0.7]


def test_a_hoc_template_cell(tmp_path: Path) -> None:
    path = _experiment(
        tmp_path, "ball_and_stick.hoc", "BallStick[0].dend", 'template = "BallStick"\n'
    )
    result = Experiment.from_file(path).run(output=tmp_path / "out.h5")
    assert result.final_weights()[1] > 1.05


PLACE = """\
import json, sys
from pathlib import Path
from timescales.models.neuron.file_cells import FILE_CELLS
swc = Path(sys.argv[1])
out = {}
for seed in (1, 1, 2):
    kit = {"sections": ["apic*"], "density_per_um": 0.05, "seed": seed}
    cell = FILE_CELLS.build({"model": swc.name, "spines": kit, "biophysics": "passive"}, swc.parent)
    apical = sum(s.L for s in cell.sections if s.name().startswith("apic"))
    sites = [[p.section, p.x] for p in cell.spine_ports()]
    segments = [[s.L, s.nseg] for s in cell.sections]
    out.setdefault("runs", []).append({"apical_um": apical, "sites": sites,
                                        "sections": len(cell.sections), "segments": segments})
print(json.dumps(out))
"""


def test_density_placement_follows_the_seed_and_the_density() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PLACE, str(PYRAMIDAL)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    first, again, other = json.loads(done.stdout.splitlines()[-1])["runs"]
    assert first["sites"] == again["sites"]
    assert first["sites"] != other["sites"]
    assert all(section.startswith("apic") for section, _ in first["sites"])
    assert 100 <= first["sections"] <= 300  # the shipped morphology's size
    # one Poisson count per section: the total is Poisson with mean length x density
    mean = first["apical_um"] * 0.05
    for run in (first, other):
        assert abs(len(run["sites"]) - mean) < 4 * math.sqrt(mean)
    # each SWC section gets the fewest odd segments no longer than 40 um
    for length_um, nseg in first["segments"]:
        assert nseg % 2 == 1
        assert length_um / nseg <= 40.0
        assert nseg == 1 or length_um / (nseg - 2) > 40.0


@pytest.mark.parametrize(
    ("model", "extra", "expected"),
    [
        ("missing.py", "", "cell.model: an existing file"),
        ("ball_and_stick.hoc", "", "cell.template: the name of the template to instantiate"),
        ("ball_and_stick.py", 'template = "X"\n', "cell.template: no 'template' for this model"),
    ],
)
def test_validation_names_the_key(tmp_path: Path, model: str, extra: str, expected: str) -> None:
    path = _experiment(tmp_path, model, "dend", extra)
    with pytest.raises(ExperimentError, match=expected.replace(".", r"\.")):
        load_experiment(path)


def test_a_file_cell_takes_no_layout_and_one_placement(tmp_path: Path) -> None:
    path = _experiment(tmp_path, "ball_and_stick.py", "dend")
    text = path.read_text()
    path.write_text(text.replace('[cell.spines]\nat = [["dend", 0.3], ["dend", 0.7]]', ""))
    path.write_text(
        path.read_text().replace("v_init_mV = -65.0\n", 'v_init_mV = -65.0\nspines = "two"\n')
    )
    with pytest.raises(ExperimentError, match=r"cell\.spines: a \[cell\.spines\] table"):
        load_experiment(path)
    path.write_text(
        text.replace(
            'at = [["dend", 0.3], ["dend", 0.7]]', 'at = [["dend", 0.3]]\nsections = ["d*"]'
        )
    )
    with pytest.raises(ExperimentError, match="either 'at' or 'sections' with 'density_per_um'"):
        load_experiment(path)


def test_an_installed_builder_by_module_and_function(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(CELLS))
    path = _experiment(tmp_path, "ball_and_stick:build", "dend")
    result = Experiment.from_file(path).run(output=tmp_path / "out.h5")
    assert result.final_weights()[1] > 1.05
