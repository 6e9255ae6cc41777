"""Load the MSN's NMODL mechanisms into NEURON once per process and fill their tau tables.

mod/*.mod: the mechanisms (written for this project from the fact sheets; THREADSAFE).
data/tau_tables.csv: the measured (v, tau) tables of naf, nap, kir, kaf, krp, car and cat,
one row per point (mechanism, FUNCTION_TABLE name, v_mV, tau_ms before division by qfact);
they are loaded into the FUNCTION_TABLEs (linear interpolation, end values outside).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

from timescales.adapters._imports import import_neuron
from timescales.adapters._nrnivmodl import ensure_mechanisms
from timescales.errors import ModelError

MOD_DIR = Path(__file__).resolve().parent / "mod"
DATA_DIR = Path(__file__).resolve().parent / "data"

_state: dict[str, Any] = {"mod_dir": None, "vectors": []}


def tau_tables() -> dict[tuple[str, str], tuple[list[float], list[float]]]:
    """(mechanism, FUNCTION_TABLE name) -> (v_mV, tau_ms) from data/tau_tables.csv."""
    tables: dict[tuple[str, str], tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    with open(DATA_DIR / "tau_tables.csv", newline="") as handle:
        rows = (line for line in handle if not line.startswith("#"))
        for row in csv.DictReader(rows):
            v_mV, tau_ms = tables[(row["mechanism"], row["function_table"])]
            v_mV.append(float(row["v_mV"]))
            tau_ms.append(float(row["tau_ms"]))
    return dict(tables)


def load_msn_mechanisms(mod_dir: Path | None = None) -> ModuleType:
    """Compile (cached) and load the mechanisms, fill the FUNCTION_TABLEs; returns `neuron`.

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
        tau_vec, v_vec = h.Vector(tau_ms), h.Vector(v_mV)
        getattr(h, f"table_{table}_{mechanism}")(tau_vec, v_vec)
        _state["vectors"].extend((tau_vec, v_vec))
    _state["mod_dir"] = wanted
    return neuron
