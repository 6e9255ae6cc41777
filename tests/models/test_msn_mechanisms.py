"""Each MSN mechanism against the equations and tables of msn-electrical.md (sections 1.1, 5-8).

Expected values are computed here from the fact sheet, including NEURON's rate-table
interpolation: TABLE ... FROM a TO b WITH n is linear interpolation on n + 1 equally spaced
points (n intervals: nocmodl's generated code, so "201 points, 1 mV step" in the fact sheet
is really 202 points 200/201 mV apart), clamped outside [a, b]; the measured tau tables are
linear interpolation of (V, tau) pairs, clamped outside. Single compartments hold v by a
huge capacitance.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy.optimize import brentq, fsolve

from conftest import shared_path

pytestmark = pytest.mark.neuron

FARADAY = 96485.33212  # C/mol, NEURON >= 8
GAS_R = 8.314462618  # J/(mol K)
CELSIUS = 35.0
VOLTAGES_MV = [-130.0, -100.0, -87.75, -61.3, -33.3, -17.0, -7.77, 0.5, 27.9, 55.0, 150.0]
DT_MS = 0.025


def boltzmann(v, vh, k):
    return 1.0 / (1.0 + np.exp((np.asarray(v, dtype=float) - vh) / k))


def rate_table(f, v, lo, hi, n):
    """NEURON's TABLE ... FROM lo TO hi WITH n: n intervals, linear interpolation, clamped."""
    grid = np.linspace(lo, hi, n + 1)
    return np.interp(v, grid, f(grid))


def kasai(c, vm, k, cpr, kpr):
    def tau(v):
        return 1.0 / (c * (v - vm) / (np.exp((v - vm) / k) - 1.0) + cpr * np.exp(v / kpr))

    return tau


def ghk(v_mV, ci_mM, co_mM):
    z = 2 * FARADAY * v_mV * 1e-3 / (GAS_R * (CELSIUS + 273.15))

    def efun(x):
        return 1 - x / 2 if abs(x) < 1e-4 else x / math.expm1(x)

    return 2 * FARADAY * 1e-3 * (ci_mM * efun(-z) - co_mM * efun(z))


def shared_tau(channel: str, column: str):
    with open(shared_path("reference", "data", f"tau_{channel}.csv"), newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row[column] != ""]
    v = np.array([float(row["v_mV"]) for row in rows])
    tau = np.array([float(row[column]) for row in rows])
    return lambda x: np.interp(x, v, tau)


@pytest.fixture(scope="module")
def h():
    from timescales.models.neuron.mechanisms import load_msn_mechanisms

    h = load_msn_mechanisms().h
    h.load_file("stdrun.hoc")
    h.CVode().active(0)
    h.celsius = CELSIUS
    h.dt = DT_MS
    # initial concentrations of the MSN (msn-electrical.md 3), used where a pool writes them
    h.cai0_ca_ion, h.cao0_ca_ion, h.cali0_cal_ion, h.calo0_cal_ion = 0.001, 5.0, 0.001, 5.0
    return h


@pytest.fixture
def compartment(h):
    """A factory of isolated single-segment sections whose v stays where it starts."""
    made = []

    def make(*mechanisms: str, diam_um: float = 10.0):
        sec = h.Section(name=f"probe{len(made)}")
        sec.L, sec.diam, sec.nseg, sec.cm = 10.0, diam_um, 1, 1e9
        for mechanism in mechanisms:
            sec.insert(mechanism)
        made.append(sec)
        return sec

    yield make
    made.clear()


def set_concentrations(sec, **values_mM: float) -> None:
    """Set ion concentrations in every segment (they stay: nothing in `sec` writes them)."""
    for seg in sec:
        for name, value in values_mM.items():
            setattr(seg, name, value)


def gate_values(h, sec, mechanism, names, v):
    h.finitialize(v)
    mech = getattr(sec(0.5), mechanism)
    return {name: getattr(mech, name) for name in names}


