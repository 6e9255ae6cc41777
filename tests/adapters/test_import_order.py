"""Whatever the user imports first, NEURON and RoadRunner together must not crash.

Each order runs in its own interpreter, since a segfault would kill pytest; the
return code is the crash detector.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import shared_path

pytestmark = [pytest.mark.neuron, pytest.mark.roadrunner]

MPI_DIR = Path("/usr/lib/x86_64-linux-gnu/openmpi")

LOAD_AND_RUN = """
sbml = open({sbml!r}).read()
runner = roadrunner.RoadRunner(sbml)
runner.simulate(0, 1, 3)
sec = neuron.h.Section(name="soma")
sec.insert("hh")
neuron.h.finitialize(-65)
neuron.h.fadvance()
runner.simulate(1, 2, 3)
print("ok")
"""

ORDERS = {
    "user_neuron_then_ours": """
        import neuron
        from timescales.adapters._imports import import_roadrunner
        roadrunner = import_roadrunner()
    """,
    "ours_neuron_then_roadrunner": """
        from timescales.adapters._imports import import_neuron, import_roadrunner
        neuron = import_neuron()
        roadrunner = import_roadrunner()
    """,
    "ours_roadrunner_then_user_neuron": """
        from timescales.adapters._imports import import_roadrunner
        roadrunner = import_roadrunner()
        import neuron
    """,
    "adapter_after_user_neuron": """
        import neuron
        from timescales.adapters.roadrunner import RoadRunnerAdapter, SBMLModel
        adapter = RoadRunnerAdapter(SBMLModel.load(SBML_PATH))
        adapter.initialize()
        adapter.advance(1.0)
        from timescales.adapters._imports import import_roadrunner
        roadrunner = import_roadrunner()
    """,
}


def _run(preamble: str) -> subprocess.CompletedProcess[str]:
    sbml = str(shared_path("sbml", "BIOMD0000000183.xml"))
    code = f"SBML_PATH = {sbml!r}\n" + textwrap.dedent(preamble) + LOAD_AND_RUN.format(sbml=sbml)
    env = {**os.environ, "NEURON_MODULE_OPTIONS": "-nogui"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize("order", sorted(ORDERS))
def test_import_order_does_not_crash(order: str) -> None:
    proc = _run(ORDERS[order])
    assert proc.returncode == 0, f"{order}: exit code {proc.returncode}\n{proc.stderr[-2000:]}"
    assert proc.stdout.strip().endswith("ok")


def test_plain_wrong_order_crashes_where_mpi_is_installed() -> None:
    """Control: the bare wrong order does crash here, so the tests above detect something."""
    if not MPI_DIR.exists():
        pytest.skip(f"no system MPI at {MPI_DIR}: the crash needs libmpi")
    proc = _run("import neuron\nimport roadrunner\n")
    assert proc.returncode != 0, "neuron-then-roadrunner no longer crashes; revisit _imports.py"


def test_import_neuron_sets_nogui_unless_set() -> None:
    code = (
        "import os\nos.environ.pop('NEURON_MODULE_OPTIONS', None)\n"
        "from timescales.adapters._imports import import_neuron\n"
        "n = import_neuron()\nprint(os.environ['NEURON_MODULE_OPTIONS'], hasattr(n, 'h'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["-nogui", "True"]
