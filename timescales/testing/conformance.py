"""Contract tests that any adapter (ours or a third party's) runs against itself.

Subclass `AdapterContract` in a test module and override the fixtures:

- `adapter`: an initialized adapter;
- `watch_spec`: `(variable, level, direction)` that fires within `watch_horizon_ms`;
- `settable` (optional): `(variable, value)` that may be set and read back.
"""

from __future__ import annotations

import math

import pytest

from timescales.adapter import Adapter, Watch
from timescales.errors import AdapterError, UnknownNameError


class AdapterContract:
    """The promises of `timescales.adapter.Adapter`, checked on a real adapter."""

    watch_horizon_ms: float = 100.0

    @pytest.fixture
    def adapter(self) -> Adapter:
        raise NotImplementedError("override the `adapter` fixture")

    @pytest.fixture
    def watch_spec(self) -> tuple[str, float, str]:
        raise NotImplementedError("override the `watch_spec` fixture")

    @pytest.fixture
    def settable(self) -> tuple[str, float] | None:
        return None

    def test_time_starts_finite(self, adapter: Adapter) -> None:
        assert math.isfinite(adapter.t_ms)

    def test_advance_reaches_target_exactly(self, adapter: Adapter) -> None:
        t0 = adapter.t_ms
        reached = adapter.advance(t0 + 1.0)
        assert reached.t_ms == pytest.approx(t0 + 1.0, abs=1e-9)
        assert adapter.t_ms == reached.t_ms
        assert not reached.fired

    def test_chunks_are_monotonic(self, adapter: Adapter) -> None:
        times = []
        for step in (0.5, 0.25, 2.0, 0.0):
            adapter.advance(adapter.t_ms + step)
            times.append(adapter.t_ms)
        assert times == sorted(times)

    def test_advance_into_the_past_raises(self, adapter: Adapter) -> None:
        adapter.advance(adapter.t_ms + 1.0)
        with pytest.raises(AdapterError, match="before the adapter time"):
            adapter.advance(adapter.t_ms - 0.5)

    def test_watch_stops_early_without_overshoot(
        self, adapter: Adapter, watch_spec: tuple[str, float, str]
    ) -> None:
        name, level, direction = watch_spec
        watch = Watch(name, level, direction, key="w")  # type: ignore[arg-type]
        until = adapter.t_ms + self.watch_horizon_ms
        reached = adapter.advance(until, [watch])
        assert reached.fired == (watch,)
        assert reached.t_ms <= until
        value = adapter.get(name)
        if direction == "rising":
            assert value >= level
        elif direction == "falling":
            assert value <= level

    def test_unknown_variable_lists_candidates(self, adapter: Adapter) -> None:
        with pytest.raises(UnknownNameError) as err:
            adapter.get("no_such_variable_xyz")
        assert "no_such_variable_xyz" in str(err.value)

    def test_set_get_round_trip(self, adapter: Adapter, settable: tuple[str, float] | None) -> None:
        if settable is None:
            pytest.skip("adapter fixture names no settable variable")
        name, value = settable
        adapter.set(name, value)
        assert adapter.get(name) == pytest.approx(value, rel=1e-9, abs=1e-15)

    def test_bulk_get_matches_single_gets(self, adapter: Adapter) -> None:
        names = list(adapter.variables())[:5]
        bulk = adapter.get_many(names)
        assert bulk == pytest.approx([adapter.get(n) for n in names])

    def test_next_event_time_is_not_in_the_past(self, adapter: Adapter) -> None:
        t_next = adapter.next_event_time()
        assert t_next == math.inf or t_next >= adapter.t_ms - 1e-9

    def test_stats_count_calls(self, adapter: Adapter) -> None:
        before = adapter.stats.n_advance
        adapter.advance(adapter.t_ms + 0.5)
        assert adapter.stats.n_advance == before + 1

    def test_save_restore_round_trip(self, adapter: Adapter) -> None:
        if not adapter.capabilities.save_restore:
            pytest.skip(f"{adapter.kind} does not declare save_restore")
        names = list(adapter.variables())[:5]
        state = adapter.save_state()
        t_saved = adapter.t_ms
        before = adapter.get_many(names)
        adapter.advance(t_saved + 5.0)
        adapter.restore_state(state)
        assert adapter.t_ms == pytest.approx(t_saved)
        assert adapter.get_many(names) == pytest.approx(before, rel=1e-9, abs=1e-15)
