"""A biochemical model whose integration fails: the error names the spine's instance, the
phase, the simulated time, the model file and the integrator's message, in the library and
as one line of the command line, with the instances in this process or in a worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from timescales import Experiment
from timescales.errors import SolverError

pytestmark = [pytest.mark.neuron, pytest.mark.roadrunner]

#: X' = k ca X: at rest (no calcium) nothing moves; the first calcium makes X explode.
GROWS_WITH_CALCIUM = """
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
#: X' = X^2 from X = 1: X = 1 / (1 - t), which blows up 1 s into the equilibration.
BLOWS_UP_AT_1_S = """
model blows_up
  unit substance = item
  unit extent = item
  compartment Spine = 1e-15
  substanceOnly species ca in Spine, X in Spine
  ca = 0; X = 1
  J1: -> X; X*X
end
"""
#: The single input, and when it reaches the synapses (1 ms later).
INPUT_MS = 110.0
ARRIVAL_MS = INPUT_MS + 1.0
END_MS = 100.0 + 50.0

EXPERIMENT = f"""
[experiment]
name = "failing"
duration_ms = 50.0

[cell]
spines = "two"

[[stimulus]]
spines = [1]
times_ms = [{INPUT_MS}]

[biochemistry]
model = "model.ant"
equilibration_s = 5.0

[biochemistry.calcium]
species = "ca"

[biochemistry.output]
variable = "X"

[coupling]
workers = WORKERS

[record]
spine_calcium = [1, 2]
"""


def _experiment(folder: Path, model: str, workers: int) -> Path:
    (folder / "model.ant").write_text(model)
    path = folder / "failing.toml"
    path.write_text(EXPERIMENT.replace("WORKERS", str(workers)))
    return path


@pytest.mark.parametrize("workers", [0, 1])
def test_a_failure_during_the_run_names_the_spine_the_time_and_the_model(
    tmp_path: Path, workers: int
) -> None:
    path = _experiment(tmp_path, GROWS_WITH_CALCIUM, workers)
    with pytest.raises(SolverError) as err:
        Experiment.from_file(path).run(output=tmp_path / "out.h5")
    failure = err.value
    assert (failure.instance, failure.phase) == ("spine1", "run")
    assert failure.model == str(tmp_path / "model.ant")
    # calcium reaches the spine with the input, and X explodes as soon as it does
    assert ARRIVAL_MS < failure.t_ms <= END_MS
    assert failure.message.startswith("CVODE Error: CV_")
    assert str(failure).startswith(
        f"{tmp_path / 'model.ant'}: instance 'spine1': the integrator failed during the run "
        f"at t = {failure.t_ms:.10g} ms: CVODE Error: CV_"
    )


@pytest.mark.parametrize(
    ("model", "workers", "phase"),
    [(BLOWS_UP_AT_1_S, 0, "equilibration"), (GROWS_WITH_CALCIUM, 1, "run")],
)
def test_the_command_line_prints_a_solver_failure_as_one_line(
    tmp_path: Path, model: str, workers: int, phase: str
) -> None:
    path = _experiment(tmp_path, model, workers)
    done = subprocess.run(
        [sys.executable, "-m", "timescales", "run", str(path), "-o", str(tmp_path / "out.h5"),
         "--no-progress"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    instance = "template" if phase == "equilibration" else "spine1"
    prefix = (
        f"timescales run: error: {tmp_path / 'model.ant'}: instance {instance!r}: the integrator "
        f"failed during the {phase} at t = "
    )
    assert lines[0].startswith(prefix)
    t_ms = float(lines[0][len(prefix) :].split(" ms: ")[0])
    if phase == "equilibration":
        assert 990.0 < t_ms <= 1000.0  # X = 1 / (1 - t) blows up at 1 s
    else:
        assert ARRIVAL_MS < t_ms <= END_MS
    assert " ms: CVODE Error: CV_" in lines[0]
