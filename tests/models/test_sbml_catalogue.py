"""The SBML catalogue: shipped files, coupling hints read from any file, regeneration."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import shared_path, skip_module_without
from timescales.errors import ModelError, UnknownNameError
from timescales.models import sbml as catalogue

skip_module_without("roadrunner")
pytestmark = pytest.mark.roadrunner

from timescales.models.sbml.generate import generate  # noqa: E402


def test_regenerating_gives_the_committed_files(tmp_path: Path) -> None:
    written = generate(tmp_path)
    assert {p.name for p in written} == {"spine_network.xml", "camkii_simple.xml"}
    for path in written:
        committed = catalogue.path(path.stem)
        assert path.read_bytes() == committed.read_bytes(), path.name


def test_every_catalogue_name_resolves_to_a_shipped_file() -> None:
    for name in catalogue.names():
        found = catalogue.path(name)
        assert found.is_file()
        assert found.parent == Path(catalogue.__file__).parent


def test_an_unknown_name_lists_the_catalogue() -> None:
    with pytest.raises(UnknownNameError, match="spine_network"):
        catalogue.path("spine_netwrk")


def test_describe_works_for_a_user_file_authored_the_same_way(tmp_path: Path) -> None:
    copy = tmp_path / "my_spine.xml"
    shutil.copy(catalogue.path("camkii_simple"), copy)
    description = catalogue.describe(copy)
    assert description.name == "my_spine"
    assert description.hints == catalogue.hints("camkii_simple")
    text = str(catalogue.describe("spine_network"))
    for item in ("ca", "ca_in_k", "molecules/s", "AMPAR_P", "molecules", "ca_pump_vmax", "300"):
        assert item in text


def test_a_file_without_hints_is_refused_with_the_reason() -> None:
    with pytest.raises(ModelError, match="no coupling hints"):
        catalogue.hints(shared_path("sbml", "BIOMD0000000183.xml"))


def test_importing_the_catalogue_loads_no_simulator() -> None:
    code = (
        "import sys, timescales.models.sbml as c; c.hints('spine_network');"
        "assert not {'roadrunner', 'libsbml', 'antimony', 'neuron'} & set(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd="/")