# mechanism -> {range variable: expected function of v}, from the fact sheet section 5
def expected_gates():
    na_k = dict(lo=-200, hi=200, n=201)
    ca = dict(lo=-100, hi=100, n=201)

    def tab(f, grid):
        return lambda v: rate_table(f, v, grid["lo"], grid["hi"], grid["n"])

    def nap_mtau(v):
        return np.where(
            v < -40, 0.025 + 0.14 * np.exp((v + 40) / 10), 0.02 + 0.145 * np.exp((-v - 40) / 10)
        )

    def kas_mtau(v):
        return (3.4 + 89.2 * np.exp(-(((v + 34.3) / 30.1) ** 2))) / 9

    def kas_htau(v):
        return 9876.6 / (np.exp(-(v + 90.96) / 29.01) + np.exp((v + 90.96) / 100)) / 9

    kasai_l = kasai(0.0398, -8.124, 9.005, 0.99, 31.4)
    kasai_n = kasai(0.03856, -17.19, 15.22, 0.3842, 23.82)
    return {
        "naf": {
            "minf": tab(lambda v: boltzmann(v, -23.9, -11.8), na_k),
            "hinf": tab(lambda v: boltzmann(v, -62.9, 10.7), na_k),
            "mtau": lambda v: shared_tau("naf", "taum_ms")(v) / 3,
            "htau": lambda v: shared_tau("naf", "tauh_ms")(v) / 3,
        },
        "nap": {
            "minf": tab(lambda v: boltzmann(v, -52.6, -4.6), na_k),
            "hinf": tab(lambda v: boltzmann(v, -48.8, 10.0), na_k),
            "mtau": tab(nap_mtau, na_k),
            "htau": lambda v: shared_tau("nap", "tauh_ms")(v) / 3,
        },
        "kir": {
            "minf": tab(lambda v: 1 / (1 + np.exp((v + 82) / 13)), na_k),
            "mtau": lambda v: shared_tau("kir", "taum_ms")(v) / 0.5,
        },
        "kas": {
            "minf": tab(lambda v: boltzmann(v, -27.0, -16), na_k),
            "hinf": tab(lambda v: boltzmann(v, -33.5, 21.5), na_k),
            "mtau": tab(kas_mtau, na_k),
            "htau": tab(kas_htau, na_k),
        },
        "kaf": {
            "minf": tab(lambda v: boltzmann(v, -10.0, -17.7), na_k),
            "hinf": tab(lambda v: boltzmann(v, -75.6, 10), na_k),
            "mtau": lambda v: shared_tau("kaf", "taum_ms")(v) / 3,
            "htau": lambda v: 14 / 3 + 0 * v,
        },
        "krp": {
            "minf": tab(lambda v: boltzmann(v, -13.5, -11.8), na_k),
            "hinf": tab(lambda v: boltzmann(v, -54.7, 18.6), na_k),
            "mtau": lambda v: shared_tau("krp", "taum_ms")(v) / 3,
            "htau": lambda v: shared_tau("krp", "tauh_ms")(v) / 3,
        },
        "caL": {
            "minf": tab(lambda v: boltzmann(v, -8.9, -6.7), ca),
            "hinf": tab(lambda v: boltzmann(v, -13.4, 11.9), ca),
            "mtau": lambda v: tab(kasai_l, ca)(v) / 3,
            "htau": lambda v: 44.3 / 3 + 0 * v,
        },
        "caL13": {
            "minf": tab(lambda v: boltzmann(v, -33, -6.7), ca),
            "hinf": tab(lambda v: boltzmann(v, -13.4, 11.9), ca),
            "mtau": lambda v: tab(kasai_l, ca)(v) / 3,
            "htau": lambda v: 44.3 / 3 + 0 * v,
        },
        "can": {
            "minf": tab(lambda v: boltzmann(v, -8.7, -7.4), ca),
            "hinf": tab(lambda v: boltzmann(v, -74.8, 6.5), ca),
            "mtau": lambda v: tab(kasai_n, ca)(v) / 3,
            "htau": lambda v: 70.0 / 3 + 0 * v,
        },
        "caq": {
            "minf": tab(lambda v: boltzmann(v, -9.0, -6.6), ca),
            "mtau": lambda v: 1.13 / 3 + 0 * v,
        },
        "car": {
            "minf": tab(lambda v: boltzmann(v, -10.3, -6.6), ca),
            "hinf": tab(lambda v: boltzmann(v, -33.3, 17.0), ca),
            "mtau": lambda v: 5.1 / 3 + 0 * v,
            "htau": lambda v: shared_tau("car", "tauh_ms")(v) / 3,
        },
        "cat": {
            "minf": tab(lambda v: boltzmann(v, -51.73, -6.53), ca),
            "hinf": tab(lambda v: boltzmann(v, -80, 6.7), ca),
            "mtau": lambda v: shared_tau("cat", "taum_ms")(v) / 3,
            "htau": lambda v: shared_tau("cat", "tauh_ms")(v) / 3,
        },
    }


