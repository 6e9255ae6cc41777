"""The installed package: importing the core pulls in no simulator; entry points resolve."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT
from timescales import available_adapters, load_adapter
from timescales.cli import main

SIMULATOR_MODULES = "{'neuron', 'roadrunner', 'libsbml', 'antimony'}"


def test_core_import_loads_no_simulator() -> None:
    code = (
        "import sys, timescales, timescales.cli, timescales.scheduler;"
        "assert 'neuron' not in sys.modules and 'roadrunner' not in sys.modules, sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd="/")


def test_test_setup_and_contract_suite_load_no_simulator() -> None:
    """The core tests run where no simulator is installed: their shared setup imports none."""
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'tests')!r});"
        "import conftest, timescales.testing.conformance;"
        f"assert not {SIMULATOR_MODULES} & set(sys.modules), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd="/")


def test_adapters_are_registered_as_entry_points() -> None:
    found = available_adapters()
    assert {"neuron", "roadrunner"} <= set(found)
    assert found["roadrunner"].value == "timescales.adapters.roadrunner:RoadRunnerAdapter"


def test_load_adapter_accepts_a_class_and_names_unknown_ones() -> None:
    from timescales.testing import LinearODE

    assert load_adapter(LinearODE) is LinearODE
    with pytest.raises(KeyError, match="closest: roadrunner"):
        load_adapter("roadrunnr")


def test_cli_version(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert "timescales 0.1.0" in capsys.readouterr().out


def test_cells_are_registered_and_info_lists_them(capsys) -> None:
    from timescales.cell import available_cells, load_cell_type

    assert {"msn", "files"} <= set(available_cells())
    assert load_cell_type("msn").default_spines == "two"
    assert load_cell_type("my_cell.swc") is load_cell_type("pkg.cells:build")
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "cells (entry points 'timescales.cells'):" in out
    assert "timescales.models.neuron.cells:MSN_CELL" in out


def test_an_unknown_cell_lists_the_installed_ones() -> None:
    from timescales.cell import load_cell_type
    from timescales.errors import ConfigError

    with pytest.raises(ConfigError, match=r"cell\.model: expected an installed cell \(msn\)"):
        load_cell_type("pyramid")
