"""NWB export: `timescales export OUT.h5 --nwb OUT.nwb` writes a file that NWB's validator
accepts and that pynwb reads back with the HDF5 file's arrays (read here with h5py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from synthetic_results import synthetic
from timescales.cli import main

pynwb = pytest.importorskip(
    "pynwb", reason="pynwb is not installed: the nwb extra (pip install 'timescales[nwb]')"
)

#: The demo's train (examples/demo.toml): 30 inputs at 20 Hz, one period after 200 ms, each
#: to the AMPA and the NMDA synapse of spine 1.
TRAIN_MS = [200.0 + 50.0 * k for k in range(1, 31)]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("nwb")
    h5 = synthetic(folder / "r.h5")
    assert main(["export", str(h5), "--nwb", str(folder / "r.nwb")]) == 0
    return h5, folder / "r.nwb"


@pytest.fixture(scope="module")
def nwbfile(files):
    with pynwb.NWBHDF5IO(str(files[1]), "r") as io:
        yield io.read()


def test_nwbs_validator_finds_no_error(files) -> None:
    assert list(pynwb.validate(path=str(files[1]))) == []


def test_nwbinspector_finds_nothing_critical_but_the_subject(files) -> None:
    inspector = pytest.importorskip("nwbinspector", reason="nwbinspector is not installed")
    serious = {inspector.Importance.CRITICAL, inspector.Importance.PYNWB_VALIDATION}
    found = [
        m.check_function_name
        for m in inspector.inspect_nwbfile(nwbfile_path=str(files[1]))
        if m.importance in serious
    ]
    # a simulated cell has no subject (animal, species, age) to describe
    assert found == ["check_subject_exists"]


def test_samples_round_trip(files, nwbfile) -> None:
    with h5py.File(files[0], "r") as f:
        t_s = f["time_ms"][()] / 1000.0
        soma = nwbfile.acquisition["soma_voltage"]
        np.testing.assert_array_equal(soma.data[()], f["soma_v_mV"][()])
        assert (soma.unit, soma.conversion) == ("volts", 1e-3)
        np.testing.assert_allclose(soma.get_timestamps(), t_s, rtol=1e-12, atol=1e-12)
        calcium = nwbfile.acquisition["spine_head_calcium"]
        np.testing.assert_array_equal(calcium.data[()], f["spines/calcium_mM"][()])
        assert (calcium.unit, calcium.conversion) == ("mol/L", 1e-3)
        np.testing.assert_allclose(calcium.get_timestamps(), t_s, rtol=1e-12, atol=1e-12)
        names = [f"spine {n} head" for n in f["spines/numbers"][()]]
    assert calcium.comments == f"columns (compartments): {', '.join(names)}"


def test_weights_and_output_at_the_sync_times(files, nwbfile) -> None:
    module = nwbfile.processing["biochemistry"]
    with h5py.File(files[0], "r") as f:
        spec = json.loads(f.attrs["experiment"])
        for name, dataset in [
            ("synaptic_weight", "biochem/weight"),
            (spec["biochemistry"]["output"]["variable"], "biochem/output"),
        ]:
            series = module[name]
            np.testing.assert_array_equal(series.data[()], f[dataset][()])
            np.testing.assert_allclose(series.timestamps[()], f["biochem/time_ms"][()] / 1000.0)
        assert (
            module[spec["biochemistry"]["output"]["variable"]].unit
            == f["biochem/output"].attrs["units"]
        )


def test_compartments_name_the_soma_and_the_spine_heads(files, nwbfile) -> None:
    table = nwbfile.processing["cell"]["compartments"].to_dataframe()
    with h5py.File(files[0], "r") as f:
        assert list(table["compartment"]) == ["soma"] + [
            f"spine {s} head" for s in f["cell/spine"][()]
        ]
        assert list(table["section"][1:]) == list(f["cell/section"].asstr()[()])
        np.testing.assert_array_equal(table["x"][1:], f["cell/x"][()])
        np.testing.assert_array_equal(table["volume_l"][1:], f["cell/head_volume_l"][()])


def test_inputs_are_events(nwbfile) -> None:
    inputs = nwbfile.events["inputs"].to_dataframe()
    expected = sorted((t, s) for t in TRAIN_MS for s in ("ampa", "nmda"))
    got = list(zip(inputs["timestamp"] * 1000.0, inputs["synapse"], strict=True))
    np.testing.assert_allclose([t for t, _ in got], [t for t, _ in expected], rtol=1e-12)
    assert [s for _, s in got] == [s for _, s in expected]
    assert set(inputs["spine"]) == {1}


def test_exchanges_are_events(files, nwbfile) -> None:
    exchanges = nwbfile.events["exchanges"].to_dataframe()
    with h5py.File(files[0], "r") as f:
        np.testing.assert_allclose(exchanges["timestamp"] * 1000.0, f["exchanges/time_ms"][()])
        assert list(exchanges["coupling"]) == list(f["exchanges/coupling"].asstr()[()])
        np.testing.assert_array_equal(exchanges["value"], f["exchanges/value"][()])


def test_windows_are_intervals(files, nwbfile) -> None:
    windows = nwbfile.intervals["sync_windows"].to_dataframe()
    with h5py.File(files[0], "r") as f:
        w = f["windows"]
        closed = np.isfinite(w["close_ms"][()])
        np.testing.assert_allclose(windows["start_time"] * 1000.0, w["open_ms"][()])
        np.testing.assert_allclose(windows["stop_time"][closed] * 1000.0, w["close_ms"][()][closed])
        # a window open at the end stops at the end of the run
        assert (windows["stop_time"][~closed] * 1000.0 == f["time_ms"][-1]).all()
        np.testing.assert_array_equal(windows["closed"], closed)
        np.testing.assert_array_equal(windows["spine"], w["spine"][()])
        np.testing.assert_array_equal(windows["exchanges"], w["exchanges"][()])
        np.testing.assert_array_equal(windows["delivered_mM"], w["delivered"][()])


def test_experiment_and_provenance_are_metadata(files, nwbfile) -> None:
    with h5py.File(files[0], "r") as f:
        assert json.loads(nwbfile.experiment_description) == json.loads(f.attrs["experiment"])
        provenance = json.loads(f.attrs["provenance"])
    assert json.loads(nwbfile.notes) == provenance
    assert nwbfile.session_start_time.isoformat() == provenance["date_utc"]
    generated = {str(k): str(v) for k, v in nwbfile.was_generated_by[()]}
    assert generated["timescales"] == provenance["packages"]["timescales"]


def test_an_existing_nwb_file_is_kept(files, capsys) -> None:
    h5, nwb = files
    before = nwb.read_bytes()
    assert main(["export", str(h5), "--nwb", str(nwb)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"timescales export: error: --nwb: expected a path that does not exist yet "
        f"(or --overwrite), got '{nwb}'"
    )
    assert nwb.read_bytes() == before


def test_without_pynwb_the_export_says_how_to_install_it(
    files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setitem(sys.modules, "pynwb", None)  # an import of it fails
    assert main(["export", str(files[0]), "--nwb", str(tmp_path / "x.nwb")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "timescales export: error: NWB export needs pynwb, which is not installed "
        "(pip install pynwb, or pip install 'timescales[nwb]')"
    )
