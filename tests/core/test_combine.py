"""COMBINE archives built here with libcombine from a shared BioModels file: the master SBML
file or a named entry is the model, the SED-ML changes are applied to it (checked against
the SBML file's own values read with libsbml), and a broken archive is one line."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, shared_path
from timescales import combine
from timescales.cli import main
from timescales.errors import ArchiveError

libcombine = pytest.importorskip("libcombine", reason="python-libcombine is not installed")
libsedml = pytest.importorskip("libsedml", reason="python-libsedml is not installed")
libsbml = pytest.importorskip("libsbml", reason="python-libsbml is not installed")

BIOMD = "BIOMD0000000183.xml"
ENTRY = f"models/{BIOMD}"
KON = "/sbml:sbml/sbml:model/sbml:listOfParameters/sbml:parameter[@id='parameter_0']/@value"
CA = "/sbml:sbml/sbml:model/sbml:listOfSpecies/sbml:species[@name='ca']/@initialConcentration"


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cached SBML files go to a folder of the test (platformdirs reads XDG_CACHE_HOME)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def sedml(
    changes: list[tuple[str, str]],
    source: str = ENTRY,
    derived: list[tuple[str, str]] | None = None,
) -> str:
    """A SED-ML document whose model 'base' of `source` sets `changes` (target, new value);
    with `derived`, a model 'derived' that starts from 'base' and sets those comes first."""
    doc = libsedml.SedDocument(1, 4)
    models = [("derived", "#base", derived)] if derived is not None else []
    for ident, origin, sets in [*models, ("base", source, changes)]:
        model = doc.createModel()
        model.setId(ident)
        model.setSource(origin)
        model.setLanguage("urn:sedml:language:sbml")
        for target, value in sets:
            change = model.createChangeAttribute()
            change.setTarget(target)
            change.setNewValue(value)
    return libsedml.writeSedMLToString(doc)


def build_archive(
    path: Path, *, master: bool = True, sedml_text: str | None = None, extra_sbml: bool = False
) -> Path:
    """An OMEX with the shared BIOMD0000000183 (and a SED-ML file, a second SBML file)."""
    archive = libcombine.CombineArchive()
    sbml_format = libcombine.KnownFormats.lookupFormat("sbml")
    assert archive.addFile(str(shared_path("sbml", BIOMD)), f"./{ENTRY}", sbml_format, master)
    if extra_sbml:
        other = str(shared_path("sbml", "BIOMD0000000067.xml"))
        assert archive.addFile(other, "./models/fung.xml", sbml_format, False)
    if sedml_text is not None:
        sedml_format = libcombine.KnownFormats.lookupFormat("sedml")
        assert archive.addFileFromString(sedml_text, "./sim.sedml", sedml_format, False)
    assert archive.writeToFile(str(path))
    return path


def file_value(getter: str, kind: str, ident: str) -> float:
    """A number of the shared SBML file, read with libsbml."""
    model = libsbml.readSBML(str(shared_path("sbml", BIOMD))).getModel()
    elements = model.getListOfParameters() if kind == "parameter" else model.getListOfSpecies()
    [element] = [e for e in elements if ident in (e.getId(), e.getName())]
    return float(getattr(element, getter)())


def test_the_master_sbml_file_is_the_model(tmp_path: Path) -> None:
    path = build_archive(tmp_path / "m.omex", extra_sbml=True)
    model = combine.read(str(path))
    assert model.entry == ENTRY
    assert [(e.location, e.kind, e.master) for e in model.contents] == [
        (ENTRY, "sbml", True),
        ("models/fung.xml", "sbml", False),
    ]
    assert model.changes == ()
    original = shared_path("sbml", BIOMD).read_text(encoding="utf-8")
    assert model.sbml == original
    assert model.file().read_text(encoding="utf-8") == original
    assert model.file().name == BIOMD


def test_an_entry_after_the_hash_is_the_model(tmp_path: Path) -> None:
    path = build_archive(tmp_path / "m.omex", extra_sbml=True)
    model = combine.read(f"{path}#./models/fung.xml")
    assert model.entry == "models/fung.xml"
    assert model.sbml == shared_path("sbml", "BIOMD0000000067.xml").read_text(encoding="utf-8")


def test_sedml_changes_are_applied_to_the_sbml(tmp_path: Path) -> None:
    text = sedml([(KON, "2.5e6")], source=f"./{ENTRY}", derived=[(CA, "1e-7")])
    path = build_archive(tmp_path / "m.omex", sedml_text=text)
    model = combine.read(str(path))
    # the first SED-ML model of the file is applied, with the changes of the one it starts from
    assert (model.sedml.sedml, model.sedml.model) == ("sim.sedml", "derived")
    assert model.sedml.others == ("sim.sedml: base",)
    kon_before = file_value("getValue", "parameter", "parameter_0")
    ca_before = file_value("getInitialConcentration", "species", "ca")
    assert [(c.ident, c.attribute, c.old, c.value) for c in model.changes] == [
        ("parameter_0", "value", kon_before, 2.5e6),
        ("ca", "initialConcentration", ca_before, 1e-7),
    ]
    changed = libsbml.readSBMLFromString(model.file().read_text(encoding="utf-8")).getModel()
    assert changed.getParameter("parameter_0").getValue() == 2.5e6
    [ca] = [s for s in changed.getListOfSpecies() if s.getName() == "ca"]
    assert ca.getInitialConcentration() == 1e-7
    untouched = changed.getParameter("parameter_1").getValue()
    assert untouched == file_value("getValue", "parameter", "parameter_1")


@pytest.mark.roadrunner
def test_info_lists_the_archive_and_its_changes(tmp_path: Path, capsys) -> None:
    path = build_archive(tmp_path / "m.omex", sedml_text=sedml([(KON, "2.5e6")]))
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    kon = file_value("getValue", "parameter", "parameter_0")
    assert f"  {ENTRY}  sbml  (master)\n  sim.sedml  sed-ml\n" in out
    applied = f"SED-ML changes of model 'base' in sim.sedml (1):\n  parameter_0.value: {kon:g}"
    assert f"{applied} -> 2.5e+06\n" in out
    assert "parameter_0 'kon' = 2.5e+06" in out  # the model described is the changed one
    assert "species_1 'ca' [mole / litre]" in out


def _zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return path


NOT_AN_ARCHIVE = "{p}: expected a COMBINE archive (a zip file with manifest.xml), got"
UNSUPPORTED = (
    "{p}#sim.sedml: expected in model 'base', change 1: a changeAttribute of a parameter's value, "
    "a species' initialAmount or initialConcentration, or a compartment's size, got a "
    "changeAttribute of"
)
MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<omexManifest xmlns="http://identifiers.org/combine.specifications/omex-manifest">\n'
    '  <content location="./model.xml" '
    'format="http://identifiers.org/combine.specifications/sbml" master="true"/>\n'
    "</omexManifest>\n"
)


@pytest.mark.parametrize(
    ("make", "reference", "message"),
    [
        (
            lambda p: p,
            "{p}",
            f"{NOT_AN_ARCHIVE} no such file",
        ),
        (
            lambda p: p.write_text("not a zip") or p,
            "{p}",
            f"{NOT_AN_ARCHIVE} a file that is not a zip archive",
        ),
        (
            lambda p: _zip(p, {"model.xml": "<sbml/>"}),
            "{p}",
            f"{NOT_AN_ARCHIVE} a zip file without manifest.xml",
        ),
        (
            lambda p: _zip(p, {"manifest.xml": MANIFEST}),
            "{p}",
            "{p}#model.xml: expected the file manifest.xml lists, got none in the zip archive",
        ),
        (
            lambda p: build_archive(p),
            "{p}#models/missing.xml",
            f"{{p}}#models/missing.xml: expected an entry of the archive ({ENTRY}), got none of "
            "that name",
        ),
        (
            lambda p: build_archive(p, master=False, extra_sbml=True),
            "{p}",
            "{p}: expected a master SBML file, or one named after '#' (m.omex#<entry>), got SBML "
            f"files: {ENTRY}, models/fung.xml",
        ),
        (
            lambda p: build_archive(
                p, sedml_text=sedml([(KON.replace("@value", "@constant"), "1")])
            ),
            "{p}",
            UNSUPPORTED,
        ),
        (
            lambda p: build_archive(
                p, sedml_text=sedml([(KON.replace("parameter_0", "nope"), "1")])
            ),
            "{p}",
            "{p}#"
            + ENTRY
            + ": expected a parameter with id 'nope' (model 'base' of sim.sedml changes "
            "it), got none in the SBML file",
        ),
    ],
)
def test_a_broken_archive_or_entry_is_one_line(tmp_path: Path, make, reference, message) -> None:
    path = tmp_path / "m.omex"
    make(path)
    with pytest.raises(ArchiveError) as error:
        combine.read(reference.format(p=path))
    assert str(error.value).startswith(message.format(p=path))
    assert "\n" not in str(error.value)


def test_validate_names_the_file_the_key_and_the_archive(tmp_path: Path, capsys) -> None:
    build_archive(tmp_path / "m.omex")
    text = (ROOT / "examples" / "biomd183_swap.toml").read_text()
    experiment = tmp_path / "swap.toml"
    experiment.write_text(text.replace('"biomodels:BIOMD0000000183"', '"m.omex#nope.xml"'))
    assert main(["validate", str(experiment)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"timescales validate: error: swap.toml: biochemistry.model: an entry of the archive "
        f"({ENTRY}), got {tmp_path / 'm.omex'}#nope.xml: none of that name"
    )
