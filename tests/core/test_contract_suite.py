"""The contract suite catches adapters that break the contract: each test fails for an
adapter whose hook does not do what the test names (and passes for the correct one)."""

from __future__ import annotations

import bisect
import inspect
import math
from collections.abc import Mapping

import pytest

from timescales.adapter import Adapter, Reached, Samples, Series, Variable, Watch
from timescales.errors import UnknownNameError
from timescales.testing import LinearODE, QueuedLinearODE, StepSource
from timescales.testing.conformance import AdapterContract

SUITE = AdapterContract()
#: How a contract test fails: an assertion or `pytest.fail` (not an error of the test's own).
Failing = (AssertionError, pytest.fail.Exception)
#: The fixture values of the correct fakes (those of tests/core/test_fake_contract.py).
FIXTURES: Mapping[type[Adapter], Mapping[str, object]] = {
    LinearODE: {
        "watch_spec": ("x", 5.0, "rising"),
        "settable": ("u", 0.5),
        "changing": "x",
        "series_input": ("u", 0.5),
    },
    StepSource: {"watch_spec": ("value", 0.5, "rising")},
}


class Stuck(LinearODE):
    def _advance(self, until_ms: float, watches: tuple[Watch, ...]) -> Reached:
        return Reached(self.t_ms)


class Frozen(LinearODE):
    def _advance(self, until_ms: float, watches: tuple[Watch, ...]) -> Reached:
        self._now_ms = until_ms
        return Reached(until_ms)


class Forgetful(LinearODE):
    """Starts every advance from the initial state."""

    def _advance(self, until_ms: float, watches: tuple[Watch, ...]) -> Reached:
        self._x = self.x_init
        return super()._advance(until_ms, watches)


class Blind(LinearODE):
    def _advance(self, until_ms: float, watches: tuple[Watch, ...]) -> Reached:
        return super()._advance(until_ms, ())


class Overshooting(LinearODE):
    """Goes on for half a millisecond after a watch fires."""

    def _advance(self, until_ms: float, watches: tuple[Watch, ...]) -> Reached:
        reached = super()._advance(until_ms, watches)
        if not reached.fired:
            return reached
        t_stop = min(reached.t_ms + 0.5, until_ms)
        super()._advance(t_stop, ())
        return Reached(t_stop, reached.fired)


class Stale(StepSource):
    """Reports the event it has just reached as the next one."""

    def _next_event_time(self) -> float:
        i = bisect.bisect_left(self.times_ms, self.t_ms)
        return self.times_ms[i] if i < len(self.times_ms) else math.inf


class Lenient(LinearODE):
    """Resolves any name, as a careless lazy lookup would."""

    def _lookup(self, name: str) -> Variable:
        return self.variables().get(name, Variable(name, "1"))


class Unhelpful(LinearODE):
    """Refuses unknown names without listing any candidate."""

    def _lookup(self, name: str) -> Variable:
        if name not in self.variables():
            raise UnknownNameError("variable", name, [])
        return self.variables()[name]


class Deaf(LinearODE):
    def _set(self, name: str, value: float) -> None:
        pass


class Muddled(LinearODE):
    def _get_many(self, names: list[str]) -> list[float]:
        return [0.0 for _ in names]


class DeafInBulk(LinearODE):
    def _set_many(self, names: list[str], values: object) -> None:
        pass


class PublicSamples(StepSource):
    """Overrides the public `samples`, so that it answers without `records`."""

    def samples(self, name: str, t0_ms: float, t1_ms: float) -> Samples:
        return Samples(t0_ms, 1.0, [self.get(name)])  # type: ignore[arg-type]


class Amnesic(LinearODE):
    def _restore_state(self, state: object, t_ms: float) -> None:
        pass


class Blurred(LinearODE):
    def _samples(self, name: str, t0_ms: float, t1_ms: float) -> Samples:
        rec = super()._samples(name, t0_ms, t1_ms)
        return Samples(rec.t0_ms, rec.dt_ms, 0.0 * rec.values)


class Overforgetful(LinearODE):
    """`forget_before(t)` also drops the sample at `t`."""

    forgotten_ms = -math.inf

    def _forget_before(self, t_ms: float) -> None:
        self.forgotten_ms = t_ms

    def _samples(self, name: str, t0_ms: float, t1_ms: float) -> Samples:
        rec = super()._samples(name, t0_ms, t1_ms)
        if t0_ms > self.forgotten_ms:
            return rec
        return Samples(rec.t0_ms + rec.dt_ms, rec.dt_ms, rec.values[1:])


