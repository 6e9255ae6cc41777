"""Load the MSN's NMODL mechanisms into NEURON once per process and fill their tau tables.

mod/*.mod: the mechanisms (written for this project from the fact sheets; THREADSAFE).
data/tau_tables.csv: the measured (v, tau) tables of naf, nap, kir, kaf, krp, car and cat,
one row per point (mechanism, table name, v_mV, tau_ms before division by qfact); they are
loaded into each mechanism's tau_n, tau_v and tau_ms arrays, which mod/tau_table.inc
interpolates (linearly, end values outside).
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from timescales.adapters._imports import import_neuron
from timescales.adapters._nrnivmodl import ensure_mechanisms, mod_sources
from timescales.errors import ModelError

MOD_DIR = Path(__file__).resolve().parent / "mod"
DATA_DIR = Path(__file__).resolve().parent / "data"

_state: dict[str, Any] = {"mod_dir": None}
#: Table name -> its index in mod/tau_table.inc (TAUM, TAUH) and the points one holds.
TABLE_INDEX = {"taum": 0, "tauh": 1}
TABLE_POINTS = 32

# Text replacements that turn our mod files into builds NEURON solves itself (references
# for tests and benchmarks): NEURON's LONGITUDINAL_DIFFUSION instead of SpineAxial; with
# ORIGINAL_SOLVES also METHOD sparse / derivimplicit instead of our hand-written solves,
# exp through NEURON's hoc_Exp, a full search of a tau table at every lookup and each calcium
# channel computing its own GHK factors, as the original model computed them. Replacements
# under EVERY_FILE apply wherever they match.
EVERY_FILE = "*"
_NEURON_LONGITUDINAL = [("    : LONGITUDINAL_DIFFUSION", "    LONGITUDINAL_DIFFUSION")]
NEURON_AXIAL: dict[str, list[tuple[str, str]]] = {
    "catrack": _NEURON_LONGITUDINAL,
    "caltrack": _NEURON_LONGITUDINAL,
    "spineaxial": [("    SOLVE diffuse\n", "")],
}
_SPARSE = ("SOLVE shells\n", "SOLVE scheme METHOD sparse\n")
ORIGINAL_SOLVES: dict[str, list[tuple[str, str]]] = {
    **NEURON_AXIAL,
    "catrack": [*_NEURON_LONGITUDINAL, _SPARSE],
    "caltrack": [*_NEURON_LONGITUDINAL, _SPARSE],
    "rubin": [("SOLVE detectors\n", "SOLVE equations METHOD derivimplicit\n")],
    "tau_table": [("        low = tau_low[k]\n", "        low = -1\n")],
    "ghk": [("#define GHK_MEMO 1 ", "#define GHK_MEMO 0 ")],
    EVERY_FILE: [('INCLUDE "libm_exp.inc"\n', "")],
}


#: A mod file's mechanism name, and its USEION statements.
_NAME = re.compile(r"^\s*(?:SUFFIX|POINT_PROCESS|ARTIFICIAL_CELL)\s+(\w+)", re.MULTILINE)
_USEION = re.compile(r"^\s*USEION\s+(\w+)\s+READ\s+([\w\s,]*?)\s*(?:WRITE|VALENCE|$)", re.MULTILINE)
#: NEURON's own mechanisms the project's cells use ('passive' and 'hh' biophysics): pas reads
#: no ion, hh reads ena and ek.
_BUILTIN_READS = {"pas": frozenset(), "hh": frozenset({"ena", "ek"})}
#: Bits of the style `h.ion_style` returns: concentration and reversal potential styles,
#: reversal potential computed at initialization, at every step, concentrations initialized.
_C_STYLE, _EINIT, _E_SHIFT, _EADVANCE, _CINIT = 0o3, 0o4, 3, 0o100, 0o200


def ion_reads(mod_dir: Path = MOD_DIR) -> dict[str, frozenset[str]]:
    """Each mechanism of `mod_dir` (NEURON's name) and of NEURON's own that the cells use ->
    the ion variables it reads (its USEION ... READ lists)."""
    reads = dict(_BUILTIN_READS)
    for path in mod_sources(mod_dir):
        text = path.read_text()
        name = _NAME.search(text)
        if name is not None:
            listed = (w for _, names in _USEION.findall(text) for w in re.split(r"[\s,]+", names))
            reads[name.group(1)] = frozenset(w for w in listed if w)
    return reads


def skip_unread_reversals(h: Any, sections: Iterable[Any]) -> None:
    """Compute a reversal potential at initialization only, in the sections where NEURON
    would recompute it at every step and no mechanism reads it. catrack and caltrack write
    the calcium concentrations, so NEURON recomputes eca and ecal (a logarithm each) in
    every segment at every step, while the calcium channels use GHK currents: on the MSN
    that was 4-8 % of the step, with the same results. A section with a mechanism the
    project does not know (nor its USEION statements) keeps NEURON's style."""
    reads = ion_reads()
    for sec in sections:
        names = {m.name() for m in sec(0.5)}
        names |= {pp.hname().split("[")[0] for seg in sec for pp in seg.point_processes()}
        ions = {n for n in names if n.endswith("_ion")}
        mechanisms = names - ions
        if not mechanisms <= reads.keys():
            continue
        for ion in ions:
            style = int(h.ion_style(ion, sec=sec))
            erev = "e" + ion.removesuffix("_ion")
            if style & _EADVANCE and not any(erev in reads[m] for m in mechanisms):
                c_style, e_style = style & _C_STYLE, (style >> _E_SHIFT) & 3
                einit, cinit = bool(style & _EINIT), bool(style & _CINIT)
                h.ion_style(ion, c_style, e_style, einit, False, cinit, sec=sec)


def tau_tables() -> dict[tuple[str, str], tuple[list[float], list[float]]]:
    """(mechanism, table name) -> (v_mV, tau_ms) from data/tau_tables.csv."""
    tables: dict[tuple[str, str], tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    with open(DATA_DIR / "tau_tables.csv", newline="") as handle:
        rows = (line for line in handle if not line.startswith("#"))
        for row in csv.DictReader(rows):
            v_mV, tau_ms = tables[(row["mechanism"], row["table"])]
            v_mV.append(float(row["v_mV"]))
            tau_ms.append(float(row["tau_ms"]))
    return dict(tables)


def variant_mod_dir(target: Path, replacements: dict[str, list[tuple[str, str]]]) -> Path:
    """Write our mod files with `replacements` (stem -> [(ours, theirs)]) into `target`."""
    target.mkdir(parents=True, exist_ok=True)
    everywhere = replacements.get(EVERY_FILE, [])
    matched: set[str] = set()
    for path in mod_sources(MOD_DIR):
        text = path.read_text()
        for ours, theirs in replacements.get(path.stem, []):
            if ours not in text:
                raise ModelError(f"{path}: no {ours.strip()!r} to replace")
            text = text.replace(ours, theirs)
        for ours, theirs in everywhere:
            if ours in text:
                matched.add(ours)
                text = text.replace(ours, theirs)
        (target / path.name).write_text(text)
    missing = [ours.strip() for ours, _ in everywhere if ours not in matched]
    if missing:
        raise ModelError(f"{MOD_DIR}: no file has {missing} to replace")
    return target


def load_msn_mechanisms(mod_dir: Path | None = None) -> ModuleType:
    """Compile (cached) and load the mechanisms, fill their tau tables; returns `neuron`.

    The first call in a process decides which build is loaded (NEURON cannot unload one);
    `mod_dir` lets a benchmark load a variant of the same mechanisms before building cells.
    """
    wanted = Path(mod_dir or MOD_DIR).resolve()
    neuron = import_neuron()
    loaded = _state["mod_dir"]
    if loaded is not None:
        if mod_dir is not None and wanted != loaded:
            raise ModelError(f"MSN mechanisms already loaded from {loaded}; cannot load {wanted}")
        return neuron
    ensure_mechanisms(wanted)
    h = neuron.h
    for (mechanism, table), (v_mV, tau_ms) in tau_tables().items():
        _fill_table(h, mechanism, table, v_mV, tau_ms)
    _state["mod_dir"] = wanted
    return neuron


def _fill_table(h: Any, mechanism: str, table: str, v_mV: list[float], tau_ms: list[float]) -> None:
    """Write one (v, tau) table into `mechanism`'s arrays of mod/tau_table.inc."""
    if table not in TABLE_INDEX or not 0 < len(v_mV) <= TABLE_POINTS:
        raise ModelError(
            f"{DATA_DIR / 'tau_tables.csv'}: table {mechanism!r} {table!r}: expected a name "
            f"in {sorted(TABLE_INDEX)} and 1 to {TABLE_POINTS} points, found {len(v_mV)}"
        )
    first = TABLE_INDEX[table] * TABLE_POINTS
    points, v_array, tau_array = (
        getattr(h, f"{name}_{mechanism}") for name in ("tau_n", "tau_v", "tau_ms")
    )
    points[TABLE_INDEX[table]] = len(v_mV)
    for k, (v, tau) in enumerate(zip(v_mV, tau_ms, strict=True)):
        v_array[first + k], tau_array[first + k] = v, tau
