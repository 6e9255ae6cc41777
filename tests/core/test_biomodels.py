"""BioModels models by id: found on TIMESCALES_MODEL_PATH, in the cache, or downloaded once
into it; `timescales validate` and `timescales info` take the id as an experiment file does."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import urllib.error
from importlib import resources
from pathlib import Path

import platformdirs
import pytest

from conftest import ROOT, shared_path
from timescales import biomodels
from timescales.adapters._nrnivmodl import cache_root as mechanism_cache
from timescales.cache import CACHE_ENV
from timescales.cli import main
from timescales.errors import ModelError

SBML = b'<?xml version="1.0"?>\n<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core"/>'
EXAMPLE = ROOT / "examples" / "biomd183_swap.toml"
STUDY_MODEL = "BIOMD0000000183"


def _offline(url: str, timeout: float) -> io.BytesIO:
    raise urllib.error.URLError("[Errno -2] Name or service not known")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache root, no TIMESCALES_MODEL_PATH, no network; the BioModels folder."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(biomodels.PATH_VAR, raising=False)
    monkeypatch.setattr(biomodels.urllib.request, "urlopen", _offline)
    return tmp_path / "cache" / "biomodels"


def _put(folder: Path, ident: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{ident}.xml").write_bytes(SBML)
    return folder / f"{ident}.xml"


def test_found_on_the_model_path(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = shared_path("sbml")
    monkeypatch.setenv(biomodels.PATH_VAR, os.pathsep.join(["/nowhere", str(folder)]))
    assert biomodels.resolve(f"biomodels:{STUDY_MODEL}") == folder / f"{STUDY_MODEL}.xml"


def test_found_in_the_cache_without_the_network(cache: Path) -> None:
    cached = _put(cache, "BIOMD0000000004")
    assert biomodels.resolve("biomodels:BIOMD0000000004") == cached


def test_the_model_path_comes_before_the_cache(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _put(cache, "BIOMD0000000005")
    listed = _put(tmp_path / "models", "BIOMD0000000005")
    monkeypatch.setenv(biomodels.PATH_VAR, str(tmp_path / "models"))
    assert biomodels.resolve("biomodels:BIOMD0000000005") == listed


def test_downloaded_once_into_the_cache(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    urls = []

    def urlopen(url: str, timeout: float) -> io.BytesIO:
        urls.append(url)
        return io.BytesIO(SBML)

    monkeypatch.setattr(biomodels.urllib.request, "urlopen", urlopen)
    path = biomodels.resolve("biomodels:BIOMD0000000001")
    assert path == cache / "BIOMD0000000001.xml"
    assert path.read_bytes() == SBML
    assert biomodels.resolve("biomodels:BIOMD0000000001") == path
    assert urls == [
        "https://www.ebi.ac.uk/biomodels/model/download/BIOMD0000000001"
        "?filename=BIOMD0000000001_url.xml"
    ]
    assert [p.name for p in cache.iterdir()] == ["BIOMD0000000001.xml"]


def test_offline_is_one_error_naming_the_way_out(cache: Path) -> None:
    with pytest.raises(ModelError) as err:
        biomodels.resolve("biomodels:BIOMD0000000002")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("biomodels:BIOMD0000000002: not in TIMESCALES_MODEL_PATH")
    assert biomodels.URL.format(id="BIOMD0000000002") in message
    assert "put BIOMD0000000002.xml in a folder listed in TIMESCALES_MODEL_PATH" in message
    assert not cache.exists() or not list(cache.iterdir())


def test_a_page_that_is_not_sbml_is_refused(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        biomodels.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(b"<html>")
    )
    with pytest.raises(ModelError, match="did not return an SBML file"):
        biomodels.resolve("biomodels:BIOMD0000000003")
    assert not cache.exists()


def test_a_cache_that_cannot_be_written_is_one_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "a-file"))
    monkeypatch.delenv(biomodels.PATH_VAR, raising=False)
    monkeypatch.setattr(biomodels.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(SBML))
    with pytest.raises(ModelError) as err:
        biomodels.resolve("biomodels:BIOMD0000000006")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path / 'a-file' / 'biomodels' / 'BIOMD0000000006.xml'}: ")
    assert f"set {CACHE_ENV} to a writable folder" in message


@pytest.mark.parametrize("model", ["biomodels:BIOMD183", "biomodels:MODEL1909260004"])
def test_a_malformed_id_is_refused(model: str) -> None:
    with pytest.raises(ModelError, match="BIOMD followed by 10 digits"):
        biomodels.resolve(model)


def test_the_cache_shares_the_root_of_the_mechanism_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    default = Path(platformdirs.user_cache_dir("timescales"))
    assert biomodels.cache_dir() == default / "biomodels"
    assert mechanism_cache() == default / "nrnivmodl"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert biomodels.cache_dir() == tmp_path / "biomodels"
    assert mechanism_cache() == tmp_path / "nrnivmodl"


def test_validate_names_the_file_it_found(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = shared_path("sbml")
    monkeypatch.setenv(biomodels.PATH_VAR, str(folder))
    assert main(["validate", str(EXAMPLE)]) == 0
    assert f"biochemistry: {folder / STUDY_MODEL}.xml, 1 instances" in capsys.readouterr().out


def test_validate_without_the_file_or_the_network_is_one_line(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(EXAMPLE)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "biomd183_swap.toml: biochemistry.model: a BioModels model" in err
    assert f"got biomodels:{STUDY_MODEL}: not in TIMESCALES_MODEL_PATH" in err
    assert biomodels.URL.format(id=STUDY_MODEL) in err


@pytest.mark.roadrunner
def test_info_takes_a_biomodels_id_and_shows_where_it_looks(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = shared_path("sbml")
    monkeypatch.setenv(biomodels.PATH_VAR, str(folder))
    assert main(["info", f"biomodels:{STUDY_MODEL}"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"model Model_1 ({folder / STUDY_MODEL}.xml)")
    assert "  species_1 'ca' [mole / litre]" in out
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"BioModels cache: {cache}\n" in out
    assert f"TIMESCALES_MODEL_PATH: {folder}\n" in out


def test_the_installed_example_validates_from_any_folder(tmp_path: Path) -> None:
    folder = shared_path("sbml")
    example = resources.files("timescales.examples") / "biomd183_swap.toml"
    env = {**os.environ, biomodels.PATH_VAR: str(folder), CACHE_ENV: str(tmp_path / "cache")}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "timescales"), "validate", str(example)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"biochemistry: {folder / STUDY_MODEL}.xml" in done.stdout