@pytest.mark.parametrize("mechanism", sorted(expected_gates()))
def test_gates_steady_states_and_time_constants(h, compartment, mechanism: str) -> None:
    expected = expected_gates()[mechanism]
    sec = compartment(mechanism)
    for v in VOLTAGES_MV:
        got = gate_values(h, sec, mechanism, list(expected), v)
        for name, f in expected.items():
            assert got[name] == pytest.approx(float(f(v)), rel=1e-9, abs=1e-12), (name, v)
        state = getattr(sec(0.5), mechanism)
        assert state.m == pytest.approx(got["minf"], rel=1e-12)


def test_gate_relaxes_with_its_time_constant(h, compartment) -> None:
    sec = compartment("kas")
    h.finitialize(-80.0)
    m0 = sec(0.5).kas.m
    sec(0.5).v = -20.0
    h.fadvance()
    minf, mtau = sec(0.5).kas.minf, sec(0.5).kas.mtau
    m1 = minf + (m0 - minf) * math.exp(-DT_MS / mtau)
    assert sec(0.5).kas.m == pytest.approx(m1, rel=1e-6)


@pytest.mark.parametrize("v_mV", [-60.0, 0.0, 20.0])
def test_ghk_calcium_current(h, compartment, v_mV: float) -> None:
    sec = compartment("caq")
    set_concentrations(sec, cai=0.0, cao=5.0)
    h.finitialize(v_mV)
    minf = float(expected_gates()["caq"]["minf"](v_mV))
    expected = 6.0e-6 * minf**2 * ghk(v_mV, 0.0, 5.0)
    assert sec(0.5).ica == pytest.approx(expected, rel=1e-6)
    if v_mV == 0.0:
        assert 1e-5 * ghk(0.0, 0.0, 5.0) == pytest.approx(-9.65e-3, rel=1e-3)


#: Each calcium channel's ion and the gating factor of its GHK current (its BREAKPOINT).
CALCIUM_CHANNELS = {
    "car": ("ca", lambda g, h: g.m**3 * g.h),
    "caq": ("ca", lambda g, h: g.m**2),
    "can": ("ca", lambda g, h: g.m**2 * (h.a_can * g.h + 1 - h.a_can)),
    "caL": ("cal", lambda g, h: g.m**2 * (h.a_caL * g.h + 1 - h.a_caL)),
    "caL13": ("cal", lambda g, h: g.m**2 * g.h),
    "cat": ("cal", lambda g, h: g.m**3 * g.h),
}


def test_calcium_channels_sharing_segments_each_carry_their_ghk_current(h, compartment) -> None:
    """mod/ghk.inc remembers each node's last GHK factors for the channels that share it."""
    sec = compartment(*CALCIUM_CHANNELS)
    sec.nseg = 3
    set_concentrations(sec, cai=2e-4, cao=2.0, cali=3e-4, calo=2.5)
    h.finitialize(-70.0)
    # the second set changes one segment's potential only: its remembered factors are stale
    for potentials in ([-62.5, -10.0, 14.0], [-62.5, 31.0, 14.0]):
        for seg, v in zip(sec, potentials, strict=True):
            seg.v = v
        h.fcurrent()
        for seg, v in zip(sec, potentials, strict=True):
            expected = {"ca": 0.0, "cal": 0.0}
            for name, (ion, gating) in CALCIUM_CHANNELS.items():
                mech = getattr(seg, name)
                flux = ghk(v, getattr(seg, f"{ion}i"), getattr(seg, f"{ion}o"))
                expected[ion] += mech.pbar * gating(mech, h) * flux
            for ion, current in expected.items():
                assert getattr(seg, f"i{ion}") == pytest.approx(current, rel=1e-9)
    # calls from hoc and Python, between NEURON's passes, take only their own z's factors
    h.setdata_car(sec(0.5))
    for v in (-80.0, 0.001, -62.5, 25.0):
        assert h.ghk_car(v, 2e-4, 2.0) == pytest.approx(ghk(v, 2e-4, 2.0), rel=1e-9)
        assert sec(0.5).caL.ghk(v, 3e-4, 2.5) == pytest.approx(ghk(v, 3e-4, 2.5), rel=1e-9)


def test_skkca_rates(h, compartment) -> None:
    sec = compartment("skkca")
    for cai in (1e-5, 1.25e-4, 2e-3):
        set_concentrations(sec, cai=cai)
        for v in (-80.0, -20.0, 10.0):
            h.finitialize(v)

            def affinity(k, d, v=v):
                return k * math.exp(-2 * d * FARADAY * v * 1e-3 / (GAS_R * (273.15 + 35)))

            alpha = 0.48 / (1 + affinity(0.18, 0.84) / cai)
            beta = 0.28 / (1 + cai / affinity(0.011, 1.0))
            assert sec(0.5).skkca.otau == pytest.approx(1 / (alpha + beta), rel=1e-9)
            assert sec(0.5).skkca.oinf == pytest.approx(alpha / (alpha + beta), rel=1e-9)
            assert sec(0.5).skkca.o == pytest.approx(alpha / (alpha + beta), rel=1e-9)


