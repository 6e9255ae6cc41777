"""Results for notebooks: the xarray Dataset and the windows DataFrame hold the HDF5 file's
arrays (read here with h5py), with their units; the HTML summary names what a run did."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from synthetic_results import OUTPUT_UNIT, synthetic
from timescales.optional import MissingDependency, require
from timescales.results import Results


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic(tmp_path_factory.mktemp("notebook") / "r.h5")


def test_to_xarray_holds_the_files_arrays_with_units(path: Path) -> None:
    pytest.importorskip(
        "xarray", reason="xarray is not installed (pip install 'timescales[notebook]')"
    )
    ds = Results.open(path).to_xarray()
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(ds["time"], f["time_ms"][()])
        np.testing.assert_array_equal(ds["sync_time"], f["biochem/time_ms"][()])
        np.testing.assert_array_equal(ds["soma_v"], f["soma_v_mV"][()])
        numbers = f["spines/numbers"][()].tolist()
        assert ds["spine"].values.tolist() == sorted(set(numbers) | set(f["biochem/spines"][()]))
        for k, spine in enumerate(numbers):
            np.testing.assert_array_equal(
                ds["calcium"].sel(spine=spine), f["spines/calcium_mM"][:, k]
            )
        np.testing.assert_array_equal(ds["weight"].sel(spine=1), f["biochem/weight"][:, 0])
        np.testing.assert_array_equal(ds["output"].sel(spine=1), f["biochem/output"][:, 0])
        assert np.isnan(ds["weight"].sel(spine=2)).all()  # spine 2 has no model
        for name, dataset in [
            ("time", "time_ms"),
            ("soma_v", "soma_v_mV"),
            ("calcium", "spines/calcium_mM"),
            ("weight", "biochem/weight"),
            ("output", "biochem/output"),
        ]:
            assert ds[name].attrs["units"] == f[dataset].attrs["units"]
    assert ds["output"].attrs["units"] == OUTPUT_UNIT
    assert ds.attrs["name"] == "demo"


def test_windows_frame_holds_the_files_windows(path: Path) -> None:
    pytest.importorskip(
        "pandas", reason="pandas is not installed (pip install 'timescales[notebook]')"
    )
    frame = Results.open(path).windows_frame()
    with h5py.File(path, "r") as f:
        w = f["windows"]
        assert list(frame["coupling"]) == list(w["coupling"].asstr()[()])
        for column, dataset in [
            ("spine", "spine"),
            ("open_ms", "open_ms"),
            ("close_ms", "close_ms"),
            ("exchanges", "exchanges"),
            ("delivered_mM", "delivered"),
        ]:
            np.testing.assert_array_equal(frame[column].to_numpy(), w[dataset][()])
        np.testing.assert_array_equal(
            frame["duration_ms"].to_numpy(), w["close_ms"][()] - w["open_ms"][()]
        )


def test_html_summary_names_the_run(path: Path) -> None:
    r = Results.open(path)
    page = r._repr_html_()
    with h5py.File(path, "r") as f:
        last_weight = f["biochem/weight"][-1, 0]
        n_windows = f["windows/open_ms"].shape[0]
        n_exchanges = f["exchanges/time_ms"].shape[0]
    assert "<th style='text-align:left'>experiment</th><td style='text-align:left'>demo<" in page
    assert ">complete<" in page
    assert ">2 recorded, 1 with a model<" in page
    assert f">{n_windows}<" in page
    assert f">{n_exchanges}<" in page
    assert f">1: {last_weight:.4g}<" in page


def test_a_missing_optional_package_says_how_to_install_it() -> None:
    with pytest.raises(MissingDependency, match=r"pip install 'timescales\[notebook\]'"):
        require("no_such_module_here", "no-such-package", "notebook", "Results.to_xarray")
