"""Compile NMODL files with nrnivmodl into a per-user cache, once, and load them into NEURON.

The build directory is keyed by the NEURON version and a hash of the .mod files, the .inc
files they INCLUDE and the compiler flags added to nrnivmodl's (-O3, then any in
$TIMESCALES_NRNIVMODL_FLAGS), so an installed package never writes into its own source tree
and a changed file or flag gets a fresh build.
Builds happen in a temporary directory that is renamed into place, under a file lock, so
concurrent processes neither collide nor see half-built libraries.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from filelock import FileLock

from timescales import cache as timescales_cache
from timescales.errors import ModelError

_LIBRARY_NAME = "libnrnmech.so"
#: Flags every build adds after nrnivmodl's own -O2: -O3 takes about 9 % off the MSN's step
#: with bitwise the same results (benchmarks/RESULTS.md, "The MSN's step").
DEFAULT_FLAGS = "-O3"
#: Extra compiler flags for the mechanisms (e.g. "-march=native"), added after
#: DEFAULT_FLAGS; part of the cache key.
FLAGS_ENV = "TIMESCALES_NRNIVMODL_FLAGS"
_loaded: dict[Path, Path] = {}


def cache_root() -> Path:
    """The directory holding compiled mechanisms: `nrnivmodl` under timescales' cache root."""
    return timescales_cache.cache_root() / "nrnivmodl"


def _neuron_version() -> str:
    try:
        return version("neuron")
    except PackageNotFoundError as exc:
        raise ModelError(
            "NEURON is not installed (no 'neuron' distribution found); pip install neuron"
        ) from exc


def mod_sources(mod_dir: Path) -> list[Path]:
    """The .mod files of `mod_dir` and the .inc files they may INCLUDE, sorted by name."""
    files = sorted(mod_dir.glob("*.mod"))
    if not files:
        raise ModelError(f"no .mod files in {mod_dir}")
    return sorted([*files, *mod_dir.glob("*.inc")])


def extra_flags() -> str:
    """The compiler flags added to nrnivmodl's: DEFAULT_FLAGS, then $TIMESCALES_NRNIVMODL_FLAGS."""
    return " ".join([DEFAULT_FLAGS, *os.environ.get(FLAGS_ENV, "").split()])


def build_key(mod_dir: Path) -> str:
    """Cache key: NEURON version plus a hash of the names and contents of the .mod (and .inc)
    files and of the extra compiler flags."""
    digest = hashlib.sha256()
    for path in mod_sources(mod_dir):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    flags = extra_flags()
    if flags:
        digest.update(f"flags:{flags}".encode())
    return f"neuron-{_neuron_version()}-{digest.hexdigest()[:16]}"


def _find_nrnivmodl() -> str:
    beside_python = Path(sys.executable).parent / "nrnivmodl"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nrnivmodl")
    if found is None:
        raise ModelError(
            "nrnivmodl not found (neither next to the Python interpreter nor on PATH); "
            "it is installed with the 'neuron' wheel"
        )
    return found


def _check_build_tools() -> None:
    needed = {"a C compiler": ("cc", "gcc"), "a C++ compiler": ("c++", "g++"), "make": ("make",)}
    missing = [what for what, names in needed.items() if not any(map(shutil.which, names))]
    if missing:
        raise ModelError(
            f"cannot compile NEURON mechanisms: missing {', '.join(missing)} "
            "(install them, e.g. Debian 'build-essential')"
        )


def _library_in(build_dir: Path) -> Path | None:
    for arch in (platform.machine(), "x86_64", "aarch64", "arm64"):
        candidate = build_dir / arch / _LIBRARY_NAME
        if candidate.exists():
            return candidate
    return None


def _compile(mod_dir: Path, target: Path) -> None:
    """Run nrnivmodl in a fresh temporary directory next to `target`, then rename it there."""
    _check_build_tools()
    nrnivmodl = _find_nrnivmodl()
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for path in mod_sources(mod_dir):
            shutil.copy2(path, work / path.name)
        flags = extra_flags()
        result = subprocess.run(
            [nrnivmodl, *(["-incflags", flags] if flags else [])],
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or _library_in(work) is None:
            output = (result.stdout + result.stderr).strip()
            raise ModelError(
                f"nrnivmodl failed on {mod_dir} (exit code {result.returncode}):\n{output[-4000:]}"
            )
        os.replace(work, target)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def compiled_dir(mod_dir: Path) -> Path:
    """The cache directory holding the build of `mod_dir`; compiles it first if needed."""
    mod_dir = Path(mod_dir).resolve()
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    target = root / build_key(mod_dir)
    if _library_in(target) is not None:
        return target
    with FileLock(str(target) + ".lock"):
        if _library_in(target) is None:
            if target.exists():
                shutil.rmtree(target)
            _compile(mod_dir, target)
    return target


def ensure_mechanisms(mod_dir: Path) -> Path:
    """Compile `mod_dir` if needed, load it into NEURON once per process; return the build dir."""
    mod_dir = Path(mod_dir).resolve()
    if mod_dir in _loaded:
        return _loaded[mod_dir]
    build_dir = compiled_dir(mod_dir)
    from timescales.adapters._imports import import_neuron

    neuron = import_neuron()
    if not neuron.load_mechanisms(str(build_dir), warn_if_already_loaded=False):
        raise ModelError(f"NEURON could not load the mechanisms built in {build_dir}")
    _loaded[mod_dir] = build_dir
    return build_dir
