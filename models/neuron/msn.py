"""The study's medium spiny neuron: the Wolf et al. 2005 MSN with explicit spines, in NEURON.

Built as Mattioni & Le Novère 2013 ran it, quirks included; each quirk is a named constant
below, used where it applies. Typical use::

    cell = MSN(spines="two")
    cell.stimulate_train([1], start_ms=100, rate_hz=20, count=5)
    cell.apply_settings()
    cell.h.finitialize(cell.settings.v_init_mV)
    cell.h.continuerun(300)

Stimuli must be set before `finitialize` (VecStims read their times at initialization).
Fixed step only: the spine calcium (catrack, caltrack) and rubin are advanced by
hand-written backward-Euler solves of the original equations (several times faster than
the original `sparse`/`derivimplicit`), and the spine calcium's axial diffusion by one
SpineAxial point process per spine (NEURON's LONGITUDINAL_DIFFUSION scheme, without its
cost in NEURON 9: see axial.py); these mechanisms refuse CVODE.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from timescales.errors import ModelError
from timescales.models.neuron.layouts import SpineSite, select_sites
from timescales.models.neuron.mechanisms import load_msn_mechanisms, skip_unread_reversals
from timescales.models.neuron.spine import (
    CM_UF_PER_CM2,
    KIR_OVERRIDE_S_PER_CM2,
    RA_OHM_CM,
    NeuronVar,
    Spine,
    SpinyCell,
    build_spine,
    insert,
    set_ion_defaults,
)

__all__ = ["MSN", "NeuronVar", "SimulationSettings", "Spine"]

_instances = itertools.count()

# --- Global values (msn-electrical.md 1, 3; the spine's in spine.py) --------------------
G_PAS_S_PER_CM2 = 1.15e-5
E_PAS_MV = -70.0
EK_MSN_MV = -90.0


#: The multisplit ids of soma(0) and soma(1) when the cell runs on threads (MSN.set_threads).
SPLIT_IDS = (0, 1)
_split = {"done": False}


def wolf_nseg(length_um: float, diam_um: float) -> int:
    """nseg of the Wolf template's d_lambda rule (f = 100 Hz, d_lambda = 0.15, Ra 100, cm 1)."""
    lambda_um = 1e5 * math.sqrt(diam_um / (4 * math.pi * 100.0 * RA_OHM_CM * CM_UF_PER_CM2))
    return 2 * int((length_um / (0.15 * lambda_um) + 0.9) / 2) + 1


# The distal dendrites keep the nseg computed on the Wolf geometry (L 395.2, diam 0.72)
# after being shortened to 190 um: 11 segments of 17.3 um.
DISTAL_NSEG = wolf_nseg(395.2, 0.72)

# (L um, diam um, nseg) per region, as simulated (spine correction removed; mid nseg = 5).
GEOMETRY = {
    "soma": (16.0, 16.0, 1),
    "proximal": (20.0, 2.25, 1),
    "mid": (20.0, 1.0, 5),
    "distal": (190.0, 0.5, DISTAL_NSEG),
}

# Channel densities per MSN region (msn-electrical.md 4): mechanism -> (parameter, value).
_COMMON_DENDRITE = {
    "naf": ("gbar", 0.0195),
    "nap": ("gbar", 1.3802e-7),
    "bkkca": ("gbar", 0.001),
    "skkca": ("gbar", 0.145),
    "caL": ("pbar", 6.7e-6),
    "caL13": ("pbar", 4.25e-7),
    "can": ("pbar", 1.0e-5),
    "caq": ("pbar", 6.0e-6),
    "car": ("pbar", 2.6e-5),
    "cat": ("pbar", 4e-7),
}
DENSITIES: dict[str, dict[str, tuple[str, float]]] = {
    "soma": {
        **_COMMON_DENDRITE,
        "naf": ("gbar", 1.5),
        "nap": ("gbar", 4e-5),
        "kas": ("gbar", 0.0104),
        "kaf": ("gbar", 0.225),
        "krp": ("gbar", 0.001),
    },
    "proximal": {**_COMMON_DENDRITE, "kas": ("gbar", 0.0104), "kaf": ("gbar", 0.225)},
    "mid": {**_COMMON_DENDRITE, "kas": ("gbar", 0.00095142), "kaf": ("gbar", 0.020584)},
    "distal": {**_COMMON_DENDRITE, "kas": ("gbar", 0.00095142), "kaf": ("gbar", 0.020584)},
}
MSN_POOLS = ("cadyn", "caldyn")


@dataclass(frozen=True)
class SimulationSettings:
    """The study's simulation settings (msn-electrical.md 1).

    v_init: the original set v_init = -87.75 mV but called finitialize() without argument,
    so it actually started at -65 mV; we start at the intended -87.75 mV (rest differs by
    < 0.01 mV).
    """

    celsius_degC: float = 35.0
    v_init_mV: float = -87.75
    dt_ms: float = 0.025


