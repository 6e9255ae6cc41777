"""The study's spine and a cell's numbered spines, in NEURON (spines.md).

A spine is neck -> head -> PSD with the MSN's spine mechanisms (calcium shells diffusing
along it through SpineAxial, the head's calcium channels and SK, the PSD's L-type channels
and rubin), AMPA and NMDA in the PSD driven by VecStims through NetCons with the study's
1 ms delay. `build_spine` makes one on any parent section, so the MSN and the spine kit of
cells from files (file_cells.py) build the same spine; `SpinyCell` gives a cell with
numbered spines their inputs, weights and the variables the adapter and couplings use.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from timescales.cell import SpinePort
from timescales.errors import ConfigError, UnknownNameError
from timescales.models.neuron.axial import spine_axial
from timescales.models.neuron.cells import SYNAPSES
from timescales.models.neuron.layouts import SpineSite

RA_OHM_CM = 100.0
CM_UF_PER_CM2 = 1.0
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

SPINE_POOLS = ("catrack", "caltrack")  # their shells diffuse along the spine: axial.py
# Spine sections (spines.md 1): (L um, diam um, nseg, Ra ohm cm).
NECK = (1.5, 0.1, 3, RA_OHM_CM)
HEAD = (1.0, 1.175, 1, SPINE_HEAD_RA_OHM_CM)
PSD = (0.05, 0.5, 1, RA_OHM_CM)
SYNAPSE_DELAY_MS = 1.0


@dataclass(frozen=True)
class SpineGeometry:
    """Neck and head sizes (um); the defaults are the study's spine."""

    neck_length_um: float = NECK[0]
    neck_diam_um: float = NECK[1]
    head_length_um: float = HEAD[0]
    head_diam_um: float = HEAD[1]


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


def set_ion_defaults(h: Any) -> None:
    """The study's initial calcium inside and outside, for both calcium ions."""
    h.cai0_ca_ion, h.cao0_ca_ion = CA_IN0_MM, CA_OUT0_MM
    h.cali0_cal_ion, h.calo0_cal_ion = CA_IN0_MM, CA_OUT0_MM


def build_spine(
    h: Any,
    new_section: Callable[[str], Any],
    site: SpineSite,
    parent: Any,
    geometry: SpineGeometry = SpineGeometry(),
) -> Spine:
    """The study's spine number `site.number` at `parent(site.x)`; sections from `new_section`."""
    n = site.number
    neck, head, psd = (new_section(f"spine{n}_{part}") for part in ("neck", "head", "psd"))
    shapes = (
        (neck, (geometry.neck_length_um, geometry.neck_diam_um, *NECK[2:])),
        (head, (geometry.head_length_um, geometry.head_diam_um, *HEAD[2:])),
        (psd, PSD),
    )
    for section, (length, diam, nseg, ra) in shapes:
        section.L, section.diam, section.nseg, section.Ra = length, diam, nseg, ra
        section.cm = CM_UF_PER_CM2
        for pool in SPINE_POOLS:
            section.insert(pool)
    neck.connect(parent(site.x))
    head.connect(neck(1))
    psd.connect(head(1))
    _insert_spine_mechanisms(neck, head, psd)
    ampa, nmda = h.AMPA(psd(0.5)), h.NMDA(psd(0.5))
    ampa_stim, nmda_stim = h.VecStim(), h.VecStim()
    ampa_netcon = h.NetCon(ampa_stim, ampa, 0.0, SYNAPSE_DELAY_MS, 1.0)
    nmda_netcon = h.NetCon(nmda_stim, nmda, 0.0, SYNAPSE_DELAY_MS, 1.0)
    axial = spine_axial(h, (neck, head, psd))
    return Spine(
        n, site, neck, head, psd, ampa, nmda, ampa_stim, nmda_stim, ampa_netcon, nmda_netcon, axial
    )


def _insert_spine_mechanisms(neck: Any, head: Any, psd: Any) -> None:
    insert(neck, "kir", {"gbar": KIR_OVERRIDE_S_PER_CM2})
    insert(head, "kir", {"gbar": KIR_OVERRIDE_S_PER_CM2})
    insert(head, "can", {"pbar": 1.0e-5})
    insert(head, "caq", {"pbar": 6.0e-6})
    insert(head, "car", {"pbar": 2.6e-5})
    insert(head, "skkca", {"gbar": SKKCA_SPINE_HEAD_S_PER_CM2})
    head.insert("catotal")
    insert(psd, "caL13", {"pbar": CAL13_SPINE_PSD_CM_PER_S})
    insert(psd, "caL", {"pbar": 6.7e-6})
    psd.insert("rubin")
    for section in (neck, head):
        section.ek = EK_SPINE_MV


class SpinyCell:
    """A cell's numbered spines: their inputs, weights and variables (the cell protocol)."""

    def __init__(self, h: Any, spines: list[Spine], name: str) -> None:
        self._h = h
        self.spines = spines
        self._by_number = {spine.number: spine for spine in spines}
        self._arrivals: list[float] | None = None
        self._name = name

    def spine_sections(self) -> list[Any]:
        """Every spine's neck, head and PSD sections."""
        return [sec for spine in self.spines for sec in (spine.neck, spine.head, spine.psd)]

    # --- stimuli ----------------------------------------------------------------------
    def spine(self, number: int) -> Spine:
        """The spine with this number (numbers of the layout the cell was built with)."""
        try:
            return self._by_number[number]
        except KeyError:
            raise UnknownNameError(
                "spine", f"spine{number}", (f"spine{n}" for n in self._by_number), self._name
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

    def spine_variables(self) -> dict[str, NeuronVar]:
        """spine{n}.ca (head cai + cali, mM; pointer to catotal) and spine{n}.weight (AMPA
        NetCon weight, settable; takes effect at the next event) of every spine."""
        variables: dict[str, NeuronVar] = {}
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


def insert(section: Any, mechanism: str, parameters: dict[str, float]) -> None:
    section.insert(mechanism)
    for seg in section:
        for name, value in parameters.items():
            setattr(getattr(seg, mechanism), name, value)
