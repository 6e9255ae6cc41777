"""Scheduler traces in small scenarios: which adapter advanced to which time, and why."""

from __future__ import annotations

import math

import pytest

from timescales.coupling import Copy, Coupling, Endpoint, Flux, Window
from timescales.scheduler import Scheduler
from timescales.strategies import EventDriven, FixedInterval, Lockstep, ScheduledWindows
from timescales.testing import LinearODE, StepSource

CA = Coupling(
    Endpoint("src", "value", "mM"),
    Endpoint("spine", "u", "mmol/ms"),
    Flux(volume_l=1.0),
    Window(0.5, hysteresis=0.1, settle_ms=5.0),
    name="ca",
)


def _run(strategy, until_ms=50.0):
    src = StepSource([10.0, 30.0], [1.0, 0.0], label="src")
    spine = LinearODE(0.0, unit="mmol", label="spine")
    stats = Scheduler([src, spine], [CA], strategy, trace=True).run(until_ms)
    return stats, spine


def test_event_driven_trace() -> None:
    stats, spine = _run(EventDriven(min_interval_ms=1.0, max_interval_ms=4.0))
    # the watch stops the source at its step (10 ms): the window opens there; the
    # interval then doubles (no outputs to estimate an error) up to 4 ms; the drop at
    # 30 ms is a known event; the source is below 0.4 from the 33 ms exchange on, and
    # the window closes at the first exchange 5 ms (settle) later: 41 ms.
    assert stats.trace[:3] == [
        "10 src advanced fired [0]",
        "10 spine caught up",
        "10 ca window opened",
    ]
    exchanged = [float(line.split()[0]) for line in stats.trace if line.endswith("ca exchanged")]
    assert exchanged == [11, 13, 17, 21, 25, 29, 33, 37, 41]
    assert "30 src advanced" in stats.trace
    assert stats.trace[-2:] == ["41 ca window closed", "50 src advanced"]
    assert [(w.open_ms, w.close_ms, w.exchanges) for w in stats.windows] == [(10, 41, 9)]
    # the target was never advanced before the window opened (lazy)
    assert not any(
        "spine" in line for line in stats.trace[: stats.trace.index("10 spine caught up")]
    )
    # amount conservation: what the target integrated equals the source change in the window
    assert spine.get("x") == -1.0


def test_fixed_interval_checks_only_on_its_grid() -> None:
    stats, _ = _run(FixedInterval(3.0))
    advanced = [
        float(line.split()[0])
        for line in stats.trace
        if line.startswith(tuple("0123456789")) and "src advanced" in line
    ]
    assert advanced[:4] == [3, 6, 9, 10]  # 10 ms is the source's known event
    assert stats.windows[0].open_ms == 10.0


def test_lockstep_exchanges_every_step() -> None:
    stats, _ = _run(Lockstep(), until_ms=12.0)
    # window opens at 10 ms (the step where the value jumped) and exchanges every 0.025 ms
    assert stats.windows[0].open_ms == 10.0
    assert stats.exchanges["ca"] == round(2.0 / 0.025)


def test_scheduled_windows_open_only_at_listed_times() -> None:
    stats, _ = _run(ScheduledWindows(times_ms=(5.0, 20.0), buffer_ms=4.0, sampling_ms=1.0))
    assert [(w.open_ms, w.close_ms, w.exchanges) for w in stats.windows] == [(5, 9, 4), (20, 24, 4)]


def _pulse_run(strategy):
    """A decaying source kicked by a 2 ms pulse; a window on it feeds a flux to a target."""
    stim = StepSource([5.0, 7.0], [1.0, 0.0], unit="mM/ms", label="stim")
    source = LinearODE(-0.5, unit="mM", label="src")
    target = LinearODE(0.0, unit="mmol", label="spine")
    couplings = [
        Coupling(Endpoint("stim", "value", "mM/ms"), Endpoint("src", "u", "mM/ms")),
        Coupling(
            Endpoint("src", "x", "mM"),
            Endpoint("spine", "u", "mmol/ms"),
            Flux(volume_l=1.0),
            Window(0.1, hysteresis=0.05, settle_ms=3.0),
            name="ca",
        ),
    ]
    stats = Scheduler([stim, source, target], couplings, strategy).run(40.0)
    return stats.windows[0], stats.exchanges["ca"]


