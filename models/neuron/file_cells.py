"""Cells from files, as experiment files name them (the `files` entry of `timescales.cells`).

`[cell] model` is a Python file whose function `build` (or the one `[cell] build` names)
returns the cell's sections (a list, or an object with an `all` attribute); a hoc file with
`template = "Name"`; an SWC morphology read with NEURON's Import3d, given `biophysics`
("passive", "hh" or "file.py:function" called with the sections); or `"module:function"`
of an installed package. Paths are relative to the experiment file. Such a cell has no
spines of its own: a `[cell.spines]` table adds the study's spine (spine.py) at listed
places, or by density on sections chosen by name patterns, placed from a seed.
"""

from __future__ import annotations

import fnmatch
import importlib
import importlib.util
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from timescales.errors import ModelError
from timescales.models.neuron.cells import SYNAPSES
from timescales.models.neuron.layouts import SpineSite
from timescales.models.neuron.mechanisms import load_msn_mechanisms, skip_unread_reversals
from timescales.models.neuron.spine import (
    NeuronVar,
    SpineGeometry,
    SpinyCell,
    build_spine,
    set_ion_defaults,
)

Problems = list[tuple[str, str, Any]]
#: Which [cell] key goes with which kind of file.
KEY_OF = {".py": "build", ".hoc": "template", ".swc": "biophysics"}
#: The quick-start biophysics of SWC cells: leak everywhere (g 1e-4 S/cm2, e -70 mV),
#: Ra 100 ohm cm, cm 1 uF/cm2; "hh" adds NEURON's hh (its defaults) to the soma.
PASSIVE = {"g": 1e-4, "e": -70.0}
RA_OHM_CM, CM_UF_PER_CM2 = 100.0, 1.0
#: Longest segment of an SWC section: nseg is the smallest odd number that keeps segments
#: no longer than this.
SEGMENT_UM = 40.0


