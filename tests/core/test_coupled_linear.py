"""Coupled linear systems with exact solutions: convergence order and event-driven savings."""

from __future__ import annotations

import numpy as np
import pytest

from timescales.coupling import Copy, Coupling, Deadband, Endpoint, Flux, Window
from timescales.scheduler import Scheduler
from timescales.strategies import EventDriven, FixedInterval, Lockstep
from timescales.testing import LinearODE, QueuedLinearODE, StepSource

expm = pytest.importorskip("scipy.linalg").expm

TAU_X, TAU_Y, G, K = 1.0, 20.0, 0.05, 0.5  # ms, ms, 1/ms, 1/ms


def _two_way(dt_ms: float = 0.025) -> tuple[LinearODE, LinearODE, list[Coupling]]:
    """x' = -x/tau_x + g*y and y' = -y/tau_y + k*x, split over two adapters."""
    a = LinearODE(-1 / TAU_X, x0=1.0, label="a", dt_ms=dt_ms)
    b = LinearODE(-1 / TAU_Y, x0=0.0, label="b", dt_ms=dt_ms)
    couplings = [
        Coupling(Endpoint("b", "x", "mM"), Endpoint("a", "u", "mM/ms"), Copy(G, "1/ms")),
        Coupling(Endpoint("a", "x", "mM"), Endpoint("b", "u", "mM/ms"), Copy(K, "1/ms")),
    ]
    return a, b, couplings


def _exact_two_way(t_ms: float) -> np.ndarray:
    m = np.array([[-1 / TAU_X, G], [K, -1 / TAU_Y]])
    return expm(m * t_ms) @ np.array([1.0, 0.0])


def _error(strategy, dt_ms: float = 0.025, t_end: float = 10.0) -> tuple[float, int]:
    a, b, couplings = _two_way(dt_ms)
    stats = Scheduler([a, b], couplings, strategy).run(t_end)
    got = np.array([a.get("x"), b.get("x")])
    return float(np.max(np.abs(got - _exact_two_way(t_end)))), stats.n_exchanges


def _order(hs, errors) -> float:
    return float(np.polyfit(np.log(hs), np.log(errors), 1)[0])


def test_fixed_interval_converges_with_order_one() -> None:
    hs = [0.4, 0.2, 0.1, 0.05]
    errors = [_error(FixedInterval(h))[0] for h in hs]
    assert errors == sorted(errors, reverse=True)
    assert _order(hs, errors) == pytest.approx(1.0, abs=0.1)


def test_lockstep_converges_with_order_one_as_dt_shrinks() -> None:
    dts = [0.2, 0.1, 0.05, 0.025]
    errors = [_error(Lockstep(), dt_ms=dt)[0] for dt in dts]
    assert _order(dts, errors) == pytest.approx(1.0, abs=0.1)


# ---------------------------------------------------------------------------------------
# Event-driven: a fast block driven by pulses sends its change (a flux) to a slow block,
# which feeds back. While the window is open the exact solution is linear:
#   x' = -x/tau_f + p(t) + g*y,   y' = -y/tau_s + x'
TAU_F, TAU_S, GAIN, PULSE = 2.0, 50.0, 0.01, 1.0
PULSES = [(5.0 + 20.0 * i, 7.0 + 20.0 * i) for i in range(5)]
T_END = 100.0


def _windowed_system(strategy, slow_kind=LinearODE):
    times, values = [], []
    for on, off in PULSES:
        times += [on, off]
        values += [PULSE, 0.0]
    stim = StepSource(times, values, unit="mM/ms", label="stim")
    fast = LinearODE(-1 / TAU_F, label="fast")
    slow = slow_kind(-1 / TAU_S, unit="mmol", label="slow")
    couplings = [
        Coupling(Endpoint("stim", "value", "mM/ms"), Endpoint("fast", "u", "mM/ms")),
        Coupling(
            Endpoint("fast", "x", "mM"),
            Endpoint("slow", "u", "mmol/ms"),
            Flux(volume_l=1.0),
            Window(1e-9, settle_ms=1e6),
            name="flux",
        ),
        Coupling(
            Endpoint("slow", "x", "mmol"),
            Endpoint("fast", "v", "mM/ms"),
            Copy(GAIN, "1/(ms*L)"),
            Deadband(rel_tol=1e-4),
            name="feedback",
        ),
    ]
    stats = Scheduler([stim, fast, slow], couplings, strategy).run(T_END)
    return np.array([fast.get("x"), slow.get("x")]), stats