def bk_matrix(v, cai):
    def alp(tmin, vh, k):
        return 1 / (tmin + math.exp((v - vh) / k))

    k1, k2, k4 = alp(0.1, -10, 1), alp(0.1, -120, -10), alp(0.01, -44, -5)
    k3 = 1 / (0.001 + 1 / (1 / (1.0 - 0.001) + math.exp((v + 20) / 7))) * 1e8 * cai**3
    # states (C, O, I): C <-> O (k3, k4), O -> I (k1), I -> C (k2)
    return np.array([[-k3, k4, k2], [k3, -(k4 + k1), 0], [0, k1, -k2]])


def test_bkkca_steady_state_and_backward_euler_steps(h, compartment) -> None:
    sec = compartment("bkkca")
    set_concentrations(sec, cai=2e-3)
    h.finitialize(-70.0)
    a = bk_matrix(-70.0, 2e-3)
    null = np.linalg.svd(a)[2][-1]
    steady = null / null.sum()
    seg = sec(0.5)
    states = [seg.bkkca.C, seg.bkkca.O, seg.bkkca.I]
    assert states == pytest.approx(list(steady), rel=1e-9)
    seg.v = 10.0
    x = steady
    step = np.linalg.inv(np.eye(3) - DT_MS * bk_matrix(10.0, 2e-3))
    for _ in range(40):
        h.fadvance()
        x = step @ x
    states = [seg.bkkca.C, seg.bkkca.O, seg.bkkca.I]
    assert states == pytest.approx(list(x), rel=1e-6)


@pytest.mark.parametrize(("mechanism", "ion"), [("cadyn", "ca"), ("caldyn", "cal")])
def test_single_shell_pool_rests_at_its_pump_balance(h, compartment, mechanism, ion) -> None:
    sec = compartment(mechanism)
    h.finitialize(-80.0)
    assert getattr(sec(0.5), f"{ion}i") == pytest.approx(1e-5)

    def balance(c):
        return 0.02 * (-1e-4 * c / (c + 1e-4)) + (1e-5 - c) / 43

    rest = brentq(balance, 1e-9, 1e-5)
    for _ in range(int(1500 / DT_MS)):
        h.fadvance()
    assert getattr(sec(0.5), f"{ion}i") == pytest.approx(rest, rel=1e-6)
    assert rest == pytest.approx(5.5e-6, rel=0.01)


# --- four-shell spine calcium (msn-electrical.md 6.2) ----------------------------------
VRAT = np.array([11, 16, 8, 1]) * math.pi / 144
FRAT = np.array([0, 5, 3, 1]) * math.pi
K1BUF, K2BUF, BTOT = 100.0, 0.1, 0.003
K1, K2, K3, K4, PTOT, DCA = 1.0, 0.005, 1.0, 0.005, 1e-11, 0.6


def shell_rhs(x, diam, co):
    """d/dt of (c0..c3, CB0..CB3, PC) for one segment without channel current."""
    c, cb, pc = x[:4], x[4:8], x[8]
    area, p = diam**2 * VRAT, math.pi * diam
    pfree = PTOT - pc
    jbind = K1 * c[0] * pfree - K2 * pc
    jout = K3 * pc - K4 * pfree * co
    rbuf = K1BUF * c * (BTOT - cb) - K2BUF * cb
    radial = np.zeros(4)
    for i in range(1, 4):
        flow = DCA * FRAT[i] * (c[i - 1] - c[i])
        radial[i - 1] -= flow
        radial[i] += flow
    dc = radial / area - rbuf
    dc[0] -= 1e10 * p * jbind / area[0]
    return np.concatenate([dc, rbuf, [jbind - jout]])


