"""Scheduler traces in small scenarios: which adapter advanced to which time, and why."""

from __future__ import annotations

from timescales.coupling import Coupling, Endpoint, Flux, Window
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
