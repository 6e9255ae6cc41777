"""Parameter sweeps: a grid of points, each its own results file and a row of sweep.csv;
a failing point does not stop the others; a rerun skips complete points."""

from __future__ import annotations

import csv
from pathlib import Path

import h5py
import pytest

from conftest import ROOT
from timescales.cli import main

DEMO = ROOT / "examples" / "demo.toml"
SHORT = ["--vary", "stimulus.0.count=5", "--duration", "400", "--workers", "2"]

pytestmark = [pytest.mark.neuron, pytest.mark.roadrunner]


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "sweep.csv").open(newline="") as stream:
        return list(csv.DictReader(stream))


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> Path:
    """Two rates of the demo's train, and a calcium species the model lacks."""
    out = tmp_path_factory.mktemp("sweep")
    code = main(
        ["sweep", str(DEMO), "--vary", "stimulus.0.rate_hz=20,50", "--vary",
         "biochemistry.calcium.species=ca,no_such_species", *SHORT, "--out", str(out)]
    )  # fmt: skip
    assert code == 1  # the points with the missing species failed
    return out


def test_every_point_has_a_row_and_a_file(swept: Path) -> None:
    rows = _rows(swept)
    assert [(r["stimulus.0.rate_hz"], r["biochemistry.calcium.species"]) for r in rows] == [
        ("20", "ca"), ("20", "no_such_species"), ("50", "ca"), ("50", "no_such_species"),
    ]  # fmt: skip
    done = [r for r in rows if r["status"] == "complete"]
    assert len(done) == 2
    files = sorted(f.name for f in swept.glob("point*.h5"))
    assert files == [  # the failed points fail before writing anything
        "point000_rate-hz-20-species-ca-count-5.h5",
        "point002_rate-hz-50-species-ca-count-5.h5",
    ]
    slow, fast = (float(r["mean_weight"]) for r in done)
    assert 1.0 < slow < fast  # more inputs in the same time potentiate more
    for row, name in zip(done, files, strict=True):
        with h5py.File(swept / name, "r") as f:
            assert float(row["peak_weight"]) == pytest.approx(f["biochem/weight"][()].max())
        assert float(row["peak_weight"]) >= float(row["max_weight"])


def test_a_failing_point_is_reported_while_the_others_complete(swept: Path) -> None:
    failed = [r for r in _rows(swept) if r["status"] == "failed"]
    assert len(failed) == 2
    assert all("no_such_species" in r["error"] for r in failed)


def test_a_rerun_skips_the_complete_points(swept: Path) -> None:
    files = sorted(swept.glob("point*.h5"))
    before = {f: f.stat().st_mtime_ns for f in files}
    done = [r["point"] for r in _rows(swept) if r["status"] == "complete"]
    main(
        ["sweep", str(DEMO), "--vary", "stimulus.0.rate_hz=20,50", "--vary",
         "biochemistry.calcium.species=ca,no_such_species", *SHORT, "--out", str(swept)]
    )  # fmt: skip
    complete = [f for f in files if f.name.startswith(("point000", "point002"))]
    assert len(complete) == len(done) == 2
    assert all(f.stat().st_mtime_ns == before[f] for f in complete)


def test_plot_of_a_sweep_folder(swept: Path, tmp_path: Path) -> None:
    assert main(["plot", str(swept), "-o", str(tmp_path)]) == 0
    figure = tmp_path / "sweep_weights.png"
    assert figure.stat().st_size > 10_000


def test_a_key_the_file_does_not_have_is_one_line(tmp_path: Path, capsys) -> None:
    out = tmp_path / "never"
    assert main(["sweep", str(DEMO), "--vary", "stimulus.0.rate=1,2", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "stimulus[0].rate: no such key" in err
    assert not out.exists()