def test_shell_pool_matches_backward_euler_of_the_equations(h, compartment) -> None:
    diam = 1.175
    sec = compartment("catrack", diam_um=diam)
    h.finitialize(-80.0)
    seg = sec(0.5)
    c0 = 0.001
    b_free = BTOT / (1 + K1BUF / K2BUF * c0)
    p_free = PTOT / (1 + c0 * K1 / K2)
    x = np.array([c0] * 4 + [BTOT - b_free] * 4 + [PTOT - p_free])
    got_initial = [seg.catrack.ca[i] for i in range(4)] + [
        seg.catrack.caBuffer[i] for i in range(4)
    ]
    assert got_initial == pytest.approx(list(x[:8]), rel=1e-12)
    scale = np.concatenate([np.full(8, 1e-3), [1e-11]])
    for _ in range(200):
        h.fadvance()
        old = x

        def residual(y, old=old):
            z = y * scale
            return (z - old - DT_MS * shell_rhs(z, diam, 5.0)) / scale

        x = fsolve(residual, old / scale, xtol=1e-13) * scale
    got = [seg.catrack.ca[i] for i in range(4)] + [seg.catrack.caBuffer[i] for i in range(4)]
    assert got == pytest.approx(list(x[:8]), rel=1e-7)
    assert seg.catrack.pumpca == pytest.approx(x[8], rel=1e-7)
    assert seg.cai == pytest.approx(seg.catrack.ca[0], rel=1e-12)
    jout = K3 * x[8] - K4 * (PTOT - x[8]) * 5.0
    assert seg.catrack.ica_pmp == pytest.approx(2 * FARADAY * 1e6 * jout, rel=1e-5)
    assert seg.catrack.ica_pmp > 0


def backward_euler_step(x, diam):
    """One backward-Euler step of shell_rhs from x, solved by fsolve (outer ca 5 mM)."""
    scale = np.concatenate([np.full(8, 1e-3), [1e-11]])

    def residual(y):
        z = y * scale
        return (z - x - DT_MS * shell_rhs(z, diam, 5.0)) / scale

    return fsolve(residual, x / scale, xtol=1e-13) * scale


def shell_state(seg):
    pool = seg.catrack
    return np.array(
        [pool.ca[i] for i in range(4)] + [pool.caBuffer[i] for i in range(4)] + [pool.pumpca]
    )


def set_shell_state(seg, c_mM: float) -> None:
    """Every shell at c_mM, buffer and pump bound as at rest at that concentration."""
    pool = seg.catrack
    for i in range(4):
        pool.ca[i] = c_mM
        pool.caBuffer[i] = BTOT - BTOT / (1 + K1BUF / K2BUF * c_mM)
    pool.pumpca = PTOT - PTOT / (1 + c_mM * K1 / K2)
    seg.cai = c_mM


def restore_shell_state(seg, x) -> None:
    pool = seg.catrack
    for i in range(4):
        pool.ca[i], pool.caBuffer[i] = x[i], x[4 + i]
    pool.pumpca = x[8]


def test_shell_pools_solved_together_match_each_ones_backward_euler(h, compartment) -> None:
    """11 segments (one block of lanes and a partial one), each from its own state."""
    diam = 1.175
    sec = compartment("catrack", diam_um=diam)
    sec.nseg = 11
    h.finitialize(-80.0)
    starts = np.geomspace(5e-5, 2e-2, sec.nseg)  # far apart: Newton needs 2 to 4 iterations
    for seg, c0 in zip(sec, starts, strict=True):
        set_shell_state(seg, c0)
    expected = [shell_state(seg) for seg in sec]
    for _ in range(20):
        h.fadvance()
        expected = [backward_euler_step(x, diam) for x in expected]
    for seg, x in zip(sec, expected, strict=True):
        assert shell_state(seg) == pytest.approx(list(x), rel=1e-7)
        assert seg.cai == seg.catrack.ca[0]
    # The lanes are independent: a step taken together equals, to the bit, each segment's
    # step taken alone (a call from Python solves its own segment).
    before = [shell_state(seg) for seg in sec]
    h.fadvance()
    together = [shell_state(seg).tolist() for seg in sec]
    for seg, x in zip(sec, before, strict=True):
        restore_shell_state(seg, x)
    for seg in sec:
        seg.catrack.shells()
    assert [shell_state(seg).tolist() for seg in sec] == together


def test_shells_called_from_python_steps_only_its_segment(h, compartment) -> None:
    diam = 1.175
    sec = compartment("catrack", diam_um=diam)
    sec.nseg = 3
    h.finitialize(-80.0)
    for seg, c0 in zip(sec, (1e-4, 1e-3, 1e-2), strict=True):
        set_shell_state(seg, c0)
    before = [shell_state(seg) for seg in sec]
    sec(0.5).catrack.shells()
    assert shell_state(sec(0.5)) == pytest.approx(
        list(backward_euler_step(before[1], diam)), rel=1e-7
    )
    assert shell_state(sec(0.5)).tolist() != before[1].tolist()
    for k in (0, 2):
        assert shell_state(list(sec)[k]).tolist() == before[k].tolist()


def test_shell_pool_rests_where_the_pump_balances(h, compartment) -> None:
    sec = compartment("caltrack", diam_um=1.175)
    h.finitialize(-80.0)
    for _ in range(int(800 / DT_MS)):
        h.fadvance()
    assert sec(0.5).cali == pytest.approx(K2 * K4 * 5.0 / (K1 * K3), rel=1e-4)


