"""Experiments end to end: a shortened demo run, the results file, the command line."""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import ROOT, shared_path
from timescales import Experiment, biomodels
from timescales.cli import main
from timescales.results import Results, ResultsWriter
from timescales.units import parse

pytestmark = [pytest.mark.neuron, pytest.mark.roadrunner]

EXAMPLES = ROOT / "examples"
#: The demo's first input is at 250 ms; it reaches the synapses 1 ms later.
FIRST_ARRIVAL_MS = 251.0


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("demo") / "demo.h5"
    experiment = Experiment.from_file(EXAMPLES / "demo.toml")
    return experiment.run(duration_ms=300.0, output=out), out


def test_window_opens_when_the_first_input_arrives(demo_run) -> None:
    result, _ = demo_run
    [window] = result.stats.windows
    assert window.coupling == "ca1"
    # the spine's calcium rises within a few steps of the synaptic event
    assert FIRST_ARRIVAL_MS < window.open_ms < FIRST_ARRIVAL_MS + 2.0
    assert window.influx > 0
    assert result.stats.exchanges["ca1"] == window.exchanges


def test_weight_starts_at_one_and_rises_with_input(demo_run) -> None:
    result, _ = demo_run
    assert result.spines.tolist() == [1]
    assert result.weight[0, 0] == pytest.approx(1.0, abs=1e-3)  # within the dead band
    assert result.weight[-1, 0] > 1.0


def test_results_file_is_complete_and_readable_with_h5py(demo_run) -> None:
    result, path = demo_run
    with h5py.File(path, "r") as f:
        assert f.attrs["status"] == "complete"
        t = f["time_ms"][:]
        assert t[0] == pytest.approx(100.0)
        assert t[-1] == pytest.approx(400.0)
        assert np.diff(t) == pytest.approx(np.full(len(t) - 1, 1.0))
        assert f["soma_v_mV"].shape == t.shape
        assert f["spines/calcium_mM"].shape == (len(t), 2)
        spec = json.loads(f.attrs["experiment"])
        assert spec["cell"]["spines"] == "two"
    loaded = Results.open(path)
    assert loaded.status == "complete"
    assert loaded.windows["open_ms"][0] == pytest.approx(result.stats.windows[0].open_ms)


def test_run_rejects_an_existing_results_file(demo_run) -> None:
    _, path = demo_run
    code = main(["run", str(EXAMPLES / "demo.toml"), "-o", str(path), "--duration", "1"])
    assert code == 2


