"""BioModels models by id: found on TIMESCALES_MODEL_PATH, in the cache, or downloaded once."""

from __future__ import annotations

import io
import urllib.error
from pathlib import Path

import pytest

from conftest import shared_path
from timescales import biomodels
from timescales.errors import ModelError

SBML = b'<?xml version="1.0"?>\n<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core"/>'


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setattr(biomodels, "cache_dir", lambda: folder)
    monkeypatch.delenv(biomodels.PATH_VAR, raising=False)
    return folder


def test_found_on_the_model_path(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = shared_path("sbml")
    monkeypatch.setenv(biomodels.PATH_VAR, f"/nowhere:{folder}")
    assert biomodels.resolve("biomodels:BIOMD0000000183") == folder / "BIOMD0000000183.xml"


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
    assert urls == [biomodels.URL.format(id="BIOMD0000000001")]
    assert not list(cache.glob("*.part"))


def test_offline_is_one_error_naming_the_way_out(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(url: str, timeout: float) -> io.BytesIO:
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(biomodels.urllib.request, "urlopen", offline)
    with pytest.raises(ModelError) as err:
        biomodels.resolve("biomodels:BIOMD0000000002")
    message = str(err.value)
    assert "\n" not in message
    assert "BIOMD0000000002" in message
    assert biomodels.PATH_VAR in message
    assert not cache.exists() or not list(cache.iterdir())


def test_a_page_that_is_not_sbml_is_refused(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        biomodels.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(b"<html>")
    )
    with pytest.raises(ModelError, match="did not return an SBML file"):
        biomodels.resolve("biomodels:BIOMD0000000003")


def test_a_malformed_id_is_refused() -> None:
    with pytest.raises(ModelError, match="BIOMD followed by 10 digits"):
        biomodels.resolve("biomodels:BIOMD183")