def spine_chain(h, tag: str) -> tuple[list, object]:
    """A spine-shaped chain (neck, head, PSD) with both pools, no pump, v held; its SpineAxial."""
    from timescales.models.neuron.axial import spine_axial
    from timescales.models.neuron.spine import HEAD, NECK, PSD

    chain = []
    for name, (length, diam, nseg, _) in (("neck", NECK), ("head", HEAD), ("psd", PSD)):
        sec = h.Section(name=f"{tag}_{name}")
        sec.L, sec.diam, sec.nseg, sec.cm = length, diam, nseg, 1e9
        sec.insert("catrack")
        sec.insert("caltrack")
        for seg in sec:
            seg.caltrack.TotalPump = 0.0
        if chain:
            sec.connect(chain[-1](1))
        chain.append(sec)
    return chain, spine_axial(h, chain)


def chain_amount(chain) -> float:
    """Free and buffered catrack calcium of the chain (segment volume x shell fraction)."""
    return sum(
        seg.diam**2
        * seg.sec.L
        / seg.sec.nseg
        * sum((seg.catrack.ca[i] + seg.catrack.caBuffer[i]) * VRAT[i] for i in range(4))
        for sec in chain
        for seg in sec
    )


@pytest.fixture
def no_pump(h):
    saved = h.TotalPump_catrack
    h.TotalPump_catrack = 0.0
    yield
    h.TotalPump_catrack = saved


def fill_psd(chain) -> None:
    for i in range(4):
        chain[-1](0.5).catrack.ca[i] = 0.01


def test_spine_axial_conserves_calcium_and_evens_it_out(h, no_pump) -> None:
    """SpineAxial on a spine-shaped chain without pump or channels: amount kept, then uniform."""
    chain, axial = spine_chain(h, "chain")
    segments = [seg for sec in chain for seg in sec]
    h.finitialize(-80.0)
    fill_psd(chain)
    before = chain_amount(chain)
    for _ in range(int(20 / DT_MS)):
        h.fadvance()
    assert chain_amount(chain) == pytest.approx(before, rel=1e-9)
    free = [seg.catrack.ca[0] for seg in segments]
    assert free[4] > free[3] > free[2] > free[1] > free[0] > 0.001
    for _ in range(int(2000 / DT_MS)):
        h.fadvance()
    assert segments[0].catrack.ca[0] == pytest.approx(segments[-1].catrack.ca[0], rel=1e-3)
    assert segments[0].caltrack.cal[0] == pytest.approx(0.001, rel=1e-9)
    del axial


def test_spine_axial_follows_data_that_neuron_moves(h, no_pump) -> None:
    """Pool instances made mid-run move NEURON's storage; SpineAxial diffuses the live data."""
    chain, axial = spine_chain(h, "moved")
    h.finitialize(-80.0)
    fill_psd(chain)
    before = chain_amount(chain)
    for _ in range(int(5 / DT_MS)):
        h.fadvance()
    others = [h.Section(name=f"other{k}") for k in range(300)]
    for sec in others:
        sec.insert("catrack")
        sec.insert("caltrack")
    for _ in range(int(2000 / DT_MS)):
        h.fadvance()
    assert chain_amount(chain) == pytest.approx(before, rel=1e-9)
    ends = chain[0](1 / 6).catrack.ca[0], chain[-1](0.5).catrack.ca[0]
    assert ends[0] == pytest.approx(ends[1], rel=1e-3)  # stale addresses would not diffuse
    del axial, others


def test_catotal_is_the_sum_of_both_pools(h, compartment) -> None:
    sec = compartment("catotal")
    set_concentrations(sec, cai=3e-4, cali=2e-5)
    h.finitialize(-80.0)
    h.fadvance()
    assert sec(0.5).catotal.total == pytest.approx(3.2e-4, rel=1e-12)


def test_rubin_sigmoids_and_detector(h, compartment) -> None:
    sec = compartment("rubin")
    set_concentrations(sec, cai=0.0012, cali=0.0003)
    h.finitialize(-80.0)
    h.fadvance()

    def sig_a(x):
        r = (1000 * x / 0.6) ** 3
        return r / (1 + r)

    def sig_v(x):
        return 2 / (1 + np.exp((1000 * x - 2) / -0.05))

    def sig_p(x):
        r = (1000 * x / 4) ** 100
        return 10 * r / (1 + r)

    total = 0.0015
    rubin = sec(0.5).rubin
    for name, f in (("asig", sig_a), ("vsig", sig_v), ("psig", sig_p)):
        assert getattr(rubin, name) == pytest.approx(
            float(rate_table(f, total, 0.0005, 0.1, 200)), rel=1e-9
        )
    for _ in range(399):
        h.fadvance()
    assert rubin.detA == pytest.approx(rubin.asig * (1 - math.exp(-10.0 / 2)), rel=2e-3)