class FileCellType:
    """Cells built from files or installed builders (see the module docstring)."""

    default_spines = None

    def spine_numbers(self, options: Mapping[str, Any], base_dir: Path) -> tuple[int, ...] | None:
        kit = options.get("spines")
        if not isinstance(kit, Mapping):
            return ()
        return tuple(range(1, len(kit["at"]) + 1)) if kit.get("at") else None

    def synapse_kinds(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        return SYNAPSES if isinstance(options.get("spines"), Mapping) else ()

    def problems(self, options: Mapping[str, Any], base_dir: Path) -> Problems:
        return _source_problems(options, base_dir) + _kit_problems(options.get("spines"))

    def build(self, options: Mapping[str, Any], base_dir: Path) -> FileCell:
        h = load_msn_mechanisms().h
        set_ion_defaults(h)
        before = set(h.allsec())
        owner, sections = _load(h, options, base_dir, before)
        cell = FileCell(h, owner, sections, options.get("spines"))
        skip_unread_reversals(h, [*sections, *cell.spine_sections()])
        if options.get("threads", 1) > 1:
            h.ParallelContext().nthread(options["threads"])
        return cell


class FileCell(SpinyCell):
    """A cell from a file, with the spines its `[cell.spines]` table adds."""

    def __init__(self, h: Any, owner: object, sections: list[Any], kit: Any) -> None:
        self.owner = owner  # keeps a template instance (and so its sections) alive
        self.sections = sections
        sites = _sites(sections, kit) if isinstance(kit, Mapping) else []
        geometry = SpineGeometry(**_geometry(kit)) if isinstance(kit, Mapping) else SpineGeometry()
        spines = [
            build_spine(h, lambda name: h.Section(name=name), site, parent, geometry)
            for site, parent in sites
        ]
        super().__init__(h, spines, "cell")
        self.soma = next((s for s in sections if is_soma(s.name())), sections[0])

    def recordable(self) -> dict[str, str]:
        """The membrane potential of the soma (or of the first section if none is named so)."""
        return {"soma.v": "mV"}

    def timescales_variables(self) -> dict[str, NeuronVar]:
        mid = self.soma(0.5)
        return {
            "soma.v": NeuronVar("mV", "output", mid._ref_v, lambda: mid.v, None, section=mid.sec),
            **self.spine_variables(),
        }


# ------------------------------------------------------------------ checking
def _source_problems(options: Mapping[str, Any], base_dir: Path) -> Problems:
    model = str(options["model"])
    suffix = Path(model).suffix.lower()
    out: Problems = []
    if suffix in KEY_OF and not (base_dir / model).is_file():
        out.append(("cell.model", "an existing file", str(base_dir / model)))
    if suffix not in KEY_OF and not _installed(model):
        out.append(("cell.model", "'module:function' of an installed module", model))
    for suffix_of, key in KEY_OF.items():
        wanted = suffix == suffix_of or (key == "build" and suffix not in KEY_OF)
        if options.get(key) is not None and not wanted:
            out.append(
                (f"cell.{key}", f"no {key!r} for this model (only for {suffix_of})", options[key])
            )
    if suffix == ".hoc" and options.get("template") is None:
        out.append(("cell.template", "the name of the template to instantiate", None))
    biophysics = options.get("biophysics")
    if suffix == ".swc" and biophysics is not None and biophysics not in ("passive", "hh"):
        file = biophysics.rsplit(":", 1)[0]
        if ":" not in biophysics or not (base_dir / file).is_file():
            out.append(("cell.biophysics", "'passive', 'hh' or 'file.py:function'", biophysics))
    return out


def _kit_problems(kit: Any) -> Problems:
    if kit is None:
        return []
    if not isinstance(kit, Mapping):
        return [("cell.spines", "a [cell.spines] table (this cell has no spines of its own)", kit)]
    out: Problems = []
    given = {key: value for key, value in kit.items() if value is not None}
    by_density = "sections" in given or "density_per_um" in given
    if ("at" in given) == by_density:
        out.append(("cell.spines", "either 'at' or 'sections' with 'density_per_um'", given))
    elif by_density and not ("sections" in given and "density_per_um" in given):
        out.append(("cell.spines", "'sections' and 'density_per_um' together", given))
    if kit.get("kind", "msn") != "msn":
        out.append(("cell.spines.kind", "'msn' (the study's spine)", kit["kind"]))
    return out


# ------------------------------------------------------------------ building
def _load(h: Any, options: Mapping[str, Any], base_dir: Path, before: set[Any]) -> tuple[Any, list]:
    """The object the file built (kept alive) and the cell's sections."""
    model = str(options["model"])
    suffix = Path(model).suffix.lower()
    if suffix == ".hoc":
        if not h.load_file(str(base_dir / model)):
            raise ModelError(f"{model}: NEURON could not load it")
        owner = getattr(h, str(options["template"]))()
    elif suffix == ".swc":
        owner = _swc(h, base_dir / model)
    else:
        owner = _builder(model, options.get("build"), base_dir)()
    sections = _sections(owner) or [s for s in h.allsec() if s not in before]
    if suffix == ".swc":
        _biophysics(sections, options.get("biophysics") or "passive", base_dir)
    if not sections:
        raise ModelError(f"{model}: the cell has no sections")
    return owner, sections


def _builder(model: str, name: str | None, base_dir: Path) -> Callable[[], Any]:
    if Path(model).suffix.lower() == ".py":
        module = _module_from_file(base_dir / model)
        function = name or "build"
    else:
        module_name, function = model.rsplit(":", 1)
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ModelError(f"{model}: cannot import {module_name!r} ({exc})") from exc
    builder = getattr(module, function, None)
    if not callable(builder):
        raise ModelError(f"{model}: no function {function!r} to build the cell")
    return builder


def _installed(model: str) -> bool:
    """Whether the top-level package of a 'module:function' model is installed (looked up,
    not imported: its package may start a simulator)."""
    package = model.rsplit(":", 1)[0].split(".")[0]
    return bool(package) and importlib.util.find_spec(package) is not None


def is_soma(section_name: str) -> bool:
    """Whether a section is a soma: its name, after any template instance, starts with soma."""
    return section_name.rsplit(".", 1)[-1].startswith("soma")


def _module_from_file(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"timescales_cell_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ModelError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sections(owner: Any) -> list[Any]:
    """The sections a builder returned: a list, or an object's `all`; [] for anything else."""
    if isinstance(owner, list | tuple):
        return list(owner)
    every = getattr(owner, "all", None)
    return list(every) if every is not None else []


def _swc(h: Any, path: Path) -> Any:
    h.load_file("import3d.hoc")
    reader = h.Import3d_SWC_read()
    reader.input(str(path))
    morphology = h.Import3d_GUI(reader, False)
    morphology.instantiate(None)
    return morphology


def _biophysics(sections: list[Any], biophysics: str, base_dir: Path) -> None:
    for sec in sections:
        sec.nseg = odd_segments(sec.L, SEGMENT_UM)
        sec.Ra, sec.cm = RA_OHM_CM, CM_UF_PER_CM2
    if biophysics in ("passive", "hh"):
        for sec in sections:
            sec.insert("pas")
            for seg in sec:
                seg.pas.g, seg.pas.e = PASSIVE["g"], PASSIVE["e"]
            if biophysics == "hh" and is_soma(sec.name()):
                sec.insert("hh")
        return
    file, function = biophysics.rsplit(":", 1)
    getattr(_module_from_file(base_dir / file), function)(sections)


def odd_segments(length_um: float, longest_um: float) -> int:
    """The smallest odd number of segments no longer than `longest_um` (odd: a node at 0.5)."""
    n = max(1, math.ceil(length_um / longest_um))
    return n if n % 2 else n + 1


def _geometry(kit: Mapping[str, Any]) -> dict[str, float]:
    keys = ("neck_length_um", "neck_diam_um", "head_length_um", "head_diam_um")
    return {k: kit[k] for k in keys if kit.get(k) is not None}


def _sites(sections: list[Any], kit: Mapping[str, Any]) -> list[tuple[SpineSite, Any]]:
    """Where the spines go, numbered 1, 2, ... (explicit places, or by density from a seed)."""
    by_name = {sec.name(): sec for sec in sections}
    if kit.get("at"):
        places = []
        for name, x in kit["at"]:
            if name not in by_name:
                known = ", ".join(sorted(by_name)[:12])
                raise ModelError(f"cell.spines.at: no section {name!r} in the cell ({known})")
            places.append((by_name[name], float(x)))
    else:
        places = place_by_density(sections, kit["sections"], kit["density_per_um"], kit["seed"])
    return [(SpineSite(n, sec.name(), x), sec) for n, (sec, x) in enumerate(places, start=1)]


def matches(section_name: str, patterns: list[str]) -> bool:
    """Whether a section name is one of `patterns` or matches one as a shell-style glob (so
    "apic[3]" names that section, though in a glob [3] is a character class)."""
    return any(section_name == p or fnmatch.fnmatchcase(section_name, p) for p in patterns)


def place_by_density(
    sections: list[Any], patterns: list[str], density_per_um: float, seed: int
) -> list[tuple[Any, float]]:
    """Spine places on the sections whose names match `patterns`, in name order: a Poisson
    number of spines (mean length x density) per section at uniform positions, from `seed`."""
    chosen = sorted((s for s in sections if matches(s.name(), patterns)), key=lambda s: s.name())
    if not chosen:
        known = ", ".join(sorted(s.name() for s in sections)[:12])
        raise ModelError(f"cell.spines.sections: {patterns} match no section of the cell ({known})")
    rng = np.random.default_rng(seed)
    places = []
    for sec in chosen:
        count = rng.poisson(sec.L * density_per_um)
        places += [(sec, float(x)) for x in np.sort(rng.uniform(0.0, 1.0, count))]
    return places


FILE_CELLS = FileCellType()
