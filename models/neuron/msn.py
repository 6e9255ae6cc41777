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

import bisect
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from timescales.cell import SpinePort
from timescales.errors import ConfigError, UnknownNameError
from timescales.models.neuron.axial import spine_axial
from timescales.models.neuron.cells import SYNAPSES
from timescales.models.neuron.layouts import SpineSite, select_sites
from timescales.models.neuron.mechanisms import load_msn_mechanisms

__all__ = ["MSN", "NeuronVar", "SimulationSettings", "Spine"]

_instances = itertools.count()

# --- Global values (msn-electrical.md 1, 3) ---------------------------------------------
RA_OHM_CM = 100.0
CM_UF_PER_CM2 = 1.0
G_PAS_S_PER_CM2 = 1.15e-5
E_PAS_MV = -70.0
EK_MSN_MV = -90.0
CA_IN0_MM = 0.001
CA_OUT0_MM = 5.0

# --- Quirks of the study, kept on purpose (msn-electrical.md 4, 10; spines.md 1) ----------
# Every run overrode kir gbar to the param-file value in all sections with kir, spines too.
KIR_OVERRIDE_S_PER_CM2 = 0.00016
# spine.py set Ra = 150 on the Python spine object, not on the head: NEURON's default stays.
SPINE_HEAD_RA_OHM_CM = 35.4
# Spines were created after E_K was set for the MSN, so they keep NEURON's default.
EK_SPINE_MV = -77.0
# Spines were created after the density procedures ran: these mod defaults stay in force
# (they differ from the MSN values 0.145 S/cm2 and 4.25e-7 cm/s).
SKKCA_SPINE_HEAD_S_PER_CM2 = 0.175
CAL13_SPINE_PSD_CM_PER_S = 1.7e-6


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
SPINE_POOLS = ("catrack", "caltrack")  # their shells diffuse along the spine: axial.py

# Spine sections (spines.md 1): (L um, diam um, nseg, Ra ohm cm).
NECK = (1.5, 0.1, 3, RA_OHM_CM)
HEAD = (1.0, 1.175, 1, SPINE_HEAD_RA_OHM_CM)
PSD = (0.05, 0.5, 1, RA_OHM_CM)
SYNAPSE_DELAY_MS = 1.0


@dataclass(frozen=True)
class NeuronVar:
    """A model quantity offered to the NEURON adapter.

    `ref` is a NEURON pointer (e.g. `seg._ref_v`) when one exists; `getter`/`setter` read
    and write the value in `unit` (setter None: read only). `role` as in timescales.Variable.
    `section` is the section holding `ref`, which a native (NetCon) watch needs.
    `event_only`: writing it acts only at the next input event (a NetCon weight).
    """

    unit: str
    role: str
    ref: Any | None
    getter: Callable[[], float] | None
    setter: Callable[[float], None] | None
    section: Any = None
    event_only: bool = False


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


@dataclass
class Spine:
    """One explicit spine: neck -> head -> PSD sections, AMPA and NMDA in the PSD.

    `axial`: the SpineAxial point process diffusing the spine's calcium shells axially.
    """

    number: int
    site: SpineSite
    neck: Any
    head: Any
    psd: Any
    ampa: Any
    nmda: Any
    ampa_stim: Any
    nmda_stim: Any
    ampa_netcon: Any
    nmda_netcon: Any
    axial: Any
    times_ms: dict[str, list[float]] = field(default_factory=lambda: {"ampa": [], "nmda": []})
    _vectors: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def head_volume_l(self) -> float:
        """Head volume as the study computed it: a cylinder, in litres (1 um3 = 1e-15 L)."""
        return math.pi * (self.head.diam / 2) ** 2 * self.head.L * 1e-15


