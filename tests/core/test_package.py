"""The installed package: importing the core pulls in no simulator; entry points resolve."""

from __future__ import annotations

import subprocess
import sys

import pytest

from timescales import available_adapters, load_adapter
from timescales.cli import main


def test_core_import_loads_no_simulator() -> None:
    code = (
        "import sys, timescales, timescales.cli, timescales.scheduler;"
        "assert 'neuron' not in sys.modules and 'roadrunner' not in sys.modules, sys.modules"
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
