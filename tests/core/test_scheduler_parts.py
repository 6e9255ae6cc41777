"""The scheduler's parts on their own: the horizon, the window state machine, the strategy
protocol as a new strategy's author sees it, and sources that cannot watch."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from timescales.adapter import Capabilities, Samples
from timescales.coupling import Coupling, Endpoint, Flux, Window, compile_couplings
from timescales.horizon import max_advance_ms
from timescales.scheduler import Scheduler
from timescales.strategies import EventDriven, ScheduledWindows, Strategy
from timescales.testing import LinearODE, StepSource
from timescales.units import TIME_EPS_MS
from timescales.windows import Phase, WindowState


# ------------------------------------------------------------------ horizon
def test_horizon_is_the_earliest_bound_ahead() -> None:
    assert max_advance_ms(10.0, 50.0, 30.0, [40.0], [35.0, math.inf]) == 30.0
    assert max_advance_ms(10.0, 50.0, math.inf, [40.0], [35.0]) == 35.0
    assert max_advance_ms(10.0, 20.0, math.inf, [], []) == 20.0


def test_horizon_ignores_events_already_reached_and_always_moves_on() -> None:
    # an event at the current time has happened; a deadline there cannot hold the loop
    assert max_advance_ms(10.0, 50.0, math.inf, [10.0, 12.0], []) == 12.0
    assert max_advance_ms(10.0, 50.0, math.inf, [], [10.0]) == 10.0 + TIME_EPS_MS


# ---------------------------------------------------------------- the window
def _window(direction: str = "rising", settle_ms: float = 5.0) -> WindowState:
    src = LinearODE(0.0, label="src")
    dst = LinearODE(0.0, unit="mmol", label="dst")
    trigger = Window(1.0, direction=direction, hysteresis=0.25, settle_ms=settle_ms)  # type: ignore[arg-type]
    spec = Coupling(Endpoint("src", "x", "mM"), Endpoint("dst", "u", "mmol/ms"), Flux(1.0), trigger)
    (c,) = compile_couplings([spec], {"src": src, "dst": dst})
    return WindowState(c, trigger)


def test_window_goes_closed_open_settling_closed() -> None:
    s = _window()
    assert s.phase is Phase.CLOSED
    assert not s.crossed(0.99)
    assert s.crossed(1.0)
    s.open(2.0, 1.0, interval_ms=1.0, end_ms=math.inf)
    assert s.phase is Phase.OPEN
    assert s.due_ms == 3.0
    assert not s.due(2.5)
    assert s.due(3.0)
    assert not s.settles(3.0, 0.8)  # below the level but above level - hysteresis (0.75)
    assert s.phase is Phase.OPEN
    assert not s.settles(4.0, 0.7)
    assert s.phase is Phase.SETTLING
    assert s.settling_since_ms == 4.0
    assert not s.settles(6.0, 0.9)  # back inside: the settling starts again
    assert s.phase is Phase.OPEN
    assert not s.settles(7.0, 0.5)
    assert s.settles(12.0, 0.5)  # 5 ms below the closing level
    s.close(12.0)
    assert s.phase is Phase.CLOSED
    assert s.record is not None
    assert s.record.close_ms == 12.0


def test_falling_window_mirrors_the_levels() -> None:
    s = _window("falling")
    assert s.crossed(1.0)
    assert s.crossed(0.5)
    assert not s.crossed(1.1)
    s.open(0.0, 1.0, 1.0, math.inf)
    assert not s.settles(1.0, 1.2)
    assert s.phase is Phase.OPEN
    assert not s.settles(2.0, 1.3)
    assert s.phase is Phase.SETTLING


def test_fixed_end_closes_regardless_of_the_source() -> None:
    s = _window()
    s.open(0.0, 2.0, 1.0, end_ms=10.0)
    assert not s.settles(9.0, 0.0)
    assert s.settles(10.0, 5.0)


def test_settled_in_finds_the_first_sample_after_settle_ms() -> None:
    s = _window(settle_ms=2.0)
    s.open(0.0, 1.0, 1.0, math.inf)
    rec = Samples(0.0, 0.5, np.array([1.0, 1.0, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]))
    # below 0.75 from 1.0 ms on: settled 2 ms later, at 3.0 ms
    assert s.settled_in(rec) == 3.0


def test_source_steps_add_up_to_the_source_change() -> None:
    s = _window()
    s.open(0.0, 1.0, 1.0, math.inf)
    rec = Samples(0.0, 0.25, np.array([1.0, 1.5, 1.2, 1.1, 1.05]))
    steps = s.source_steps(1.0, 1.06, rec, pieces=4)
    assert steps.sum() == pytest.approx(1.06 - 1.0, abs=1e-15)
    assert steps[0] == pytest.approx(0.5)


def test_predict_extrapolates_the_last_two_outputs() -> None:
    s = _window()
    s.open(0.0, 1.0, 1.0, math.inf)
    assert s.predict(1.0) is None
    s.add_output(1.0, 2.0)
    s.add_output(2.0, 3.0)
    assert s.predict(4.0) == 5.0


# ------------------------------------------------------------ a new strategy
@dataclass(frozen=True, kw_only=True)
class _EveryFiveMs(Strategy):
    """Syncs every 5 ms, opens windows on the level there, closes them after 7 ms."""

    name = "every-5"

    def next_sync_ms(self, t_ms: float, t0_ms: float, dt_ms: float | None) -> float:
        return t0_ms + 5.0 * (math.floor((t_ms - t0_ms) / 5.0 + 1e-9) + 1)

    def window_end_ms(self, t_open_ms: float) -> float:
        return t_open_ms + 7.0

    def first_interval_ms(self, dt_ms: float | None) -> float:
        return 5.0


def _pulse(strategy: Strategy, src_kind: Callable[..., StepSource] = StepSource):
    src = src_kind([12.0, 30.0], [1.0, 0.0], label="src")
    spine = LinearODE(0.0, unit="mmol", label="spine")
    ca = Coupling(
        Endpoint("src", "value", "mM"),
        Endpoint("spine", "u", "mmol/ms"),
        Flux(volume_l=1.0),
        Window(0.5, hysteresis=0.1, settle_ms=2.0),
        name="ca",
    )
    return Scheduler([src, spine], [ca], strategy, trace=True).run(60.0), spine


def test_a_strategy_written_from_the_protocol_alone() -> None:
    stats, spine = _pulse(_EveryFiveMs())
    # syncs on the 5 ms grid; the step at 12 ms is a known event, so a sync happens there
    # too and the window opens at 12 ms, exchanges 5 ms later and at its fixed end (19 ms);
    # the source is still high at the next sync (20 ms): a new window; at 30 ms it is low
    assert [(w.open_ms, w.close_ms) for w in stats.windows] == [(12.0, 19.0), (20.0, 27.0)]
    exchanged = [float(line.split()[0]) for line in stats.trace if line.endswith("exchanged")]
    assert exchanged == [17.0, 19.0, 25.0, 27.0]
    # the source rose by 1 mM at the opening: the window delivered no change after it
    assert spine.get("x") == pytest.approx(0.0, abs=1e-12)


class _Unwatched(StepSource):
    """A source that cannot stop at crossings."""

    capabilities = Capabilities()


def test_event_driven_checks_sources_that_cannot_watch_at_each_sync() -> None:
    watched, _ = _pulse(EventDriven(min_interval_ms=1.0, max_interval_ms=4.0, max_advance_ms=5.0))
    polled, _ = _pulse(
        EventDriven(min_interval_ms=1.0, max_interval_ms=4.0, max_advance_ms=5.0), _Unwatched
    )
    assert watched.windows[0].open_ms == polled.windows[0].open_ms == 12.0  # 12 is an event
    assert not any("fired" in line for line in polled.trace)
    assert any("fired" in line for line in watched.trace)


def test_scheduled_windows_open_only_at_their_times() -> None:
    stats, _ = _pulse(ScheduledWindows(times_ms=(5.0, 40.0), buffer_ms=3.0, sampling_ms=1.0))
    assert [(w.open_ms, w.close_ms) for w in stats.windows] == [(5.0, 8.0), (40.0, 43.0)]
