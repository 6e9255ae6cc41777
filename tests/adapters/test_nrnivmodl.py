"""Compiling NMODL files into the version/hash-keyed cache (adapters/_nrnivmodl.py)."""

from __future__ import annotations

import shutil

import pytest

from timescales.adapters import _nrnivmodl
from timescales.errors import ModelError

pytestmark = pytest.mark.neuron

LEAK = """
NEURON { THREADSAFE SUFFIX tsleak NONSPECIFIC_CURRENT i RANGE g }
PARAMETER { g = 0.001 (S/cm2) e = -70 (mV) }
ASSIGNED { v (mV) i (mA/cm2) }
BREAKPOINT { i = g * (v - e) }
"""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TIMESCALES_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "nrnivmodl"


def write_mod(directory, text=LEAK):
    directory.mkdir(exist_ok=True)
    (directory / "tsleak.mod").write_text(text)
    return directory


def test_compiles_once_into_a_keyed_directory(tmp_path, cache) -> None:
    mod_dir = write_mod(tmp_path / "mod")
    build = _nrnivmodl.compiled_dir(mod_dir)
    assert build.parent == cache
    assert build.name.startswith("neuron-9")
    library = next(build.glob("*/libnrnmech.so"))
    stamp = library.stat().st_mtime_ns
    assert _nrnivmodl.compiled_dir(mod_dir) == build
    assert library.stat().st_mtime_ns == stamp
    assert not list(cache.glob(".*"))
    write_mod(mod_dir, LEAK.replace("-70", "-65"))
    assert _nrnivmodl.build_key(mod_dir) != build.name


INCLUDING = """
NEURON { THREADSAFE SUFFIX tsleak NONSPECIFIC_CURRENT i RANGE g }
INCLUDE "tsleak.inc"
ASSIGNED { v (mV) i (mA/cm2) }
BREAKPOINT { i = g * (v - e) }
"""
INCLUDED = "PARAMETER { g = 0.001 (S/cm2) e = -70 (mV) }\n"


def test_an_included_file_is_compiled_and_keys_the_build(tmp_path, cache) -> None:
    mod_dir = write_mod(tmp_path / "mod", INCLUDING)
    (mod_dir / "tsleak.inc").write_text(INCLUDED)
    build = _nrnivmodl.compiled_dir(mod_dir)
    assert next(build.glob("*/libnrnmech.so"))
    (mod_dir / "tsleak.inc").write_text(INCLUDED.replace("-70", "-65"))
    assert _nrnivmodl.build_key(mod_dir) != build.name


def test_a_broken_mod_file_reports_the_translator_output(tmp_path, cache) -> None:
    mod_dir = write_mod(tmp_path / "mod", LEAK.replace("BREAKPOINT {", "BREAKPOINT {{"))
    with pytest.raises(ModelError, match="nrnivmodl failed") as info:
        _nrnivmodl.compiled_dir(mod_dir)
    assert "tsleak" in str(info.value)
    assert not [p for p in cache.iterdir() if p.is_dir()]


def test_missing_compiler_is_named(tmp_path, cache, monkeypatch) -> None:
    mod_dir = write_mod(tmp_path / "mod")
    real_which = shutil.which
    monkeypatch.setattr(
        _nrnivmodl.shutil, "which", lambda name: None if name in ("cc", "gcc") else real_which(name)
    )
    with pytest.raises(ModelError, match="missing a C compiler"):
        _nrnivmodl.compiled_dir(mod_dir)


def test_no_mod_files(tmp_path, cache) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match=r"no \.mod files"):
        _nrnivmodl.compiled_dir(tmp_path / "empty")


FLAGGED = (
    LEAK
    + """
VERBATIM
#ifndef TS_FLAGGED
#error "compiled without the extra flags"
#endif
ENDVERBATIM
"""
)


def test_extra_flags_reach_the_compiler_and_key_the_build(tmp_path, cache, monkeypatch) -> None:
    mod_dir = write_mod(tmp_path / "mod", FLAGGED)
    plain_key = _nrnivmodl.build_key(mod_dir)
    with pytest.raises(ModelError, match="compiled without the extra flags"):
        _nrnivmodl.compiled_dir(mod_dir)
    monkeypatch.setenv(_nrnivmodl.FLAGS_ENV, " -O2   -DTS_FLAGGED ")
    build = _nrnivmodl.compiled_dir(mod_dir)
    assert build.name == _nrnivmodl.build_key(mod_dir) != plain_key
    assert next(build.glob("*/libnrnmech.so")).exists()
