"""Contract tests that any adapter (ours or a third party's) runs against itself.

Subclass `AdapterContract` in a test module and override the fixtures:

- `adapter`: an initialized adapter (a fresh one per test);
- `watch_spec`: `(variable, level, direction)` that fires within `watch_horizon_ms`
  (adapters with `capabilities.native_watches`);
- `settable`: `(variable, value)` that may be set and read back;
- `changing`: a variable whose value changes while the adapter advances from its fixture
  state (it shows that an advance, a restore or a recording did something);
- `series_input`: `(input variable, value)` for adapters with `capabilities.series_input`:
  a series holding `value` and then the input's current value must act as setting them in
  turn.

Every test exercises the adapter's own hooks and fails when they do not keep the contract
(the numbered list in `timescales.adapter`); a test whose capability the adapter does not
declare is skipped, and a declared capability without its fixture fails.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from timescales.adapter import Adapter, Series, Watch
from timescales.errors import AdapterError, UnknownNameError

#: How closely two ways of computing the same state must agree: an integrator takes other
#: steps along each way (RoadRunner's default rtol 1e-6 gives differences of a few 1e-6).
RTOL = 1e-5
ATOL = 1e-12
#: Events `test_next_event_time_is_in_the_future_and_moves_on` steps through at most.
EVENTS_CHECKED = 3
#: The capabilities that gate methods (`asynchronous` changes how `post_advance` works).
GATING = ("native_watches", "series_input", "records", "save_restore")


def _skip_without(adapter: Adapter, capability: str) -> None:
    if not getattr(adapter.capabilities, capability):
        pytest.skip(f"{adapter.kind} does not declare {capability}")


def _require(adapter: Adapter, capability: str, fixture: object, name: str) -> None:
    _skip_without(adapter, capability)
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


def _gated_calls(adapter: Adapter, capability: str) -> list[Callable[[], object]]:
    """Calls of the methods that `capability` gates (contract item 8)."""
    name = next(iter(adapter.variables()))
    t = adapter.t_ms
    return {
        "native_watches": [lambda: adapter.advance(t + 1.0, [Watch(name, 0.0)])],
        "series_input": [lambda: adapter.set_series(name, Series(t, 1.0, np.zeros(2)))],
        "records": [
            lambda: adapter.record([name], 1.0),
            lambda: adapter.samples(name, t, t),
            lambda: adapter.forget_before(t),
        ],
        "save_restore": [adapter.save_state, lambda: adapter.restore_state((t, None))],
    }[capability]


class AdapterContract:
    """The promises of `timescales.adapter.Adapter`, checked on a real adapter."""

    watch_horizon_ms: float = 100.0
    span_ms: float = 2.0
    #: How far past a crossing an adapter without a fixed step (`dt_ms` None) may stop; one
    #: with a fixed step stops at the first step that crosses.
    watch_resolution_ms: float = 1e-3

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

    def test_watch_stops_at_the_first_crossing(
        self, adapter: Adapter, watch_spec: tuple[str, float, str] | None
    ) -> None:
        """Just before where a watch stopped the advance, its variable had not crossed yet."""
        _require(adapter, "native_watches", watch_spec, "watch_spec")
        _skip_without(adapter, "save_restore")
        assert watch_spec is not None
        name, level, direction = watch_spec
        start, t0, value0 = adapter.save_state(), adapter.t_ms, adapter.get(name)
        watch = Watch(name, level, direction, key="w")  # type: ignore[arg-type]
        reached = adapter.advance(t0 + self.watch_horizon_ms, [watch])
        assert reached.fired == (watch,)
        adapter.restore_state(start)
        t_before = reached.t_ms - (adapter.dt_ms or self.watch_resolution_ms)
        if t_before > t0:
            adapter.advance(t_before)
        assert not watch.crossed(value0, adapter.get(name)), (
            f"{name} had crossed {level} by {adapter.t_ms} ms; the watch stopped at {reached.t_ms}"
        )

    def test_next_event_time_is_in_the_future_and_moves_on(self, adapter: Adapter) -> None:
        """Each known event lies ahead; once reached, the next one lies beyond it."""
        horizon = adapter.t_ms + self.watch_horizon_ms
        for _ in range(EVENTS_CHECKED):
            t_next = adapter.next_event_time()
            assert t_next > adapter.t_ms
            if t_next > horizon:
                return
            adapter.advance(t_next)

    # ---------------------------------------------------------------- variables
    def test_unknown_variable_lists_candidates(self, adapter: Adapter) -> None:
        """A misspelt name is refused, with candidates that include the name meant (or, for
        a name in parts such as NEURON's `soma(0.5).v`, the part misspelt)."""
        name = next(iter(adapter.variables()))
        for ask in (adapter.variable, adapter.get):
            with pytest.raises(UnknownNameError) as err:
                ask(name + "q")
            meant = [c for c in err.value.candidates if c and name.endswith(c)]
            assert meant, f"{err.value}: no candidate is {name!r} or its last part"

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
    @pytest.mark.parametrize("capability", GATING)
    def test_methods_of_an_absent_capability_raise(self, adapter: Adapter, capability: str) -> None:
        """Contract item 8: a method whose capability is not declared raises AdapterError."""
        if getattr(adapter.capabilities, capability):
            pytest.skip(f"{adapter.kind} declares {capability}")
        for call in _gated_calls(adapter, capability):
            with pytest.raises(AdapterError):
                call()

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
        """`samples` returns what `get` read at each grid time; `forget_before` keeps the rest
        (the grid point it names included) and recording goes on after it."""
        _require(adapter, "records", changing, "changing")
        assert changing is not None
        dt_ms = self.span_ms / 4
        t0 = adapter.t_ms
        grid = t0 + dt_ms * np.arange(9)
        adapter.record([changing], dt_ms)
        read = [adapter.get(changing)]
        for t in grid[1:5]:
            adapter.advance(t)
            read.append(adapter.get(changing))
        rec = adapter.samples(changing, t0, grid[4])
        assert np.interp(grid[:5], rec.t_ms, rec.values) == pytest.approx(read, rel=RTOL, abs=ATOL)
        adapter.forget_before(grid[2])
        for t in grid[5:]:
            adapter.advance(t)
            read.append(adapter.get(changing))
        kept = adapter.samples(changing, grid[2], grid[-1])
        assert np.interp(grid[2:], kept.t_ms, kept.values) == pytest.approx(
            read[2:], rel=RTOL, abs=ATOL
        )

    def test_a_series_acts_as_setting_its_values_in_turn(
        self, adapter: Adapter, series_input: tuple[str, float] | None, changing: str | None
    ) -> None:
        """A series of `value` then the input's current value, against setting each in turn."""
        _require(adapter, "series_input", series_input, "series_input")
        _require(adapter, "save_restore", changing, "changing")
        assert series_input is not None
        assert changing is not None
        name, value = series_input
        start = adapter.save_state()
        t_half, t_end = adapter.t_ms + self.span_ms / 2, adapter.t_ms + self.span_ms
        current = adapter.get(name)
        adapter.set(name, value)
        adapter.advance(t_half)
        adapter.set(name, current)
        adapter.advance(t_end)
        by_set = adapter.get(changing)
        adapter.restore_state(start)
        values = np.repeat([value, current], 2)
        adapter.set_series(name, Series(adapter.t_ms, self.span_ms / 4, values))
        adapter.advance(t_end)
        assert adapter.get(changing) == pytest.approx(by_set, rel=RTOL, abs=ATOL)

    def test_posted_advance_gives_the_blocking_result(
        self, adapter: Adapter, changing: str | None
    ) -> None:
        """Contract item 9: a posted advance and `wait` end where `advance` does; an
        asynchronous adapter is at the new time as soon as it is posted, another has already
        advanced."""
        _require(adapter, "save_restore", changing, "changing")

        def posted(t_end: float) -> None:
            adapter.post_advance(t_end)
            assert adapter.t_ms == t_end
            adapter.wait()

        blocking, by_post = _two_ways(adapter, str(changing), self.span_ms, posted)
        assert by_post == pytest.approx(blocking, rel=RTOL, abs=ATOL)

    def test_operations_after_a_post_run_in_order(
        self, adapter: Adapter, settable: tuple[str, float] | None, changing: str | None
    ) -> None:
        """Contract item 9: a write after a posted advance acts at the advance's end."""
        _require(adapter, "asynchronous", settable, "settable")
        _require(adapter, "save_restore", changing, "changing")
        assert settable is not None
        name, value = settable
        t_half = adapter.t_ms + self.span_ms / 2

        def posted(t_end: float) -> None:
            adapter.post_advance(t_half)
            adapter.set(name, value)
            adapter.post_advance(t_end)
            adapter.wait()

        def blocking(t_end: float) -> None:
            adapter.advance(t_half)
            adapter.set(name, value)
            adapter.advance(t_end)

        start = adapter.save_state()
        t_end = adapter.t_ms + self.span_ms
        blocking(t_end)
        in_turn = adapter.get(str(changing))
        adapter.restore_state(start)
        posted(t_end)
        assert adapter.get(str(changing)) == pytest.approx(in_turn, rel=RTOL, abs=ATOL)