def test_a_stop_while_the_results_file_is_set_up_leaves_it_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop signal can come once the file exists and before the run proper starts."""
    out = tmp_path / "stopped.h5"

    def stop(*args, **kwargs) -> None:
        raise KeyboardInterrupt("SIGTERM")

    monkeypatch.setattr(ResultsWriter, "write_cell", stop)
    with pytest.raises(KeyboardInterrupt):
        Experiment.from_file(EXAMPLES / "demo.toml").run(duration_ms=1.0, output=out)
    assert Results.open(out).status == "interrupted"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('[experiment]\nduration_ms = "long"\n', "experiment.duration_ms: a number > 0"),
        ("[cell]\nspines = 'two'\n", "experiment: a table (required)"),
        (
            "[experiment]\nduration_ms = 10\n[[stimulus]]\nspines = [7]\ntimes_ms = [50.0]\n",
            "stimulus[0].spines",
        ),
        (
            '[experiment]\nduration_ms = 10\n[biochemistry]\nmodel = "nowhere.xml"\n',
            "biochemistry.model",
        ),
    ],
)
def test_bad_files_give_one_line_and_exit_2(tmp_path: Path, capsys, content, expected) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content)
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "Traceback" not in err
    assert "bad.toml" in err


def test_unknown_species_fails_at_validation_naming_candidates(tmp_path: Path, capsys) -> None:
    path = tmp_path / "swap.toml"
    text = (EXAMPLES / "swap_model.toml").read_text().replace('species = "ca"', 'species = "cal"')
    path.write_text(text.replace('model = "camkii_simple"', 'model = "camkii_simple"'))
    code = main(["run", str(path), "--duration", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "cal" in err
    assert "Traceback" not in err


def test_a_model_without_calcium_fails_validation_listing_species(tmp_path: Path, capsys) -> None:
    model = shared_path("sbml", "BIOMD0000000067.xml")
    text = (
        (EXAMPLES / "demo.toml")
        .read_text()
        .replace('model = "spine_network"', f'model = "{model}"')
    )
    path = tmp_path / "fung.toml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "biochemistry.calcium.species" in err
    assert "none calcium-like; species: AcCoA" in err
    assert "Traceback" not in err


def test_biomodels_file_couples_through_the_experiment_file_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the example names its model by id; with an empty cache and no network it is the file
    # in the folder TIMESCALES_MODEL_PATH lists
    model = shared_path("sbml", "BIOMD0000000183.xml")
    monkeypatch.setenv("TIMESCALES_MODEL_PATH", str(model.parent))
    monkeypatch.setenv("TIMESCALES_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(biomodels.urllib.request, "urlopen", _no_network)
    experiment = Experiment.from_file(EXAMPLES / "biomd183_swap.toml")
    result = experiment.run(duration_ms=450.0, output=tmp_path / "b.h5")
    files = Results.open(tmp_path / "b.h5").provenance["files"]
    assert files[str(model)] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert FIRST_ARRIVAL_MS < result.stats.windows[0].open_ms < FIRST_ARRIVAL_MS + 2.0
    # the inputs bind calmodulin to CaMKII: the model's CaMKIIbar rises above its rest, and
    # the weight follows the ratio rule of the file, w = CaMKIIbar / its resting value
    ratio = result.output[-1, 0] / result.output_baseline[0]
    assert ratio > 1.02
    assert result.weight[-1, 0] == pytest.approx(ratio, rel=2e-3)  # dead band 1e-3


def _no_network(url: str, timeout: float) -> None:
    raise AssertionError(f"no download expected, got {url}")


def test_windows_name_their_spine(demo_run) -> None:
    _, path = demo_run
    with h5py.File(path, "r") as f:
        assert f["windows/spine"][()].tolist() == [1]
        assert f["windows/coupling"].asstr()[()].tolist() == ["ca1"]


def test_results_name_the_spines_as_the_cell_does(demo_run) -> None:
    _, path = demo_run
    with h5py.File(path, "r") as f:
        cell = f["cell"]
        assert cell.attrs["model"] == "msn"
        assert cell["spine"][()].tolist() == [1, 2]
        # the study's two-spine layout: both on dend3_1[1], at 0.3 and 0.5
        assert cell["section"].asstr()[()].tolist() == ["dend3_1[1]", "dend3_1[1]"]
        assert cell["x"][()].tolist() == [0.3, 0.5]
        # a cylindrical head of 1.175 um diameter and 1 um length
        head_l = math.pi * (1.175 / 2) ** 2 * 1.0 * 1e-15
        np.testing.assert_allclose(cell["head_volume_l"][()], [head_l, head_l], rtol=1e-12)


def test_an_output_named_by_parameter_name_with_a_linear_unitless_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIMESCALES_MODEL_PATH", str(shared_path("sbml")))
    overrides = {
        "biochemistry.output.variable": "kon",  # parameter_0's name; it declares no unit
        "biochemistry.output.rule": "linear",
        "biochemistry.output.scale": 2e-6,
        "biochemistry.output.offset": 0.0,
    }
    experiment = Experiment.from_file(EXAMPLES / "biomd183_swap.toml", **overrides)
    result = experiment.run(duration_ms=200.0, output=tmp_path / "k.h5")
    # once the first input's window has driven the spine's instance, its outputs go to the
    # weight: kon = 1e6 in the file and stays so, so the weight is 2e-6 * 1e6
    assert result.weight[-1, 0] == pytest.approx(2.0, rel=1e-12)


def test_model_values_are_set_by_id_before_the_equilibration(tmp_path: Path) -> None:
    overrides = {
        "biochemistry.set": {"kcat_AMPAR_dephos": 0.25},
        "biochemistry.output.variable": "kcat_AMPAR_dephos",
        "biochemistry.output.rule": "linear",
    }
    experiment = Experiment.from_file(EXAMPLES / "swap_model.toml", **overrides)
    result = experiment.run(duration_ms=200.0, output=tmp_path / "s.h5")
    # the weight reads the parameter once the first window has driven the instance
    assert result.output_baseline[0] == 0.25
    assert result.weight[-1, 0] == pytest.approx(0.25, rel=1e-12)


def test_model_values_by_name_with_a_unit_and_clamp_starts_at_the_cells_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIMESCALES_MODEL_PATH", str(shared_path("sbml")))
    # compartment_0 is named 'Spine' (litres); species_1 is named 'ca' (mol/l)
    volume = Experiment.from_file(
        EXAMPLES / "biomd183_swap.toml",
        **{"biochemistry.set": {"Spine": "2 fL"}, "biochemistry.output.variable": "Spine"},
    ).run(duration_ms=20.0, output=tmp_path / "v.h5")
    assert volume.output_baseline[0] == pytest.approx(2e-15, rel=1e-12)
    clamped = Experiment.from_file(
        EXAMPLES / "biomd183_swap.toml", **{"biochemistry.output.variable": "ca"}
    ).run(duration_ms=20.0, output=tmp_path / "c.h5")
    with h5py.File(tmp_path / "c.h5", "r") as f:
        rest_mM = f["spines/calcium_mM"][0, 0]  # spine 1's head calcium when the run starts
    assert clamped.output_baseline[0] == pytest.approx(rest_mM * 1e-3, rel=1e-9)


def test_a_model_value_with_a_broken_unit_fails_validation(tmp_path: Path, capsys) -> None:
    text = (
        EXAMPLES / "swap_model.toml"
    ).read_text() + '\n[biochemistry.set]\nca_rest = "1e-7 bogons"\n'
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml: biochemistry.set.ca_rest: a number (in the model's unit) or a quantity" in err


def test_the_models_own_influx_parameter_takes_the_same_calcium_as_an_added_flux(
    tmp_path: Path,
) -> None:
    # camkii_simple's calcium is a floating species with its own influx parameter; driving
    # that parameter (held over each exchange) must give what an added flux input held the
    # same way gives
    own = Experiment.from_file(EXAMPLES / "influx_parameter.toml")
    added = Experiment.from_file(EXAMPLES / "swap_model.toml", **{"coupling.hold": "constant"})
    weights = [
        e.run(duration_ms=400.0, output=tmp_path / f"{i}.h5").final_weights()[1]
        for i, e in enumerate((own, added))
    ]
    assert weights[0] > 1.05
    assert weights[0] == pytest.approx(weights[1], rel=1e-6)


def _documented_datasets() -> dict[str, str]:
    """Dataset path -> units, from the table of docs/results-format.md."""
    text = (ROOT / "docs" / "results-format.md").read_text()
    rows = re.findall(r"^\| `/([A-Za-z_/]+)` \| [^|]+ \| ([^|]+) \|", text, re.M)
    return {path: units.strip() for path, units in rows}


def _note(found: dict[str, h5py.Dataset], name: str, obj: object) -> None:
    if isinstance(obj, h5py.Dataset):
        found[name] = obj


def test_a_results_file_is_what_the_docs_say(demo_run) -> None:
    result, path = demo_run
    documented = _documented_datasets()
    written: dict[str, h5py.Dataset] = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: _note(written, name, obj))
        assert set(written) == set(documented)
        for name, units in documented.items():
            attrs = f[name].attrs
            assert attrs["description"]
            expected = units if units != "the model's" else "molecule / litre"  # AMPAR_P's
            assert attrs["units"] == expected, name
            parse(attrs["units"])
        # every exchange of the run is a row, in the run's count
        assert f["exchanges/time_ms"].shape == (result.stats.n_exchanges,)
        units = json.loads(f["exchanges"].attrs["units_by_coupling"])
        assert units == {"ca1": "molecules/s", "w1": "1"}
    loaded = Results.open(path)
    assert all(isinstance(s, str) for s in loaded.windows["coupling"])
    assert all(isinstance(s, str) for s in loaded.cell["section"])
    assert sorted(set(loaded.exchanges["coupling"])) == ["ca1", "w1"]


def test_the_stored_experiment_is_the_one_that_ran(demo_run) -> None:
    _, path = demo_run
    loaded = Results.open(path)
    assert loaded.experiment["experiment"]["duration_ms"] == 300.0
    assert loaded.experiment["overrides"] == {
        "experiment.duration_ms": 300.0,
        "experiment.output": str(path.resolve()),
    }
    files = loaded.provenance["files"]
    assert any(name.endswith("spine_network.xml") for name in files)
    assert any(name.endswith("AMPA.mod") for name in files)
    assert all(len(digest) == 64 for digest in files.values())
    assert "pint" in loaded.provenance["packages"]


def test_biochem_rows_come_at_every_sync(demo_run) -> None:
    result, path = demo_run
    loaded = Results.open(path)
    assert loaded.biochem_time_ms.shape == (result.stats.syncs,)
    assert loaded.biochem_time_ms[-1] == pytest.approx(400.0)


def test_recorded_model_and_cell_variables(tmp_path: Path) -> None:
    overrides = {
        "record.biochem": ["CaMKII", "AMPAR"],
        "record.cell": ["dend3_1[1](0.5).v", "soma(0.5).ik"],
    }
    experiment = Experiment.from_file(EXAMPLES / "demo.toml", **overrides)
    result = experiment.run(duration_ms=250.0, output=tmp_path / "r.h5")
    with h5py.File(tmp_path / "r.h5", "r") as f:
        syncs = result.stats.syncs
        assert f["biochem/recorded/CaMKII"].shape == (syncs, 1)
        assert f["biochem/recorded/AMPAR"].attrs["units"] == "molecule / litre"
        assert np.all(f["biochem/recorded/CaMKII"][()] > 0)
        v = f["samples/dend3_1[1](0.5).v"]
        assert v.shape == f["time_ms"].shape
        assert v.attrs["units"] == "mV"
        assert -90.0 < float(v[0]) < -80.0  # the dendrite near rest at the start
        assert f["samples/soma(0.5).ik"].attrs["units"] == "mA/cm**2"


def test_a_recorded_variable_given_by_parameter_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIMESCALES_MODEL_PATH", str(shared_path("sbml")))
    # 'total CaMKII' is parameter_27's name: 7e-5 in the file, a constant
    experiment = Experiment.from_file(
        EXAMPLES / "biomd183_swap.toml", **{"record.biochem": ["total CaMKII"]}
    )
    experiment.run(duration_ms=20.0, output=tmp_path / "t.h5")
    with h5py.File(tmp_path / "t.h5", "r") as f:
        values = f["biochem/recorded/total CaMKII"][()]
    assert values.shape[1] == 1
    assert np.all(values == pytest.approx(7e-5, rel=1e-12))