def _exact_windowed() -> np.ndarray:
    m = np.zeros((3, 3))
    m[0, :2] = [-1 / TAU_F, GAIN]
    m[1, :2] = [-1 / TAU_F, GAIN - 1 / TAU_S]
    z = np.array([0.0, 0.0, 1.0])
    t = PULSES[0][0]
    edges = [e for pulse in PULSES for e in pulse] + [T_END]
    for i, edge in enumerate(edges):
        p = PULSE if i % 2 == 1 else 0.0
        m[0, 2] = m[1, 2] = p
        z = expm(m * (edge - t)) @ z
        t = edge
    return z[:2]


def test_event_driven_is_accurate_with_far_fewer_exchanges() -> None:
    exact = _exact_windowed()
    scale = PULSE * TAU_F  # the size of the fast block's response to one pulse
    ref, ref_stats = _windowed_system(Lockstep())
    # the fast block relaxes in 2 ms: its flux waveform is sent at 0.25 ms resolution
    event = EventDriven(min_interval_ms=0.5, max_interval_ms=20.0, resolution_ms=0.25)
    ev, ev_stats = _windowed_system(event)
    assert np.max(np.abs(ref - exact)) / scale < 5e-3  # lockstep: first order in dt
    assert np.max(np.abs(ev - exact)) / scale < 5e-4  # event: flux waveform + adaptive hold
    flux_ref, flux_ev = ref_stats.exchanges["flux"], ev_stats.exchanges["flux"]
    assert flux_ref == round((T_END - PULSES[0][0]) / 0.025) - 1
    assert flux_ev * 20 < flux_ref
    assert ev_stats.exchanges["feedback"] * 20 < ref_stats.exchanges["feedback"]


def test_pipelined_outputs_lag_one_interval_and_stay_accurate() -> None:
    # an asynchronous target's outputs are read before its next advance is posted
    exact = _exact_windowed()
    scale = PULSE * TAU_F
    strategy = EventDriven(min_interval_ms=0.5, max_interval_ms=20.0, resolution_ms=0.25)
    got, stats = _windowed_system(strategy, QueuedLinearODE)
    in_turn, _ = _windowed_system(strategy)
    assert not np.allclose(got, in_turn, rtol=1e-9, atol=0)  # the feedback came later
    assert np.max(np.abs(got - exact)) / scale < 2e-3
    assert stats.exchanges["flux"] * 20 < round((T_END - PULSES[0][0]) / 0.025)


@pytest.mark.parametrize("hold", ["series", "constant"])
def test_a_flux_into_a_concentration_rate_spreads_over_the_target_volume(hold: str) -> None:
    """What leaves 1 L of the fast block (mM) arrives in 0.25 L of the slow one (uM), which
    neither decays nor feeds back: the slow block holds 4000 times the fast block's rise."""
    stim = StepSource([5.0, 7.0], [PULSE, 0.0], unit="mM/ms", label="stim")
    fast = LinearODE(-1 / TAU_F, label="fast")
    slow = LinearODE(0.0, unit="uM", label="slow")
    couplings = [
        Coupling(Endpoint("stim", "value", "mM/ms"), Endpoint("fast", "u", "mM/ms")),
        Coupling(
            Endpoint("fast", "x", "mM"),
            Endpoint("slow", "u", "uM/s"),
            Flux(volume_l=1.0, into_volume_l=0.25),
            Window(1e-9, settle_ms=1e6),
            name="flux",
        ),
    ]
    strategy = EventDriven(min_interval_ms=0.5, max_interval_ms=5.0, hold=hold)
    Scheduler([stim, fast, slow], couplings, strategy).run(8.0)
    assert fast.get("x") > 0.1
    # the window opens at 1e-9 mM, not at 0: within 1e-8 of what the fast block holds
    assert slow.get("x") == pytest.approx(4000.0 * fast.get("x"), rel=1e-8)
