"""The contract suite catches adapters that break the contract: each test fails for an
adapter whose hook does not do what the test names (and passes for the correct one)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from timescales.adapter import Reached, Samples, Series, Watch
from timescales.testing import LinearODE, QueuedLinearODE
from timescales.testing.conformance import AdapterContract

SUITE = AdapterContract()
Failing = (AssertionError, pytest.fail.Exception)


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


class Deaf(LinearODE):
    def _set(self, name: str, value: float) -> None:
        pass


class Muddled(LinearODE):
    def _get_many(self, names: list[str]) -> list[float]:
        return [0.0 for _ in names]


class Amnesic(LinearODE):
    def _restore_state(self, state: object, t_ms: float) -> None:
        pass


class Blurred(LinearODE):
    def _samples(self, name: str, t0_ms: float, t1_ms: float) -> Samples:
        rec = super()._samples(name, t0_ms, t1_ms)
        return Samples(rec.t0_ms, rec.dt_ms, np.zeros_like(rec.values))


class SeriesIgnored(LinearODE):
    def _set_series(self, name: str, series: Series) -> None:
        pass


class Unposted(QueuedLinearODE):
    """Advances when asked to block, drops advances posted to run later."""

    def _advance(self, until_ms: float, watches: tuple[Watch, ...]) -> Reached:
        self._wait()
        return LinearODE._advance(self, until_ms, watches)

    def _post_advance(self, until_ms: float) -> None:
        pass


def _make(kind: type[LinearODE]) -> LinearODE:
    adapter = kind(-0.1, b=1.0, x0=0.0, label="x")
    adapter.initialize(0.0)
    return adapter


CASES: list[tuple[type[LinearODE], Callable[[LinearODE], None]]] = [
    (Stuck, lambda a: SUITE.test_advance_reaches_target_exactly(a)),
    (Frozen, lambda a: SUITE.test_advance_changes_the_state(a, "x")),
    (Forgetful, lambda a: SUITE.test_chunks_agree_with_one_advance(a, "x")),
    (Blind, lambda a: SUITE.test_watch_stops_early_without_overshoot(a, ("x", 5.0, "rising"))),
    (Deaf, lambda a: SUITE.test_set_get_round_trip(a, ("u", 0.5))),
    (Muddled, lambda a: SUITE.test_bulk_access_matches_single_access(a, None)),
    (Amnesic, lambda a: SUITE.test_save_restore_round_trip(a, "x")),
    (Blurred, lambda a: SUITE.test_samples_are_the_values_on_the_record_grid(a, "x")),
    (
        SeriesIgnored,
        lambda a: SUITE.test_a_constant_series_acts_as_setting_its_value(a, ("u", 0.5), "x"),
    ),
    (Unposted, lambda a: SUITE.test_posted_advance_gives_the_blocking_result(a, "x")),
]


@pytest.mark.parametrize(("broken", "test"), CASES, ids=[kind.__name__ for kind, _ in CASES])
def test_each_contract_test_fails_for_the_hook_it_names(broken, test) -> None:
    with pytest.raises(Failing):
        test(_make(broken))
    correct = QueuedLinearODE if issubclass(broken, QueuedLinearODE) else LinearODE
    test(_make(correct))


def test_a_declared_capability_without_its_fixture_fails() -> None:
    with pytest.raises(pytest.fail.Exception, match="override the `changing` fixture"):
        SUITE.test_save_restore_round_trip(_make(LinearODE), None)
