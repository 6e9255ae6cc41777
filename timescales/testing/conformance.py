"""Contract tests that any adapter (ours or a third party's) runs against itself.

Subclass `AdapterContract` in a test module and override the fixtures:

- `adapter`: an initialized adapter (a fresh one per test);
- `watch_spec`: `(variable, level, direction)` that fires within `watch_horizon_ms`
  (adapters with `capabilities.native_watches`);
- `settable`: `(variable, value)` that may be set and read back;
- `changing`: a variable whose value changes while the adapter advances from its fixture
  state (it shows that an advance, a restore or a recording did something);
- `series_input`: `(input variable, value)` for adapters with `capabilities.series_input`:
  a series holding `value` must act as setting it.

Every test exercises the adapter's own hooks and fails when they do not keep the contract
(the numbered list in `timescales.adapter`); a test whose capability the adapter does not
declare is skipped, and a declared capability without its fixture fails.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from timescales.adapter import Adapter, Series, Watch
from timescales.errors import UnknownNameError

#: How closely two ways of computing the same state must agree: an integrator takes other
#: steps along each way (RoadRunner's default rtol 1e-6 gives differences of a few 1e-6).
RTOL = 1e-5
ATOL = 1e-12


def _require(adapter: Adapter, capability: str, fixture: object, name: str) -> None:
    if not getattr(adapter.capabilities, capability):
        pytest.skip(f"{adapter.kind} does not declare {capability}")
    if fixture is None:
        pytest.fail(f"{adapter.kind} declares {capability}: override the `{name}` fixture")


def _two_ways(
    adapter: Adapter, changing: str, span_ms: float, other: Callable[[float], None]
) -> tuple[float, float]:
    """`changing` after one advance of `span_ms`, and after going back and taking `other`
    (given the end time) instead."""
    start = adapter.save_state()
    t_end = adapter.t_ms + span_ms
    adapter.advance(t_end)
    once = adapter.get(changing)
    adapter.restore_state(start)
    other(t_end)
    return once, adapter.get(changing)


class AdapterContract:
    """The promises of `timescales.adapter.Adapter`, checked on a real adapter."""

    watch_horizon_ms: float = 100.0
    span_ms: float = 2.0

    @pytest.fixture
    def adapter(self) -> Adapter:
        raise NotImplementedError("override the `adapter` fixture")

    @pytest.fixture
    def watch_spec(self) -> tuple[str, float, str] | None:
        return None

    @pytest.fixture
    def settable(self) -> tuple[str, float] | None:
        return None

    @pytest.fixture
    def changing(self) -> str | None:
        return None

    @pytest.fixture
    def series_input(self) -> tuple[str, float] | None:
        return None

    # ------------------------------------------------------------------ advance
    def test_advance_reaches_target_exactly(self, adapter: Adapter) -> None:
        t0 = adapter.t_ms
        reached = adapter.advance(t0 + 1.0)
        assert reached.t_ms == pytest.approx(t0 + 1.0, abs=1e-9)
        assert adapter.t_ms == reached.t_ms
        assert not reached.fired

    def test_advance_changes_the_state(self, adapter: Adapter, changing: str | None) -> None:
        if changing is None:
            pytest.skip("the adapter fixture names no `changing` variable")
        before = adapter.get(changing)
        adapter.advance(adapter.t_ms + self.span_ms)
        assert adapter.get(changing) != before

    def test_chunks_agree_with_one_advance(self, adapter: Adapter, changing: str | None) -> None:
        _require(adapter, "save_restore", changing, "changing")

        def in_chunks(t_end: float) -> None:
            for k in range(1, 5):
                adapter.advance(adapter.t_ms + self.span_ms / 4 if k < 4 else t_end)
            assert adapter.t_ms == pytest.approx(t_end)

        once, chunked = _two_ways(adapter, str(changing), self.span_ms, in_chunks)
        assert chunked == pytest.approx(once, rel=RTOL, abs=ATOL)

    def test_watch_stops_early_without_overshoot(
        self, adapter: Adapter, watch_spec: tuple[str, float, str] | None
    ) -> None:
        _require(adapter, "native_watches", watch_spec, "watch_spec")
        assert watch_spec is not None
        name, level, direction = watch_spec
        watch = Watch(name, level, direction, key="w")  # type: ignore[arg-type]
        until = adapter.t_ms + self.watch_horizon_ms
        reached = adapter.advance(until, [watch])
        assert reached.fired == (watch,)
        assert reached.t_ms < until
        value = adapter.get(name)
        if direction == "rising":
            assert value >= level
        elif direction == "falling":
            assert value <= level

    def test_next_event_time_is_not_in_the_past(self, adapter: Adapter) -> None:
        t_next = adapter.next_event_time()
        assert t_next == math.inf or t_next >= adapter.t_ms - 1e-9

    # ---------------------------------------------------------------- variables
    def test_unknown_variable_lists_candidates(self, adapter: Adapter) -> None:
        with pytest.raises(UnknownNameError) as err:
            adapter.get("no_such_variable_xyz")
        assert "no_such_variable_xyz" in str(err.value)

    def test_set_get_round_trip(self, adapter: Adapter, settable: tuple[str, float] | None) -> None:
        if settable is None:
            pytest.skip("the adapter fixture names no settable variable")
        name, value = settable
        adapter.set(name, value)
        assert adapter.get(name) == pytest.approx(value, rel=1e-9, abs=1e-15)

    def test_bulk_access_matches_single_access(
        self, adapter: Adapter, settable: tuple[str, float] | None
    ) -> None:
        names = list(adapter.variables())[:5]
        assert adapter.get_many(names) == pytest.approx([adapter.get(n) for n in names])
        if settable is not None:
            name, value = settable
            adapter.set_many([name], [value])
            assert adapter.get(name) == pytest.approx(value, rel=1e-9, abs=1e-15)

    # ----------------------------------------------------------- capabilities
    def test_save_restore_round_trip(self, adapter: Adapter, changing: str | None) -> None:
        _require(adapter, "save_restore", changing, "changing")
        names = list(dict.fromkeys([changing, *list(adapter.variables())[:5]]))
        state = adapter.save_state()
        t_saved = adapter.t_ms
        before = adapter.get_many(names)
        adapter.advance(t_saved + self.span_ms)
        assert not np.array_equal(adapter.get_many(names), before)
        adapter.restore_state(state)
        assert adapter.t_ms == pytest.approx(t_saved)
        assert adapter.get_many(names) == pytest.approx(before, rel=1e-9, abs=1e-15)

    def test_samples_are_the_values_on_the_record_grid(
        self, adapter: Adapter, changing: str | None
    ) -> None:
        _require(adapter, "records", changing, "changing")
        assert changing is not None
        dt_ms = self.span_ms / 4
        t0 = adapter.t_ms
        adapter.record([changing], dt_ms)
        read = [adapter.get(changing)]
        for k in range(1, 5):
            adapter.advance(t0 + k * dt_ms)
            read.append(adapter.get(changing))
        rec = adapter.samples(changing, t0, t0 + 4 * dt_ms)
        on_grid = np.interp(t0 + dt_ms * np.arange(5), rec.t_ms, rec.values)
        assert on_grid == pytest.approx(read, rel=RTOL, abs=ATOL)
        adapter.forget_before(t0 + 2 * dt_ms)
        kept = adapter.samples(changing, t0 + 2 * dt_ms, t0 + 4 * dt_ms)
        assert np.interp(t0 + 4 * dt_ms, kept.t_ms, kept.values) == pytest.approx(
            read[-1], rel=RTOL, abs=ATOL
        )

    def test_a_constant_series_acts_as_setting_its_value(
        self, adapter: Adapter, series_input: tuple[str, float] | None, changing: str | None
    ) -> None:
        _require(adapter, "series_input", series_input, "series_input")
        _require(adapter, "save_restore", changing, "changing")
        assert series_input is not None
        assert changing is not None
        name, value = series_input
        start = adapter.save_state()
        t_end = adapter.t_ms + self.span_ms
        adapter.set(name, value)
        adapter.advance(t_end)
        by_set = adapter.get(changing)
        adapter.restore_state(start)
        adapter.set_series(name, Series(adapter.t_ms, self.span_ms / 4, np.full(4, value)))
        adapter.advance(t_end)
        assert adapter.get(changing) == pytest.approx(by_set, rel=RTOL, abs=ATOL)

    def test_posted_advance_gives_the_blocking_result(
        self, adapter: Adapter, changing: str | None
    ) -> None:
        _require(adapter, "asynchronous", changing, "changing")
        _require(adapter, "save_restore", changing, "changing")

        def posted(t_end: float) -> None:
            adapter.post_advance(t_end)
            assert adapter.t_ms == t_end
            adapter.wait()

        blocking, by_post = _two_ways(adapter, str(changing), self.span_ms, posted)
        assert by_post == pytest.approx(blocking, rel=RTOL, abs=ATOL)
