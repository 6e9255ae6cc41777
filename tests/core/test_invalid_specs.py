"""Invalid couplings, strategies and run times raise errors that name the field and value."""

from __future__ import annotations

import pytest

from timescales import AdapterError, ConfigError, UnitError
from timescales.coupling import Copy, Coupling, Endpoint, Flux, Window
from timescales.scheduler import Scheduler
from timescales.strategies import EventDriven, FixedInterval
from timescales.testing import LinearODE
from timescales.units import factor, parse, per, product


def _adapters():
    return [LinearODE(-1.0, label="a"), LinearODE(-1.0, unit="mmol", label="b")]


def test_unknown_variable_is_named_with_candidates() -> None:
    c = Coupling(Endpoint("a", "xx", "mM"), Endpoint("b", "u", "mmol/ms"), Copy(1.0, "L/ms"))
    with pytest.raises(ConfigError, match=r"source.variable: .*unknown variable 'xx'.*closest: x"):
        Scheduler(_adapters(), [c], FixedInterval(1.0))


def test_unknown_adapter_is_named() -> None:
    c = Coupling(Endpoint("nope", "x", "mM"), Endpoint("b", "u", "mmol/ms"))
    with pytest.raises(ConfigError, match=r"source\.adapter: unknown adapter 'nope'"):
        Scheduler(_adapters(), [c], FixedInterval(1.0))


def test_incompatible_units_name_both_ends_and_units() -> None:
    c = Coupling(Endpoint("a", "x", "mM"), Endpoint("b", "u", "ms"), name="bad")
    with pytest.raises(ConfigError) as err:
        Scheduler(_adapters(), [c], FixedInterval(1.0))
    text = str(err.value)
    assert "coupling bad" in text
    assert "'mM'" in text
    assert "'ms'" in text
    assert "a.x" in text
    assert "b.u" in text


def test_declared_unit_must_match_adapter_unit() -> None:
    c = Coupling(Endpoint("a", "x", "ms"), Endpoint("b", "u", "ms"), name="wrong")
    with pytest.raises(ConfigError, match=r"source a.x has unit 'mM'.*declared 'ms'"):
        Scheduler(_adapters(), [c], FixedInterval(1.0))


def test_flux_needs_a_window_and_a_rate_target() -> None:
    c = Coupling(Endpoint("a", "x", "mM"), Endpoint("b", "x", "mmol"), Flux(1.0), name="f")
    with pytest.raises(ConfigError) as err:
        Scheduler(_adapters(), [c], FixedInterval(1.0))
    assert "a Flux needs a Window trigger" in str(err.value)
    assert "incompatible" in str(err.value)


@pytest.mark.parametrize("volume", [0.0, -1.0, float("nan")])
def test_a_flux_needs_positive_volumes(volume: float) -> None:
    window = Window(0.5)
    for flux in (Flux(volume), Flux(1.0, into_volume_l=volume)):
        c = Coupling(Endpoint("a", "x", "mM"), Endpoint("b", "u", "mmol/ms"), flux, window)
        with pytest.raises(ConfigError, match=rf"volume_l: expected > 0, got {volume}"):
            Scheduler(_adapters(), [c], FixedInterval(1.0))


def test_a_flux_into_a_concentration_rate_needs_the_target_volume() -> None:
    a, b = LinearODE(-1.0, label="a"), LinearODE(-1.0, unit="uM", label="b")
    window = Window(0.5)
    amount = Coupling(Endpoint("a", "x", "mM"), Endpoint("b", "u", "uM/s"), Flux(1.0), window)
    with pytest.raises(ConfigError, match="'mM' and 'uM/s' are incompatible for Flux"):
        Scheduler([a, b], [amount], FixedInterval(1.0))
    spread = Flux(2.0, into_volume_l=0.5)
    [compiled] = Scheduler(
        [a, b], [Coupling(Endpoint("a", "x", "mM"), Endpoint("b", "u", "uM/s"), spread, window)],
        FixedInterval(1.0),
    ).couplings  # fmt: skip
    # 1 mM leaving 2 L in 1 ms is 2 mmol/ms; in 0.5 L, 4 mM/ms = 4000 uM/ms
    assert compiled.value(1.0, 1.0) == pytest.approx(4000.0, rel=1e-12)


@pytest.mark.parametrize("interval", [0.0, -1.0, float("nan")])
def test_interval_must_be_positive(interval: float) -> None:
    with pytest.raises(ConfigError, match=rf"FixedInterval.interval_ms: .*got {interval}"):
        FixedInterval(interval)


def test_event_strategy_bounds_are_checked() -> None:
    with pytest.raises(ConfigError, match="max_interval_ms"):
        EventDriven(min_interval_ms=10.0, max_interval_ms=1.0)
    with pytest.raises(ConfigError, match="hold"):
        EventDriven(hold="cubic")  # type: ignore[arg-type]


def test_until_in_the_past_is_refused() -> None:
    c = Coupling(
        Endpoint("a", "x", "mM"),
        Endpoint("b", "u", "mmol/ms"),
        Flux(1.0),
        Window(0.5),
    )
    sched = Scheduler(_adapters(), [c], FixedInterval(1.0))
    sched.run(5.0)
    with pytest.raises(
        ConfigError, match=r"until_ms: expected a time after the current time 5.0 ms, got 2.0"
    ):
        sched.run(2.0)


def test_adapter_refuses_time_in_the_past() -> None:
    a = LinearODE(-1.0, label="a")
    a.initialize(10.0)
    with pytest.raises(AdapterError, match=r"until_ms=5\.0 is before the adapter time"):
        a.advance(5.0)


@pytest.mark.parametrize("text", ["m/", "molecules/(s", "()", "bogons"])
def test_malformed_unit_strings_are_unit_errors(text: str) -> None:
    with pytest.raises(UnitError, match="expected a unit pint understands"):
        parse(text)


def test_an_empty_unit_is_dimensionless_in_products() -> None:
    assert factor(product("", "1/s"), "1/ms") == pytest.approx(1e-3)
    assert factor(per(""), "1") == 1.0