class MSN:
    """The MSN cell. `spines`: "zero", "two", "onebranch", "all" or spine numbers of "all"."""

    def __init__(self, spines: str | Sequence[int] = "two") -> None:
        sites = select_sites(spines)
        self._index = next(_instances)
        neuron = load_msn_mechanisms()
        self._h = neuron.h
        self.settings = SimulationSettings()
        self._set_ion_defaults()
        self.soma = self._section("soma")
        self.dendrites: dict[str, Any] = {}
        self._region: dict[str, str] = {"soma": "soma"}
        self._build_dendrites()
        for name, section in self.sections_by_region():
            self._insert_msn_mechanisms(section, self._region[name])
        self.spines: list[Spine] = [self._build_spine(site) for site in sites]
        self._by_number = {spine.number: spine for spine in self.spines}
        self._clamps: list[Any] = []
        self._arrivals: list[float] | None = None

    def __str__(self) -> str:
        return f"MSN[{self._index}]"

    @property
    def h(self) -> Any:
        """NEURON's hoc interpreter (`neuron.h`), with the MSN mechanisms loaded."""
        return self._h

    # --- construction ---------------------------------------------------------------
    def _set_ion_defaults(self) -> None:
        h = self._h
        h.cai0_ca_ion, h.cao0_ca_ion = CA_IN0_MM, CA_OUT0_MM
        h.cali0_cal_ion, h.calo0_cal_ion = CA_IN0_MM, CA_OUT0_MM

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
            _insert(section, mechanism, {parameter: value})
        _insert(section, "kir", {"gbar": KIR_OVERRIDE_S_PER_CM2})
        for pool in MSN_POOLS:
            section.insert(pool)
        section.ek = EK_MSN_MV

    def _build_spine(self, site: SpineSite) -> Spine:
        h = self._h
        n = site.number
        neck, head, psd = (self._section(f"spine{n}_{part}") for part in ("neck", "head", "psd"))
        for section, (length, diam, nseg, ra) in ((neck, NECK), (head, HEAD), (psd, PSD)):
            section.L, section.diam, section.nseg, section.Ra = length, diam, nseg, ra
            section.cm = CM_UF_PER_CM2
            for pool in SPINE_POOLS:
                section.insert(pool)
        neck.connect(self.dendrites[site.parent](site.x))
        head.connect(neck(1))
        psd.connect(head(1))
        _insert(neck, "kir", {"gbar": KIR_OVERRIDE_S_PER_CM2})
        _insert(head, "kir", {"gbar": KIR_OVERRIDE_S_PER_CM2})
        _insert(head, "can", {"pbar": 1.0e-5})
        _insert(head, "caq", {"pbar": 6.0e-6})
        _insert(head, "car", {"pbar": 2.6e-5})
        _insert(head, "skkca", {"gbar": SKKCA_SPINE_HEAD_S_PER_CM2})
        head.insert("catotal")
        _insert(psd, "caL13", {"pbar": CAL13_SPINE_PSD_CM_PER_S})
        _insert(psd, "caL", {"pbar": 6.7e-6})
        psd.insert("rubin")
        for section in (neck, head):
            section.ek = EK_SPINE_MV
        ampa, nmda = h.AMPA(psd(0.5)), h.NMDA(psd(0.5))
        ampa_stim, nmda_stim = h.VecStim(), h.VecStim()
        ampa_netcon = h.NetCon(ampa_stim, ampa, 0.0, SYNAPSE_DELAY_MS, 1.0)
        nmda_netcon = h.NetCon(nmda_stim, nmda, 0.0, SYNAPSE_DELAY_MS, 1.0)
        axial = spine_axial(h, (neck, head, psd))
        return Spine(
            n,
            site,
            neck,
            head,
            psd,
            ampa,
            nmda,
            ampa_stim,
            nmda_stim,
            ampa_netcon,
            nmda_netcon,
            axial,
        )

    # --- stimuli ----------------------------------------------------------------------
    def spine(self, number: int) -> Spine:
        """The spine with this number (numbers of the layout the cell was built with)."""
        try:
            return self._by_number[number]
        except KeyError:
            raise UnknownNameError(
                "spine", f"spine{number}", (f"spine{n}" for n in self._by_number), "MSN"
            ) from None

    def stimulate(
        self,
        spine_numbers: Iterable[int],
        times_ms: Iterable[float],
        synapses: Iterable[str] = ("ampa", "nmda"),
    ) -> None:
        """Add input times (ms) to the synapses of each spine; each reaches it 1 ms later.

        Times are merged with earlier ones, deduplicated and sorted, as the study did.
        """
        times = [float(t) for t in times_ms]
        kinds = tuple(synapses)
        unknown = set(kinds) - set(SYNAPSES)
        if unknown:
            raise ConfigError("synapses", "a subset of ('ampa', 'nmda')", sorted(unknown))
        for number in spine_numbers:
            spine = self.spine(number)
            for kind in kinds:
                spine.times_ms[kind] = sorted(set(spine.times_ms[kind]) | set(times))
                vector = self._h.Vector(spine.times_ms[kind])
                getattr(spine, f"{kind}_stim").play(vector)
                spine._vectors[kind] = vector
        self._arrivals = None

    def next_input_ms(self, t_ms: float) -> float:
        """Earliest synaptic event arrival (input time + NetCon delay) after `t_ms`; inf if none."""
        if self._arrivals is None:
            arrivals = [
                time + getattr(spine, f"{kind}_netcon").delay
                for spine in self.spines
                for kind, times in spine.times_ms.items()
                for time in times
            ]
            self._arrivals = sorted(set(arrivals))
        i = bisect.bisect_right(self._arrivals, t_ms + 1e-9)
        return self._arrivals[i] if i < len(self._arrivals) else math.inf

    def stimulate_train(
        self, spine_numbers: Iterable[int], start_ms: float, rate_hz: float, count: int
    ) -> None:
        """A regular train as the study specified it: inputs at start + k/rate, k = 1..count."""
        interval_ms = 1000.0 / rate_hz
        self.stimulate(spine_numbers, [start_ms + k * interval_ms for k in range(1, count + 1)])

    def set_weights(self, spine_numbers: Iterable[int], weights: float | Iterable[float]) -> None:
        """Set the AMPA NetCon weight of each spine (one value for all, or one per spine)."""
        numbers = list(spine_numbers)
        values = (
            [float(weights)] * len(numbers)
            if isinstance(weights, int | float)
            else [float(w) for w in weights]
        )
        if len(values) != len(numbers):
            raise ConfigError("weights", f"{len(numbers)} values (one per spine)", len(values))
        for number, weight in zip(numbers, values, strict=True):
            self.spine(number).ampa_netcon.weight[0] = weight

    def add_iclamp(self, amp_nA: float, delay_ms: float, dur_ms: float) -> Any:
        """A somatic current clamp (IClamp at soma(0.5)); keep the returned object alive."""
        clamp = self._h.IClamp(self.soma(0.5))
        clamp.amp, clamp.delay, clamp.dur = amp_nA, delay_ms, dur_ms
        self._clamps.append(clamp)
        return clamp

    # --- settings and variables -----------------------------------------------------
    def set_threads(self, n: int) -> None:
        """Run NEURON's fixed-step solver on `n` threads (mechanisms are THREADSAFE)."""
        self._h.ParallelContext().nthread(n)

    def apply_settings(self) -> None:
        """Set celsius, dt and v_init; fixed step (CVODE off). Call before finitialize."""
        h = self._h
        h.load_file("stdrun.hoc")
        h.CVode().active(0)
        h.celsius = self.settings.celsius_degC
        h.dt = self.settings.dt_ms
        h.v_init = self.settings.v_init_mV

    def spine_ports(self) -> list[SpinePort]:
        """Every spine as the couplings see it (the cell protocol, timescales.cell)."""
        return [
            SpinePort(
                spine.number,
                f"spine{spine.number}.ca",
                f"spine{spine.number}.weight",
                spine.head_volume_l,
                spine.site.parent,
                spine.site.x,
                SYNAPSES,
            )
            for spine in self.spines
        ]

    def recordable(self) -> dict[str, str]:
        """Variables besides the spines' a run can record: the soma's membrane potential."""
        return {"soma.v": "mV"}

    def timescales_variables(self) -> dict[str, NeuronVar]:
        """Variables for the NEURON adapter.

        soma.v (mV); per spine n: spine{n}.ca (head cai + cali, mM; pointer to catotal) and
        spine{n}.weight (AMPA NetCon weight, settable; takes effect at the next event).
        """
        soma_mid = self.soma(0.5)
        variables = {
            "soma.v": NeuronVar("mV", "output", soma_mid._ref_v, lambda: soma_mid.v, None),
        }
        for spine in self.spines:
            variables.update(_spine_variables(spine))
        return variables


def _spine_variables(spine: Spine) -> dict[str, NeuronVar]:
    head_mid = spine.head(0.5)
    netcon = spine.ampa_netcon

    def set_weight(value: float) -> None:
        netcon.weight[0] = value

    return {
        f"spine{spine.number}.ca": NeuronVar(
            "mM",
            "output",
            head_mid._ref_total_catotal,
            lambda: head_mid.catotal.total,
            None,
            section=spine.head,
        ),
        f"spine{spine.number}.weight": NeuronVar(
            "1",
            "parameter",
            netcon._ref_weight[0],
            lambda: netcon.weight[0],
            set_weight,
            event_only=True,
        ),
    }


def _insert(section: Any, mechanism: str, parameters: dict[str, float]) -> None:
    section.insert(mechanism)
    for seg in section:
        for name, value in parameters.items():
            setattr(getattr(seg, mechanism), name, value)