def test_event_window_closes_where_lockstep_does() -> None:
    ref, n_ref = _pulse_run(Lockstep())
    ev, n_ev = _pulse_run(EventDriven(min_interval_ms=0.5, max_interval_ms=20.0))
    # x = 2 (1 - exp(-(t-5)/2)) crosses 0.1 at t = 5.1026; it falls below 0.05 at
    # t = 7 + 2 ln(2 (1 - e^-1) / 0.05) = 13.49 ms, and the window closes 3 ms later.
    assert ev.open_ms == pytest.approx(5.1026, abs=0.025)
    assert ev.open_ms == pytest.approx(ref.open_ms, abs=0.025)
    assert ev.close_ms == pytest.approx(ref.close_ms, abs=0.025)
    assert ref.close_ms == pytest.approx(13.49 + 3.0, abs=0.03)
    # the flux delivers the source change between opening (at the level) and closing
    x_close = 2 * (1 - math.exp(-1)) * math.exp(-(ev.close_ms - 7.0) / 2)
    assert ev.delivered == pytest.approx(x_close - 0.1, rel=1e-3)
    assert n_ev * 20 < n_ref


class _SteppingClock(LinearODE):
    """A leader that, like NEURON, reaches times by adding dt: its clock drifts by round-off."""

    def _advance(self, until_ms, watches):
        t = self.t_ms
        while t < until_ms - 1e-9 * self.dt_ms:
            t += self.dt_ms
        return super()._advance(t, watches) if t <= until_ms else super()._advance(until_ms, ())


def test_lockstep_grid_tolerates_round_off_in_the_leader_clock() -> None:
    src = _SteppingClock(0.0, b=1.0, unit="mM", label="src")
    spine = LinearODE(0.0, unit="mmol", label="spine")
    coupling = Coupling(
        Endpoint("src", "x", "mM"),
        Endpoint("spine", "u", "mmol/ms"),
        Flux(volume_l=1.0),
        Window(0.5),
        name="ca",
    )
    sched = Scheduler([src, spine], [coupling], Lockstep())
    sched.initialize(100.0)
    stats = sched.run(300.0)
    assert stats.syncs == round(200.0 / 0.025)
    assert spine.get("x") == pytest.approx(200.0 - 0.5, abs=0.03)


class _LoggedSpine(LinearODE):
    """A target that logs its advances and reads into a log shared with other spines."""

    def __init__(self, log: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(0.0, unit="mmol", **kwargs)
        self.log = log

    def _advance(self, until_ms, watches):
        self.log.append(("advance", self.label))
        return super()._advance(until_ms, watches)

    def _get(self, name):
        self.log.append(("read", self.label))
        return super()._get(name)


@pytest.mark.parametrize("strategy", [Lockstep(), FixedInterval(1.0), EventDriven()])
def test_a_sync_posts_every_target_advance_before_reading_any(strategy) -> None:
    # a worker process runs a proxy's read after its queued advance: reading one spine
    # before the other's advance is posted would make the workers integrate in turn
    log: list[tuple[str, str]] = []
    src = StepSource([10.0, 30.0], [1.0, 0.0], label="src")
    spines = [_LoggedSpine(log, label=f"spine{i}") for i in (1, 2)]
    couplings = []
    for i in (1, 2):
        couplings += [
            Coupling(
                Endpoint("src", "value", "mM"),
                Endpoint(f"spine{i}", "u", "mmol/ms"),
                Flux(volume_l=1.0),
                Window(0.5, hysteresis=0.1, settle_ms=5.0),
                name=f"ca{i}",
            ),
            Coupling(
                Endpoint(f"spine{i}", "x", "mmol"),
                Endpoint("sink", "u", "mmol/ms"),
                Copy(1.0, "1/ms"),
            ),
        ]
    sink = LinearODE(0.0, unit="mmol", label="sink")
    Scheduler([src, sink, *spines], couplings, strategy).run(50.0)
    order = "".join("a" if kind == "advance" else "r" for kind, _ in log)
    assert order.count("a") > 4
    # between two reads the advances come in pairs: both spines' before either is read
    assert all(len(run) % 2 == 0 for run in order.split("r")), order
