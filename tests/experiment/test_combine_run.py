"""An experiment whose model is a COMBINE archive, built here with libcombine from the shared
BIOMD0000000183: it runs as the bare SBML file does, and a SED-ML change of the archive
reaches the spines' instances."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from conftest import ROOT, shared_path
from timescales import Experiment
from timescales.results import Results

pytestmark = [pytest.mark.neuron, pytest.mark.roadrunner]

libcombine = pytest.importorskip("libcombine", reason="python-libcombine is not installed")
libsedml = pytest.importorskip("libsedml", reason="python-libsedml is not installed")
libsbml = pytest.importorskip("libsbml", reason="python-libsbml is not installed")

ENTRY = "model/BIOMD0000000183.xml"
#: The weight reads the model's kon (parameter_0) through a linear rule: w = SCALE * kon.
SCALE = 2e-6
READ_KON = {
    "biochemistry.output.variable": "kon",
    "biochemistry.output.rule": "linear",
    "biochemistry.output.scale": SCALE,
    "biochemistry.output.offset": 0.0,
}


def archive(path: Path, kon: str | None = None) -> Path:
    """An OMEX of the shared model as its master file, and a SED-ML file setting kon."""
    omex = libcombine.CombineArchive()
    model = shared_path("sbml", "BIOMD0000000183.xml")
    assert omex.addFile(str(model), f"./{ENTRY}", libcombine.KnownFormats.lookupFormat("sbml"))
    if kon is not None:
        doc = libsedml.SedDocument(1, 4)
        sed_model = doc.createModel()
        sed_model.setId("kon_changed")
        sed_model.setSource(ENTRY)
        sed_model.setLanguage("urn:sedml:language:sbml")
        change = sed_model.createChangeAttribute()
        change.setTarget(
            "/sbml:sbml/sbml:model/sbml:listOfParameters/sbml:parameter[@id='parameter_0']/@value"
        )
        change.setNewValue(kon)
        sedml_format = libcombine.KnownFormats.lookupFormat("sedml")
        text = libsedml.writeSedMLToString(doc)
        assert omex.addFileFromString(text, "./experiment.sedml", sedml_format, False)
    assert omex.writeToFile(str(path))
    return path


def kon_in_the_file() -> float:
    document = libsbml.readSBML(str(shared_path("sbml", "BIOMD0000000183.xml")))
    return document.getModel().getParameter("parameter_0").getValue()


def run(tmp_path: Path, model: str, name: str) -> tuple[float, Results]:
    experiment = Experiment.from_file(
        ROOT / "examples" / "biomd183_swap.toml", **{"biochemistry.model": model, **READ_KON}
    )
    result = experiment.run(duration_ms=200.0, output=tmp_path / f"{name}.h5")
    return float(result.weight[-1, 0]), Results.open(tmp_path / f"{name}.h5")


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_the_archives_master_file_runs_as_the_sbml_file(tmp_path: Path) -> None:
    path = archive(tmp_path / "biomd183.omex")
    weight, results = run(tmp_path, str(path), "plain")
    assert weight == pytest.approx(SCALE * kon_in_the_file(), rel=1e-12)
    assert results.experiment["biochemistry"]["model"] == str(path)
    # the model file of the provenance is the archive's SBML, byte for byte the shared file
    shared = shared_path("sbml", "BIOMD0000000183.xml").read_bytes()
    assert hashlib.sha256(shared).hexdigest() in results.provenance["files"].values()


def test_a_sedml_change_of_the_archive_reaches_the_instances(tmp_path: Path) -> None:
    kon = 3.0 * kon_in_the_file()
    path = archive(tmp_path / "changed.omex", kon=repr(kon))
    weight, results = run(tmp_path, f"{path}#{ENTRY}", "changed")
    assert weight == pytest.approx(SCALE * kon, rel=1e-12)
    assert results.experiment["biochemistry"]["model"] == f"{path}#{ENTRY}"
