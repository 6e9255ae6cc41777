"""`timescales info`: the installation (versions, adapters, caches), or what a model offers."""

from __future__ import annotations

import argparse
import ctypes.util
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from . import __version__, biomodels, combine
from .cell import available_cells
from .errors import ModelError
from .registry import available_adapters

PACKAGES = ("neuron", "libroadrunner", "python-libsbml", "antimony", "numpy", "pint", "h5py")


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def installation() -> str:
    """Versions, registered adapters and cells, the caches, where BioModels files are looked
    for, and MPI, without importing NEURON."""
    from timescales.adapters._nrnivmodl import cache_root

    lines = [f"timescales {__version__} (Python {platform.python_version()}, {platform.machine()})"]
    lines += [f"  {name:<15} {_version(name)}" for name in PACKAGES]
    lines.append("adapters (entry points 'timescales.adapters'):")
    lines += [f"  {name:<15} {ep.value}" for name, ep in sorted(available_adapters().items())]
    lines.append("cells (entry points 'timescales.cells'):")
    lines += [f"  {name:<15} {ep.value}" for name, ep in sorted(available_cells().items())]
    lines.append(f"mechanism cache: {cache_root()}")
    lines.append(f"BioModels cache: {biomodels.cache_dir()}")
    folders = os.pathsep.join(map(str, biomodels.search_path())) or "not set"
    lines.append(f"{biomodels.PATH_VAR}: {folders}")
    mpi = ctypes.util.find_library("mpi")
    lines.append(f"MPI library:     {mpi or 'none found'}; mpi4py {_version('mpi4py')}")
    return "\n".join(lines)


def model_report(name_or_path: str) -> str:
    """Species with units, reactions, candidate calcium species and coupling needs of a model:
    a bundled one, a file, `biomodels:<id>` (found or downloaded as an experiment would), or a
    COMBINE archive (its entries and the SED-ML changes applied first)."""
    from timescales.adapters.roadrunner import SBMLModel
    from timescales.models import sbml

    lines = []
    if biomodels.is_biomodels(name_or_path):
        source = biomodels.resolve(name_or_path)
    elif combine.is_archive(name_or_path):
        archive = combine.read(name_or_path)
        lines += combine.describe(archive)
        source = archive.file()
    elif name_or_path in sbml.names():
        source = sbml.path(name_or_path)
    else:
        source = Path(name_or_path)
    desc = SBMLModel.load(source).describe()
    lines.append(f"model {desc['model_id']} ({desc['source']}), time unit {desc['time_unit']}")
    for key, heading in (
        ("unsupported", "libRoadRunner cannot run this model"),
        ("suspicious", "suspicious values"),
    ):
        if desc[key]:
            lines.append(f"{heading} ({len(desc[key])}):")
            lines += [f"  {desc['source']}: {line}" for line in desc[key]]
    try:
        lines.append(str(sbml.describe(source)))
    except ModelError:
        lines.append("coupling hints: none in the file (name them in the experiment file)")
    lines.append(f"species ({len(desc['species'])}):")
    for s in desc["species"]:
        flags = " boundary" if s["boundary"] else ""
        flags += f" ({s['rule']} rule)" if s["rule"] else ""
        name = f" '{s['name']}'" if s["name"] and s["name"] != s["id"] else ""
        lines.append(f"  {s['id']}{name} [{s['unit']}]{flags}")
    lines.append(f"reactions: {len(desc['reactions'])}")
    for kind in ("parameters", "compartments"):
        lines.append(f"{kind} ({len(desc[kind])}):")
        for p in desc[kind]:
            name = f" '{p['name']}'" if p["name"] and p["name"] != p["id"] else ""
            unit = p["unit"] or "no unit declared"
            value = "(no initial value)" if p["value"] != p["value"] else f"= {p['value']:g}"
            lines.append(f"  {p['id']}{name} {value} [{unit}]")
    cands = desc["calcium_candidates"]
    lines.append(f"calcium candidates: {', '.join(cands) if cands else 'none'}")
    lines.append(
        "to couple: [biochemistry.calcium] species = one of the candidates, mode = 'flux' "
        "(the adapter adds an input), 'parameter' (the model's own influx) or 'clamp'; "
        "[biochemistry.output] variable = the species that sets the weight"
    )
    return "\n".join(lines)


def cmd_info(args: argparse.Namespace) -> int:
    print(model_report(args.model) if args.model else installation())
    return 0