def synapse_cell(h, compartment, kind: str, times):
    sec = compartment()
    syn = getattr(h, kind)(sec(0.5))
    stim = h.VecStim()
    vec = h.Vector(times)
    stim.play(vec)
    netcon = h.NetCon(stim, syn, 0.0, 1.0, 1.0)
    return sec, syn, (stim, vec, netcon)


@pytest.mark.parametrize(
    ("kind", "tau_r", "tau_d", "peak", "t_peak"),
    [("AMPA", 1.1, 5.75, 0.744, 2.25), ("NMDA", 2.815, 160.0, 2.62, 11.58)],
)
def test_synapse_single_event(h, compartment, kind, tau_r, tau_d, peak, t_peak) -> None:
    _, syn, keep = synapse_cell(h, compartment, kind, [5.0])
    y2 = h.Vector().record(syn._ref_y2)
    t = h.Vector().record(h._ref_t)
    h.finitialize(-70.0)
    h.continuerun(60.0)
    y2, t = np.array(y2), np.array(t)
    assert np.all(y2[t <= 6.0] == 0)
    s = t - 6.0
    analytic = np.where(
        s > 0, tau_r * tau_d / (tau_d - tau_r) * (np.exp(-s / tau_d) - np.exp(-s / tau_r)), 0
    )
    assert np.max(np.abs(y2 - analytic)) < 0.01 * peak
    assert y2.max() == pytest.approx(peak, rel=5e-3)
    assert t[y2.argmax()] - 6.0 == pytest.approx(t_peak, abs=0.1)
    del keep


def test_ampa_weight_scales_current_and_nonspecific_share(h, compartment) -> None:
    _, syn, keep = synapse_cell(h, compartment, "AMPA", [2.0])
    keep[2].weight[0] = 0.5
    h.finitialize(-70.0)
    assert syn.scale == 0
    h.continuerun(5.0)
    assert syn.g > 0
    assert syn.g == pytest.approx(8.5e-4 * syn.y2, rel=0.02)
    assert syn.itmp == pytest.approx(0.5 * syn.g * (-70.0 - 0.0), rel=1e-6)
    assert syn.i == pytest.approx(0.995 * syn.itmp, rel=1e-12)
    del keep


def test_saturation_of_a_second_event(h, compartment) -> None:
    _, syn, keep = synapse_cell(h, compartment, "AMPA", [5.0, 7.0])
    y1 = h.Vector().record(syn._ref_y1)
    t = h.Vector().record(h._ref_t)
    h.finitialize(-70.0)
    h.continuerun(10.0)
    y1, t = np.array(y1), np.array(t)
    decay = math.exp(-DT_MS / 5.75)
    jumps = y1[1:] - y1[:-1] * decay
    first, second = np.argsort(jumps)[-2:][::-1]
    assert sorted([t[first], t[second]]) == pytest.approx([6.0, 8.0], abs=2 * DT_MS)
    assert jumps[min(first, second)] == pytest.approx(1.0, rel=1e-2)
    local = 1.0 * math.exp(-2.0 / 5.75)
    assert jumps[max(first, second)] == pytest.approx(1 - local / 1.2, rel=1e-2)
    del keep


def test_nmda_magnesium_block_table(h, compartment) -> None:
    sec = compartment()
    syn = h.NMDA(sec(0.5))
    for v in (-120.0, -70.3, -20.5, 0.0, 33.3):
        h.finitialize(v)
        h.fadvance()
        expected = rate_table(lambda x: 1 / (1 + np.exp(-0.062 * x) / 3.57), v, -100, 100, 201)
        block = syn.B
        assert block == pytest.approx(float(expected), rel=1e-6)
    del syn


def test_vecstim_emits_each_time(h, compartment) -> None:
    times = [0.5, 3.0, 3.0, 12.25]
    stim = h.VecStim()
    vec = h.Vector(times)
    stim.play(vec)
    out = h.Vector()
    netcon = h.NetCon(stim, None)
    netcon.record(out)
    h.finitialize(-65.0)
    h.continuerun(20.0)
    assert list(out) == pytest.approx(times)
    del netcon