class SeriesIgnored(LinearODE):
    def _set_series(self, name: str, series: Series) -> None:
        pass


class FirstValueOnly(LinearODE):
    """Holds a series' first value for its whole length."""

    def _set_series(self, name: str, series: Series) -> None:
        self._set(name, float(series.values[0]))


class Unposted(QueuedLinearODE):
    """Advances when asked to block, drops advances posted to run later."""

    def _advance(self, until_ms: float, watches: tuple[Watch, ...]) -> Reached:
        self._wait()
        return LinearODE._advance(self, until_ms, watches)

    def _post_advance(self, until_ms: float) -> None:
        pass


class Hasty(QueuedLinearODE):
    """Writes at once instead of after the advances posted before."""

    def _set(self, name: str, value: float) -> None:
        LinearODE._set(self, name, value)


#: Each broken adapter and the contract test that must fail for it.
CASES: list[tuple[type[Adapter], str]] = [
    (Stuck, "test_advance_reaches_target_exactly"),
    (Frozen, "test_advance_changes_the_state"),
    (Forgetful, "test_chunks_agree_with_one_advance"),
    (Blind, "test_watch_stops_early_without_overshoot"),
    (Overshooting, "test_watch_stops_at_the_first_crossing"),
    (Stale, "test_next_event_time_is_in_the_future_and_moves_on"),
    (Lenient, "test_unknown_variable_lists_candidates"),
    (Unhelpful, "test_unknown_variable_lists_candidates"),
    (Deaf, "test_set_get_round_trip"),
    (Muddled, "test_bulk_access_matches_single_access"),
    (DeafInBulk, "test_bulk_access_matches_single_access"),
    (PublicSamples, "test_methods_of_an_absent_capability_raise"),
    (Amnesic, "test_save_restore_round_trip"),
    (Blurred, "test_samples_are_the_values_on_the_record_grid"),
    (Overforgetful, "test_samples_are_the_values_on_the_record_grid"),
    (SeriesIgnored, "test_a_series_acts_as_setting_its_values_in_turn"),
    (FirstValueOnly, "test_a_series_acts_as_setting_its_values_in_turn"),
    (Unposted, "test_posted_advance_gives_the_blocking_result"),
    (Hasty, "test_operations_after_a_post_run_in_order"),
]


def _correct(kind: type[Adapter]) -> type[Adapter]:
    """The shipped fake that `kind` breaks."""
    return next(c for c in (QueuedLinearODE, LinearODE, StepSource) if issubclass(kind, c))


def _run(kind: type[Adapter], test_name: str) -> None:
    """Run contract test `test_name` on a fresh `kind`, with the fixtures of its correct fake."""
    if issubclass(kind, LinearODE):
        adapter: Adapter = kind(-0.1, b=1.0, x0=0.0, label="x")  # type: ignore[call-arg]
    else:
        adapter = kind([10.0, 20.0], [1.0, 0.0], label="steps")  # type: ignore[call-arg]
    adapter.initialize(0.0)
    fixtures = {**FIXTURES[LinearODE if issubclass(kind, LinearODE) else StepSource]}
    fixtures["capability"] = "records"
    test = getattr(SUITE, test_name)
    wanted = [p for p in inspect.signature(test).parameters if p != "adapter"]
    test(adapter, **{p: fixtures.get(p) for p in wanted})


@pytest.mark.parametrize(("broken", "test_name"), CASES, ids=[k.__name__ for k, _ in CASES])
def test_each_contract_test_fails_for_the_hook_it_names(
    broken: type[Adapter], test_name: str
) -> None:
    with pytest.raises(Failing):
        _run(broken, test_name)
    _run(_correct(broken), test_name)


def test_every_contract_test_has_an_adapter_it_fails_for() -> None:
    tests = {name for name in dir(AdapterContract) if name.startswith("test_")}
    assert tests == {name for _, name in CASES}


def test_a_declared_capability_without_its_fixture_fails() -> None:
    adapter = LinearODE(-0.1, b=1.0)
    adapter.initialize(0.0)
    with pytest.raises(pytest.fail.Exception, match="override the `changing` fixture"):
        SUITE.test_save_restore_round_trip(adapter, None)