class MSN(SpinyCell):
    """The MSN cell. `spines`: "zero", "two", "onebranch", "all" or spine numbers of "all"."""

    def __init__(self, spines: str | Sequence[int] = "two") -> None:
        sites = select_sites(spines)
        self._index = next(_instances)
        self._h = load_msn_mechanisms().h
        self.settings = SimulationSettings()
        set_ion_defaults(self._h)
        self.soma = self._section("soma")
        self.dendrites: dict[str, Any] = {}
        self._region: dict[str, str] = {"soma": "soma"}
        self._build_dendrites()
        for name, section in self.sections_by_region():
            self._insert_msn_mechanisms(section, self._region[name])
        super().__init__(self._h, [self._build_spine(site) for site in sites], "MSN")
        self._clamps: list[Any] = []

    def __str__(self) -> str:
        return f"MSN[{self._index}]"

    @property
    def h(self) -> Any:
        """NEURON's hoc interpreter (`neuron.h`), with the MSN mechanisms loaded."""
        return self._h

    # --- construction ---------------------------------------------------------------
    def _section(self, name: str) -> Any:
        return self._h.Section(name=name, cell=self)

    def _shape(self, section: Any, region: str) -> None:
        section.L, section.diam, section.nseg = GEOMETRY[region]
        section.Ra, section.cm = RA_OHM_CM, CM_UF_PER_CM2

    def _build_dendrites(self) -> None:
        self._shape(self.soma, "soma")
        for tree in (1, 2, 3, 4):
            proximal = self._add_dendrite(f"dend{tree}", "proximal")
            proximal.connect(self.soma(1 if tree in (1, 2) else 0))
            for branch in (1, 2):
                mid = self._add_dendrite(f"dend{tree}_{branch}[0]", "mid")
                mid.connect(proximal(1))
                for tip in (1, 2):
                    distal = self._add_dendrite(f"dend{tree}_{branch}[{tip}]", "distal")
                    distal.connect(mid(1))

    def _add_dendrite(self, name: str, region: str) -> Any:
        section = self._section(name)
        self._shape(section, region)
        self.dendrites[name] = section
        self._region[name] = region
        return section

    def sections_by_region(self) -> list[tuple[str, Any]]:
        """(name, section) of the soma and the 28 dendrites."""
        return [("soma", self.soma), *self.dendrites.items()]

    def region_of(self, name: str) -> str:
        """Region ("soma", "proximal", "mid", "distal") of a dendrite name or "soma"."""
        return self._region[name]

    def _insert_msn_mechanisms(self, section: Any, region: str) -> None:
        section.insert("pas")
        for seg in section:
            seg.pas.g, seg.pas.e = G_PAS_S_PER_CM2, E_PAS_MV
        for mechanism, (parameter, value) in DENSITIES[region].items():
            insert(section, mechanism, {parameter: value})
        insert(section, "kir", {"gbar": KIR_OVERRIDE_S_PER_CM2})
        for pool in MSN_POOLS:
            section.insert(pool)
        section.ek = EK_MSN_MV

    def _build_spine(self, site: SpineSite) -> Spine:
        return build_spine(self._h, self._section, site, self.dendrites[site.parent])

    def add_iclamp(self, amp_nA: float, delay_ms: float, dur_ms: float) -> Any:
        """A somatic current clamp (IClamp at soma(0.5)); keep the returned object alive."""
        clamp = self._h.IClamp(self.soma(0.5))
        clamp.amp, clamp.delay, clamp.dur = amp_nA, delay_ms, dur_ms
        self._clamps.append(clamp)
        return clamp

    # --- settings and variables -----------------------------------------------------
    def set_threads(self, n: int) -> None:
        """Run NEURON's fixed-step solver on `n` threads (mechanisms are THREADSAFE).

        NEURON gives each thread whole trees, and the MSN is one tree: with n > 1 the four
        dendritic trees are cut off the soma and joined back by multisplit (one split id
        per soma end), which NEURON solves exactly as the whole tree. NEURON hands out the
        roots in creation order, the first ones to the first thread: on two threads the
        soma, dend1 and dend2 go to one, dend3 and dend4 to the other, half of the segments
        each. Once per process, after the cell is built and before `finitialize`.
        """
        if n < 1:
            raise ModelError(f"threads must be at least 1, got {n}")
        h = self._h
        pc = h.ParallelContext()
        if n == 1:
            pc.nthread(1)
            return
        if _split["done"]:
            raise ModelError(
                "threads > 1: NEURON splits one cell per process, and a cell was split in "
                "this one already; run each experiment with threads in a fresh process "
                "(`timescales run` does)"
            )
        pc.nthread(n)
        ends = {0.0: SPLIT_IDS[0], 1.0: SPLIT_IDS[1]}
        for sec in self.soma.children():
            sid = ends[sec.parentseg().x]
            h.disconnect(sec=sec)
            pc.multisplit(sec(0), sid)
        for x, sid in ends.items():
            pc.multisplit(self.soma(x), sid)
        pc.multisplit()
        _split["done"] = True

    def apply_settings(self) -> None:
        """Set celsius, dt and v_init; fixed step (CVODE off); eca and ecal, which no
        mechanism of the cell reads, computed at initialization only. Call before
        finitialize, after inserting any other mechanism."""
        h = self._h
        h.load_file("stdrun.hoc")
        h.CVode().active(0)
        h.celsius = self.settings.celsius_degC
        h.dt = self.settings.dt_ms
        h.v_init = self.settings.v_init_mV
        sections = [sec for _, sec in self.sections_by_region()] + self.spine_sections()
        skip_unread_reversals(h, sections)

    def recordable(self) -> dict[str, str]:
        """Variables besides the spines' a run can record: the soma's membrane potential."""
        return {"soma.v": "mV"}

    def timescales_variables(self) -> dict[str, NeuronVar]:
        """Variables for the NEURON adapter.

        soma.v (mV); per spine n: spine{n}.ca (head cai + cali, mM; pointer to catotal) and
        spine{n}.weight (AMPA NetCon weight, settable; takes effect at the next event).
        """
        soma_mid = self.soma(0.5)
        return {
            "soma.v": NeuronVar(
                "mV", "output", soma_mid._ref_v, lambda: soma_mid.v, None, section=self.soma
            ),
            **self.spine_variables(),
        }