# --- hand-written solves against NEURON's own methods on the same equations -------------
STIMULATED_RUN = """
import sys, json
from pathlib import Path
from timescales.models.neuron.mechanisms import load_msn_mechanisms
if len(sys.argv) > 1 and sys.argv[1]:
    load_msn_mechanisms(Path(sys.argv[1]))
from timescales.models.neuron.msn import MSN

cell = MSN(spines="two")
h = cell.h
cell.stimulate_train([1], start_ms=10.0, rate_hz=50.0, count=5)
cell.apply_settings()
if len(sys.argv) > 2:
    cell.set_threads(int(sys.argv[2]))
spine = cell.spines[0]
ca = h.Vector().record(spine.head(0.5)._ref_total_catotal)
w = h.Vector().record(spine.psd(0.5).rubin._ref_detP)
h.finitialize(cell.settings.v_init_mV)
h.continuerun(150.0)
shells = [
    value
    for sec in h.allsec()
    for seg in sec
    for pool, names in (("catrack", ("ca", "caBuffer")), ("caltrack", ("cal", "calBuffer")))
    if hasattr(seg, pool)
    for name in names
    for value in getattr(getattr(seg, pool), name)
]
h.setdata_catrack(spine.head(0.5))
copy = h.shells_copy_catrack()
print(json.dumps({"ca": list(ca), "detP": list(w), "shells": shells, "copy": copy}))
"""


def stimulated_run(*args: str, **env_vars: str) -> dict[str, np.ndarray]:
    """STIMULATED_RUN in a fresh process: args are a mod directory ("": ours) and threads."""
    env = {**os.environ, "NEURON_MODULE_OPTIONS": "-nogui", **env_vars}
    out = subprocess.run(
        [sys.executable, "-c", STIMULATED_RUN, *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return {k: np.array(v) for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}


def test_spine_axial_matches_neurons_longitudinal_diffusion(tmp_path) -> None:
    """SpineAxial against NEURON's own LONGITUDINAL_DIFFUSION of the same shells."""
    from timescales.models.neuron.mechanisms import NEURON_AXIAL, variant_mod_dir

    neuron_axial = variant_mod_dir(tmp_path / "mod", NEURON_AXIAL)
    ours, theirs = stimulated_run(), stimulated_run(str(neuron_axial))
    assert ours["ca"].max() > 3e-3
    assert np.max(np.abs(ours["ca"] - theirs["ca"])) < 1e-12 * ours["ca"].max()
    assert np.max(np.abs(ours["detP"] - theirs["detP"])) < 1e-12 * ours["detP"].max()


def test_every_copy_of_the_shell_solve_gives_the_same_bits() -> None:
    """mod/shells.inc's copies (baseline, AVX2, AVX-512) that this CPU runs, on a spine train."""
    widest = stimulated_run()
    if widest["copy"] in (0, 1):
        pytest.skip("this build or CPU runs one copy of the shell solve")
    for name, copy in (("baseline", 1), ("avx2", 3)):
        run = stimulated_run(TIMESCALES_SHELLS_COPY=name)
        assert run["copy"] == min(copy, widest["copy"])
        for key in ("ca", "detP", "shells"):
            assert run[key].tolist() == widest[key].tolist(), (name, key)


def test_shared_ghk_factors_give_each_channels_own_bits(tmp_path) -> None:
    """mod/ghk.inc's memo against every channel computing its factors, on two threads."""
    from timescales.models.neuron.mechanisms import ORIGINAL_SOLVES, variant_mod_dir

    computing = variant_mod_dir(tmp_path / "mod", {"ghk": ORIGINAL_SOLVES["ghk"]})
    shared, own = stimulated_run("", "2"), stimulated_run(str(computing), "2")
    assert shared["ca"].max() > 3e-3
    for key in ("ca", "detP", "shells"):
        assert shared[key].tolist() == own[key].tolist(), key


@pytest.mark.slow
def test_hand_written_solves_match_neurons_methods(tmp_path) -> None:
    """catrack/caltrack against METHOD sparse and rubin against derivimplicit (same files)."""
    from timescales.models.neuron.mechanisms import ORIGINAL_SOLVES, variant_mod_dir

    original = variant_mod_dir(tmp_path / "mod", ORIGINAL_SOLVES)
    ours, theirs = stimulated_run(), stimulated_run(str(original))
    ca_ours, ca_theirs = ours["ca"], theirs["ca"]
    assert ca_ours.max() > 3e-3
    assert np.max(np.abs(ca_ours - ca_theirs)) < 1e-8
    p_ours, p_theirs = ours["detP"], theirs["detP"]
    assert p_ours.max() > 0
    assert np.max(np.abs(p_ours - p_theirs)) < 1e-6 * p_ours.max()
