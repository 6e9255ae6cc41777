"""The NEURON adapter against the contract suite and against uninterrupted NEURON runs.

References are NEURON's own `Vector.record` traces of an uninterrupted run (recorded by the
model, not by the adapter) and states after plain fixed-step integration. Every test closes its
adapter, which deletes the sections it built, so the tests share one NEURON process.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pytest

from conftest import skip_module_without
from timescales.adapter import Reached, Watch
from timescales.errors import AdapterError, ModelError, UnknownNameError
from timescales.testing.conformance import AdapterContract

skip_module_without("neuron")
pytestmark = pytest.mark.neuron

from timescales.adapters._imports import import_neuron  # noqa: E402
from timescales.adapters.neuron import NeuronAdapter, Stepping  # noqa: E402

h = import_neuron().h
DT_MS = 0.025


class BallAndStick:
    """Soma with hh, a passive dendrite, a somatic IClamp; records soma v and t every step."""

    def __init__(self, amp_nA: float = 0.3, name: str = "") -> None:
        self.soma = h.Section(name=f"{name}soma")
        self.dend = h.Section(name=f"{name}dend")
        self.dend.connect(self.soma(1))
        self.soma.L = self.soma.diam = 20.0
        self.soma.insert("hh")
        self.dend.L, self.dend.diam, self.dend.nseg = 500.0, 2.0, 11
        self.dend.insert("pas")
        for sec in (self.soma, self.dend):
            sec.Ra = 100.0
        self.stim = h.IClamp(self.soma(0.5))
        self.stim.delay, self.stim.dur, self.stim.amp = 5.0, 60.0, amp_nA
        self.t_rec = h.Vector().record(h._ref_t)
        self.v_rec = h.Vector().record(self.soma(0.5)._ref_v)

    def trace(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array(self.t_rec), np.array(self.v_rec)


class TwinCells:
    """Two identical, unconnected ball-and-sticks: their somata cross a level at the same step."""

    def __init__(self) -> None:
        self.cells = [BallAndStick(name="a_"), BallAndStick(name="b_")]


STATE_NAMES = [
    *(f"soma(0.5).{v}" for v in ("v", "m_hh", "h_hh", "n_hh")),
    *(f"dend({x:.3f}).v" for x in np.linspace(0.05, 0.95, 11)),
]


def open_adapter(
    build=BallAndStick, v_init_mV=-65.0, celsius=6.3, mod_dir=None, **stepping
) -> NeuronAdapter:
    """An initialized adapter; `celsius` is set each time (h.celsius is process-wide)."""
    adapter = NeuronAdapter(
        build,
        dt_ms=DT_MS,
        stepping=Stepping(**stepping),
        v_init_mV=v_init_mV,
        celsius=celsius,
        mod_dir=mod_dir,
    )
    adapter.initialize()
    return adapter


@pytest.fixture
def ball() -> Iterator[NeuronAdapter]:
    adapter = open_adapter(rest_tol_per_ms=None)
    yield adapter
    adapter.close()


def uninterrupted(until_ms: float, build=BallAndStick) -> tuple[np.ndarray, np.ndarray]:
    """Soma v trace of a plain run to `until_ms`, and the final states."""
    adapter = open_adapter(build, rest_tol_per_ms=None)
    try:
        adapter.advance(until_ms)
        states = adapter.get_many(STATE_NAMES)
        t, v = adapter.model.trace()
    finally:
        adapter.close()
    return np.vstack([t, v]), states


class TestContract(AdapterContract):
    @pytest.fixture
    def adapter(self) -> Iterator[NeuronAdapter]:
        adapter = open_adapter(rest_tol_per_ms=None)
        for name in STATE_NAMES[:5]:
            adapter.variable(name)
        yield adapter
        adapter.close()

    @pytest.fixture
    def watch_spec(self) -> tuple[str, float, str]:
        return ("soma(0.5).v", 0.0, "rising")

    @pytest.fixture
    def settable(self) -> tuple[str, float]:
        return ("dend(0.5).g_pas", 2.5e-4)

    @pytest.fixture
    def changing(self) -> str:
        return "soma(0.5).v"


# ------------------------------------------------------------------ watches
@pytest.mark.parametrize(
    ("direction", "level"), [("rising", 0.0), ("falling", -20.0), ("either", -20.0)]
)
def test_voltage_watch_stops_at_the_crossing_step(direction: str, level: float) -> None:
    (t_ref, v_ref), _ = uninterrupted(40.0)
    up = (v_ref[:-1] < level) & (v_ref[1:] >= level)
    down = (v_ref[:-1] > level) & (v_ref[1:] <= level)
    crossing = {"rising": up, "falling": down, "either": up | down}[direction]
    i = int(np.argmax(crossing)) + 1
    adapter = open_adapter(rest_tol_per_ms=None)
    try:
        watch = Watch("soma(0.5).v", level, direction, key="spike")  # type: ignore[arg-type]
        reached = adapter.advance(40.0, [watch])
        assert reached.fired == (watch,)
        assert reached.t_ms == pytest.approx(t_ref[i], abs=1e-9)
        assert adapter.get("soma(0.5).v") == v_ref[i]
    finally:
        adapter.close()


def test_watch_on_a_getter_variable_is_checked_every_step() -> None:
    (t_ref, v_ref), _ = uninterrupted(40.0)
    i = int(np.argmax(v_ref >= 0.0))
    adapter = open_adapter(rest_tol_per_ms=None)
    try:
        soma = adapter.model.soma(0.5)
        adapter.register("soma.v", getter=lambda: soma.v, unit="mV")
        watch = Watch("soma.v", 0.0)
        assert adapter.advance(40.0, [watch]) == Reached(
            pytest.approx(t_ref[i], abs=1e-9), (watch,)
        )
    finally:
        adapter.close()


def test_watch_on_a_registered_pointer_with_its_section() -> None:
    (t_ref, v_ref), _ = uninterrupted(40.0)
    i = int(np.argmax(v_ref >= 0.0))
    adapter = open_adapter(rest_tol_per_ms=None)
    try:
        soma = adapter.model.soma
        adapter.register("soma.v", ref=soma(0.5)._ref_v, section=soma, unit="mV")
        watch = Watch("soma.v", 0.0)
        assert adapter.advance(40.0, [watch]) == Reached(
            pytest.approx(t_ref[i], abs=1e-9), (watch,)
        )
    finally:
        adapter.close()


def test_watches_firing_at_one_step_are_all_reported() -> None:
    adapter = open_adapter(TwinCells, rest_tol_per_ms=None)
    try:
        watches = [Watch(f"{p}soma(0.5).v", 0.0, key=p) for p in ("a_", "b_")]
        reached = adapter.advance(40.0, watches)
        assert set(reached.fired) == set(watches)
        # Restarting from the stop does not report the same crossings again.
        assert adapter.advance(reached.t_ms + 1.0, watches).fired == ()
    finally:
        adapter.close()


class TwinCellsOnThreads:
    """Two ball-and-sticks, the second driven harder, on two NEURON threads (one tree each);
    each soma's v recorded every step by the thread that steps it."""

    def __init__(self) -> None:
        self.cells = [BallAndStick(name="a_"), BallAndStick(amp_nA=0.5, name="b_")]
        h.ParallelContext().nthread(2)
        self.v_recs = [
            h.Vector().record(cell.soma(0.5)._ref_v, sec=cell.soma) for cell in self.cells
        ]


def test_on_two_threads_samples_and_watches_follow_neurons_own_trace() -> None:
    adapter = open_adapter(TwinCellsOnThreads, rest_tol_per_ms=None)
    try:
        names = ["a_soma(0.5).v", "b_soma(0.5).v"]
        adapter.record(names, 0.1)
        watch = Watch("b_soma(0.5).v", 0.0)
        reached = adapter.advance(40.0, [watch])
        traces = [np.array(vec) for vec in adapter.model.v_recs]
        t_cross = DT_MS * int(np.argmax(traces[1] >= 0.0))
        assert reached.fired == (watch,)
        assert reached.t_ms == pytest.approx(t_cross, abs=1e-9)
        for name, trace in zip(names, traces, strict=True):
            rec = adapter.samples(name, 1.0, reached.t_ms - 0.2)
            steps = np.rint(rec.t_ms / DT_MS).astype(int)
            assert np.array_equal(rec.values, trace[steps]), name
    finally:
        adapter.close()
        h.ParallelContext().nthread(1)


def test_cvode_on_two_threads_is_refused() -> None:
    adapter = NeuronAdapter(TwinCellsOnThreads, stepping=Stepping(cvode=True))
    try:
        with pytest.raises(AdapterError, match="cvode=True on 2 NEURON threads"):
            adapter.initialize()
    finally:
        adapter.close()
        h.ParallelContext().nthread(1)


def test_a_model_netcon_on_the_watched_pointer_keeps_its_threshold_and_record() -> None:
    class WithDetector(BallAndStick):
        def __init__(self) -> None:
            super().__init__()
            self.detector = h.NetCon(self.soma(0.5)._ref_v, None, sec=self.soma)
            self.detector.threshold = -20.0
            self.spikes = h.Vector()
            self.detector.record(self.spikes)

    (t_ref, v_ref), _ = uninterrupted(40.0)
    i = int(np.argmax(v_ref >= 0.0))
    adapter = open_adapter(WithDetector, rest_tol_per_ms=None)
    try:
        reached = adapter.advance(40.0, [Watch("soma(0.5).v", 0.0)])
        assert reached.t_ms == pytest.approx(t_ref[i], abs=1e-9)
        assert adapter.model.detector.threshold == -20.0
        assert adapter.model.spikes.size() == 1
    finally:
        adapter.close()


def test_crossing_in_the_last_step_of_an_advance_is_reported_there() -> None:
    (t_ref, v_ref), _ = uninterrupted(40.0)
    i = int(np.argmax(v_ref >= 0.0))
    adapter = open_adapter(rest_tol_per_ms=None)
    try:
        watch = Watch("soma(0.5).v", 0.0)
        assert adapter.advance(float(t_ref[i - 1]), [watch]).fired == ()
        reached = adapter.advance(float(t_ref[i]), [watch])
        assert reached.fired == (watch,)
        assert reached.t_ms == pytest.approx(t_ref[i], abs=1e-9)
        assert adapter.advance(float(t_ref[i]) + 2.0, [watch]).fired == ()
    finally:
        adapter.close()


def test_spine_calcium_watch_stops_at_the_crossing_step() -> None:
    msn = pytest.importorskip("timescales.models.neuron.msn")

    def build():
        cell = msn.MSN(spines="two")
        cell.stimulate([1], [10.0])
        head = cell.spine(1).head(0.5)
        cell.ca_rec = h.Vector().record(head._ref_total_catotal)
        cell.t_rec = h.Vector().record(h._ref_t)
        return cell

    settings = {"celsius": 35.0, "v_init_mV": -87.75, "rest_tol_per_ms": None}
    reference = open_adapter(build, **settings)
    try:
        reference.advance(30.0)
        t_ref, ca_ref = np.array(reference.model.t_rec), np.array(reference.model.ca_rec)
    finally:
        reference.close()
    level = 0.5 * (ca_ref[0] + ca_ref.max())
    i = int(np.argmax(ca_ref >= level))
    adapter = open_adapter(build, **settings)
    try:
        watch = Watch("spine1.ca", level)
        reached = adapter.advance(30.0, [watch])
        assert reached.fired == (watch,)
        assert reached.t_ms == pytest.approx(t_ref[i], abs=1e-9)
        assert adapter.get("spine1.ca") == ca_ref[i]
    finally:
        adapter.close()


def test_cvode_watch_stops_at_the_first_check_past_the_level() -> None:
    (t_ref, v_ref), _ = uninterrupted(40.0)
    t_cross = t_ref[int(np.argmax(v_ref >= 0.0))]
    adapter = open_adapter(cvode=True, rest_tol_per_ms=None)
    try:
        watch = Watch("soma(0.5).v", 0.0)
        reached = adapter.advance(40.0, [watch])
        assert reached.fired == (watch,)
        assert adapter.get("soma(0.5).v") >= 0.0
        # CVode is more accurate than fixed-step backward Euler: the crossing moves slightly.
        assert reached.t_ms == pytest.approx(t_cross, abs=0.2)
        state = adapter.save_state()
        adapter.restore_state(state)
        assert adapter.advance(reached.t_ms + 1.0, [watch]).fired == ()
    finally:
        adapter.close()


# ------------------------------------------------------------------ advancing
def test_chunked_advance_equals_uninterrupted_run() -> None:
    _, expected = uninterrupted(60.0)
    adapter = open_adapter(rest_tol_per_ms=None)
    try:
        rng = np.random.default_rng(5)
        far = Watch("dend(0.95).v", 100.0)
        while adapter.t_ms < 60.0 - 1e-9:
            steps = int(rng.integers(1, 120))
            until = min(60.0, round(adapter.t_ms / DT_MS + steps) * DT_MS)
            adapter.advance(until, [far] if steps % 2 else [])
        np.testing.assert_allclose(adapter.get_many(STATE_NAMES), expected, rtol=0, atol=1e-9)
    finally:
        adapter.close()


def test_rest_checks_that_find_no_rest_leave_the_trajectory_alone() -> None:
    _, expected = uninterrupted(60.0)
    adapter = open_adapter(rest_tol_per_ms=1e-12, jump_min_ms=1.0)
    try:
        for until in np.arange(2.0, 60.1, 2.0):
            adapter.advance(float(until))
        assert adapter.n_jumps == 0
        np.testing.assert_allclose(adapter.get_many(STATE_NAMES), expected, rtol=0, atol=1e-9)
    finally:
        adapter.close()


def test_off_grid_target_is_reached_exactly() -> None:
    adapter = open_adapter(rest_tol_per_ms=None)
    try:
        assert adapter.advance(1.01).t_ms == 1.01
        assert abs(h.t - 1.01) < 1e-9
    finally:
        adapter.close()


@pytest.mark.parametrize("rest_check", ["cvode", "step"])
def test_quiet_period_jump_matches_fixed_step_integration(rest_check: str) -> None:
    rest_tol = 1e-6
    settle_ms, quiet_ms = 400.0, 1000.0
    quiet = BallAndStick
    reference = open_adapter(lambda: quiet(amp_nA=0.0), rest_tol_per_ms=None)
    try:
        reference.advance(settle_ms)
        reference.advance(settle_ms + quiet_ms)
        expected = reference.get_many(STATE_NAMES)
    finally:
        reference.close()
    adapter = open_adapter(
        lambda: quiet(amp_nA=0.0), rest_tol_per_ms=rest_tol, rest_check=rest_check
    )
    try:
        adapter.advance(settle_ms)
        adapter.record(["soma(0.5).v"], 0.5)
        adapter.advance(settle_ms + quiet_ms)
        assert adapter.n_jumps >= 1
        assert adapter.jumped_ms >= quiet_ms - 5.0
        assert adapter.t_ms == settle_ms + quiet_ms
        got = adapter.get_many(STATE_NAMES)
        np.testing.assert_allclose(got, expected, rtol=0, atol=rest_tol * quiet_ms)
        # Samples over the jumped stretch hold the rest value too.
        rec = adapter.samples("soma(0.5).v", settle_ms, settle_ms + quiet_ms)
        assert len(rec.values) == round(quiet_ms / 0.5) + 1
        np.testing.assert_allclose(rec.values, expected[0], rtol=0, atol=rest_tol * quiet_ms)
    finally:
        adapter.close()


def test_a_long_jump_records_no_backlog_and_keeps_its_held_value() -> None:
    """100 s at rest recorded every step: NEURON would fill the 4 million skipped samples at
    the next step; the adapter starts recording anew after the jump instead. A stretch
    inside the jump, read after everything before it was forgotten, holds the value the
    cell rested at."""
    adapter = open_adapter(lambda: BallAndStick(amp_nA=0.0), rest_tol_per_ms=1e-6)
    try:
        adapter.advance(400.0)
        adapter.record(["soma(0.5).v"], DT_MS)
        adapter.advance(100_400.0)
        assert adapter.jumped_ms >= 99_000.0
        rest = adapter.get("soma(0.5).v")
        adapter.advance(100_401.0)
        recording = adapter._recordings.get("soma(0.5).v")
        assert recording is not None
        assert recording.vector.size() <= round(1.0 / DT_MS) + 1
        adapter.forget_before(50_000.0)
        held = adapter.samples("soma(0.5).v", 50_000.0, 50_010.0)
        assert len(held.values) == round(10.0 / DT_MS) + 1
        np.testing.assert_allclose(held.values, rest, rtol=0, atol=1e-6 * 100_000.0)
    finally:
        adapter.close()


def test_quiet_jump_for_a_model_cvode_refuses() -> None:
    """The MSN's kinetic calcium (catrack) refuses CVode: rest is measured over one step."""
    msn = pytest.importorskip("timescales.models.neuron.msn")
    rest_tol, settle_ms, quiet_ms = 1e-4, 100.0, 200.0
    settings = {"celsius": 35.0, "v_init_mV": -87.75}
    names = ["soma.v", "spine1.ca", "spine2.ca"]
    reference = open_adapter(lambda: msn.MSN(spines="two"), rest_tol_per_ms=None, **settings)
    try:
        reference.advance(settle_ms + quiet_ms)
        expected = reference.get_many(names)
    finally:
        reference.close()
    adapter = open_adapter(lambda: msn.MSN(spines="two"), rest_tol_per_ms=rest_tol, **settings)
    try:
        assert adapter.max_rate_per_ms() is None
        adapter.advance(settle_ms, [Watch("soma.v", 0.0)])
        adapter.advance(settle_ms + quiet_ms, [Watch("soma.v", 0.0)])
        assert adapter.jumped_ms >= quiet_ms - adapter.stepping.jump_min_ms
        np.testing.assert_allclose(adapter.get_many(names), expected, atol=rest_tol * quiet_ms)
    finally:
        adapter.close()


def test_a_long_advance_jumps_once_the_cell_comes_to_rest() -> None:
    """The MSN starts off its rest and relaxes (its slowest state, the Rubin rule's W, with
    a 500 ms time constant): one advance over 2.5 s checks for rest again as it goes and
    jumps once the rates fall below the tolerance, as far as the calcium watch allows.
    Against regular steps, no state is off by more than the tolerance times the span
    jumped (the adapter's stated bound while rates do not grow)."""
    msn = pytest.importorskip("timescales.models.neuron.msn")
    rest_tol, end_ms = 1e-5, 2500.0
    settings = {"celsius": 35.0, "v_init_mV": -87.75}
    names = ["soma.v", "spine1.ca", "spine2.ca"]
    reference = open_adapter(lambda: msn.MSN(spines="two"), rest_tol_per_ms=None, **settings)
    try:
        reference.advance(end_ms)
        expected = reference.get_many(names)
    finally:
        reference.close()
    adapter = open_adapter(lambda: msn.MSN(spines="two"), rest_tol_per_ms=rest_tol, **settings)
    try:
        watch = Watch("spine1.ca", adapter.get("spine1.ca") + 5e-5)
        adapter.advance(end_ms, [watch])
        assert adapter.t_ms == end_ms
        assert adapter.jumped_ms >= 1000.0
        assert adapter.n_rest_checks < 40
        bound = rest_tol * adapter.jumped_ms
        np.testing.assert_allclose(adapter.get_many(names), expected, rtol=0, atol=bound)
    finally:
        adapter.close()


def test_no_jump_before_a_queued_input() -> None:
    adapter = open_adapter(rest_tol_per_ms=1e-3)
    try:
        adapter.advance(4.0)
        assert adapter.next_event_time() == 5.0
        adapter.advance(30.0, [Watch("soma(0.5).v", 0.0)])
        assert adapter.t_ms < 30.0
    finally:
        adapter.close()


# ------------------------------------------------------------------ bulk, state, inputs
def test_bulk_get_and_set(ball: NeuronAdapter) -> None:
    ball.advance(8.0)
    names = [f"dend({x:.3f}).v" for x in np.linspace(0.05, 0.95, 11)]
    assert np.array_equal(ball.get_many(names), [ball.get(n) for n in names])
    values = np.linspace(-80.0, -60.0, len(names))
    ball.set_many(names, values)
    assert [ball.get(n) for n in names] == pytest.approx(values, abs=0)
    ball.set_many(names, values + 1.0)
    assert ball.get_many(names) == pytest.approx(values + 1.0, abs=0)


def test_bulk_access_follows_each_list_of_names(ball: NeuronAdapter) -> None:
    """Lists used in turn, reordered, sharing a prefix, changed in place by the caller or
    holding a variable without a pointer each reach exactly their own variables."""
    ball.advance(8.0)
    soma, dend = ball.model.soma, ball.model.dend
    ball.register("soma.m", getter=lambda: soma(0.5).m_hh)
    raw = {
        "soma(0.5).v": lambda: soma(0.5).v,
        "soma(0.5).m_hh": lambda: soma(0.5).m_hh,
        "soma.m": lambda: soma(0.5).m_hh,
        **{f"dend({x}).v": (lambda x=x: dend(x).v) for x in (0.05, 0.5, 0.95)},
    }
    three = ["dend(0.05).v", "dend(0.5).v", "dend(0.95).v"]
    lists = [three, three[::-1], three[:2], [*three, "soma(0.5).m_hh"], [*three, "soma.m"]]
    for names in [*lists, *lists]:
        assert ball.get_many(names).tolist() == [raw[n]() for n in names]
    names = list(three)
    ball.get_many(names)
    names[0] = "soma(0.5).v"
    assert ball.get_many(names).tolist() == [raw[n]() for n in names]
    for k, names in enumerate([three, three[::-1], three[:2], three]):
        values = -70.0 - k - np.arange(len(names))
        ball.set_many(names, values)
        assert [raw[n]() for n in names] == values.tolist()


def test_save_restore_replays_the_same_trajectory(ball: NeuronAdapter) -> None:
    ball.record(["soma(0.5).v"], 0.1)
    ball.advance(3.0)
    state = ball.save_state()
    first = ball.advance(30.0, [Watch("soma(0.5).v", 0.0)])
    states_first = ball.get_many(STATE_NAMES)
    samples_first = ball.samples("soma(0.5).v", 0.0, first.t_ms).values
    ball.restore_state(state)
    assert ball.t_ms == 3.0
    second = ball.advance(30.0, [Watch("soma(0.5).v", 0.0), Watch("dend(0.95).v", 50.0)])
    assert second.t_ms == first.t_ms
    assert np.array_equal(ball.get_many(STATE_NAMES), states_first)
    assert np.array_equal(ball.samples("soma(0.5).v", 0.0, first.t_ms).values, samples_first)


def test_initialize_at_a_later_time(ball: NeuronAdapter) -> None:
    ball.initialize(100.0)
    assert ball.t_ms == 100.0
    reached = ball.advance(101.0)
    assert reached.t_ms == 101.0
    assert abs(h.t - 101.0) < 1e-9


def test_next_event_time_from_queued_vecstim_inputs() -> None:
    from timescales.models.neuron.mechanisms import MOD_DIR

    def build():
        cell = BallAndStick(amp_nA=0.0)
        cell.syn = h.ExpSyn(cell.dend(0.9))
        cell.times = h.Vector([12.0, 30.0])
        cell.vecstim = h.VecStim()
        cell.vecstim.play(cell.times)
        cell.netcon = h.NetCon(cell.vecstim, cell.syn)
        cell.netcon.delay, cell.netcon.weight[0] = 1.0, 0.001
        return cell

    adapter = open_adapter(build, mod_dir=MOD_DIR, rest_tol_per_ms=None)
    try:
        assert adapter.next_event_time() == pytest.approx(12.0)
        state = adapter.save_state()
        adapter.advance(20.0)
        adapter.restore_state(state)  # the queued inputs come back with the state
        assert adapter.next_event_time() == pytest.approx(12.0)
        adapter.advance(12.5)
        assert adapter.next_event_time() == pytest.approx(13.0)
        adapter.advance(20.0)
        assert adapter.next_event_time() == pytest.approx(30.0)
        adapter.advance(40.0)
        assert adapter.next_event_time() == math.inf
    finally:
        adapter.close()


def test_iclamp_onset_and_end_are_events(ball: NeuronAdapter) -> None:
    assert ball.next_event_time() == 5.0
    ball.advance(6.0)
    assert ball.next_event_time() == 65.0


def test_recorded_samples_match_neurons_own_trace(ball: NeuronAdapter) -> None:
    ball.record(["soma(0.5).v"], 0.1)
    ball.advance(12.0)
    rec = ball.samples("soma(0.5).v", 5.0, 12.0)
    t_ref, v_ref = ball.model.trace()
    steps = np.rint(rec.t_ms / DT_MS).astype(int)
    assert np.allclose(t_ref[steps], rec.t_ms, rtol=0, atol=1e-9)
    assert np.array_equal(rec.values, v_ref[steps])
    ball.forget_before(10.0)
    with pytest.raises(AdapterError, match="forgotten"):
        ball.samples("soma(0.5).v", 5.0, 12.0)
    series = ball.series("soma(0.5).v", 10.0, 12.0)
    assert series.t_end_ms == pytest.approx(12.0)


def test_a_finer_record_request_replaces_a_coarser_one(ball: NeuronAdapter) -> None:
    ball.record(["soma(0.5).v"], 1.0)
    ball.advance(5.0)
    ball.record(["soma(0.5).v"], 0.1)
    ball.record(["soma(0.5).v"], 0.5)  # coarser than the current one: no change
    ball.advance(12.0)
    rec = ball.samples("soma(0.5).v", 5.0, 12.0)
    assert rec.dt_ms == pytest.approx(0.1)
    t_ref, v_ref = ball.model.trace()  # restarted at 5 ms by the second record()
    steps = np.searchsorted(t_ref, rec.t_ms - 1e-9)
    assert np.allclose(t_ref[steps], rec.t_ms, rtol=0, atol=1e-9)
    assert np.array_equal(rec.values, v_ref[steps])


def test_a_record_request_with_a_pointerless_name_changes_nothing(ball: NeuronAdapter) -> None:
    soma = ball.model.soma
    ball.register("soma.m", getter=lambda: soma(0.5).m_hh)
    ball.record(["soma(0.5).v"], 1.0)
    ball.advance(5.0)
    with pytest.raises(AdapterError, match=r"'soma\.m' has no NEURON pointer to record"):
        ball.record(["soma(0.5).v", "dend(0.5).v", "soma.m"], 0.1)
    ball.advance(12.0)
    rec = ball.samples("soma(0.5).v", 0.0, 12.0)
    assert rec.dt_ms == 1.0
    t_ref, v_ref = ball.model.trace()  # not restarted: the request was refused as a whole
    steps = np.rint(rec.t_ms / DT_MS).astype(int)
    assert np.allclose(t_ref[steps], rec.t_ms, rtol=0, atol=1e-9)
    assert np.array_equal(rec.values, v_ref[steps])
    with pytest.raises(AdapterError, match=r"'dend\(0\.5\)\.v' is not recorded"):
        ball.samples("dend(0.5).v", 5.0, 12.0)


# ------------------------------------------------------------------ names, lifecycle
def test_unknown_section_names_the_closest(ball: NeuronAdapter) -> None:
    with pytest.raises(UnknownNameError, match="closest: soma") as err:
        ball.get("som(0.5).v")
    assert "section 'som'" in str(err.value)


def test_unknown_range_variable_names_the_closest(ball: NeuronAdapter) -> None:
    with pytest.raises(UnknownNameError, match="gnabar_hh"):
        ball.get("soma(0.5).gnabar_h")
    with pytest.raises(UnknownNameError, match="g_pas"):
        ball.get("dend(0.5).gnabar_hh")


def test_units_and_roles_come_from_neuron(ball: NeuronAdapter) -> None:
    assert ball.variable("soma(0.5).v").unit == "mV"
    gbar = ball.variable("soma(0.5).gnabar_hh")
    assert (gbar.unit, gbar.role) == ("S/cm**2", "parameter")
    assert ball.variable("soma(0.5).ina").role == "output"
    assert ball.variable("soma(0.5).m_hh").role == "input"
    with pytest.raises(AdapterError, match="output"):
        ball.set("soma(0.5).ina", 1.0)


def test_registered_variables_are_listed(ball: NeuronAdapter) -> None:
    ball.register("stim.amp", ref=ball.model.stim._ref_amp, unit="nA", role="parameter")
    assert "stim.amp" in ball.variables()
    ball.set("stim.amp", 0.0)
    assert ball.model.stim.amp == 0.0


NEURON_THEN_ROADRUNNER = """
import antimony
from timescales.adapter import Watch
from timescales.adapters.neuron import NeuronAdapter, Stepping
from timescales.adapters._imports import import_neuron
h = import_neuron().h

def build():
    soma = h.Section(name="soma")
    soma.L = soma.diam = 20.0
    soma.insert("hh")
    stim = h.IClamp(soma(0.5))
    stim.delay, stim.dur, stim.amp = 1.0, 20.0, 0.3
    return (soma, stim)

adapter = NeuronAdapter(build, v_init_mV=-65.0, celsius=6.3, stepping=Stepping(cvode=True))
adapter.initialize()
assert adapter.advance(20.0, [Watch("soma(0.5).v", 0.0)]).fired
adapter.max_rate_per_ms()
import roadrunner
antimony.loadAntimonyString("model m; S1 -> S2; k*S1; S1 = 10; k = 1; end")
runner = roadrunner.RoadRunner(antimony.getSBMLString("m"))
runner.simulate(0, 1, 5)
print("ok")
"""


def test_neuron_adapter_then_roadrunner_in_one_process() -> None:
    """NEURON's CVode used first, RoadRunner's afterwards: no SUNDIALS clash (crash = rc)."""
    pytest.importorskip("antimony")
    done = subprocess.run(
        [sys.executable, "-c", NEURON_THEN_ROADRUNNER],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")


HOC_MODEL = """
create soma
soma { L = 20  diam = 20  insert hh }
objref stim
soma stim = new IClamp(0.5)
stim.del = 5
stim.dur = 50
stim.amp = 0.3
"""


def test_neurons_psolve_watchdog_is_off_after_a_stopped_advance(ball: NeuronAdapter) -> None:
    """A watch unwinds psolve before it disarms its SIGALRM watchdog (20 s, then abort)."""
    assert ball.advance(40.0, [Watch("soma(0.5).v", 0.0)]).fired
    pc = h.ParallelContext()
    assert pc.timeout(0) == 0.0


def test_a_hoc_file_model(tmp_path) -> None:
    path = tmp_path / "cell.hoc"
    path.write_text(HOC_MODEL)
    for _ in range(2):  # a second adapter reloads the file after the first deleted its sections
        adapter = NeuronAdapter(path, v_init_mV=-65.0, celsius=6.3)
        adapter.initialize()
        try:
            assert adapter.next_event_time() == 5.0
            reached = adapter.advance(30.0, [Watch("soma(0.5).v", 0.0)])
            assert reached.fired
            assert 5.0 < reached.t_ms < 30.0
        finally:
            adapter.close()


def test_a_hoc_file_with_errors_is_a_model_error(tmp_path) -> None:
    path = tmp_path / "broken.hoc"
    path.write_text("create soma\nsoma { insert no_such_mechanism }\n")
    with pytest.raises(ModelError, match=r"broken\.hoc"):
        NeuronAdapter(path)
    open_adapter().close()


def test_a_failing_build_leaves_no_sections_and_no_open_adapter() -> None:
    before = {sec.name() for sec in h.allsec()}

    def broken():
        BallAndStick()
        raise ValueError("model error")

    with pytest.raises(ValueError, match="model error"):
        NeuronAdapter(broken)
    assert {sec.name() for sec in h.allsec()} == before
    open_adapter().close()


def test_one_adapter_per_process_and_close_deletes_sections() -> None:
    before = {sec.name() for sec in h.allsec()}
    first = open_adapter()
    with pytest.raises(AdapterError, match="already open"):
        NeuronAdapter(BallAndStick)
    first.close()
    assert {sec.name() for sec in h.allsec()} == before
    second = open_adapter()
    second.close()


# ------------------------------------------------------------------ quiet steps
def _two_bursts():
    """The MSN `two` layout: 3 inputs to spine 1 from 20 ms, 3 more from 700 ms."""
    from timescales.models.neuron import msn

    cell = msn.MSN(spines="two")
    cell.stimulate([1], [20.0, 30.0, 40.0, 700.0, 710.0, 720.0])
    cell.apply_settings()
    head = cell.spine(1).head(0.5)
    cell.ca_rec = h.Vector().record(head._ref_total_catotal, 0.1)
    cell.v_rec = h.Vector().record(cell.soma(0.5)._ref_v, 0.1)
    return cell


def _burst_run(**kwargs) -> tuple[NeuronAdapter, np.ndarray, np.ndarray]:
    settings = {"celsius": 35.0, "v_init_mV": -87.75, "rest_tol_per_ms": None}
    adapter = open_adapter(_two_bursts, **settings, **kwargs)
    try:
        for until in (300.0, 650.0, 900.0):
            adapter.advance(until)
        return adapter, np.array(adapter.model.ca_rec), np.array(adapter.model.v_rec)
    finally:
        adapter.close()


def test_quiet_steps_between_bursts_leave_the_next_burst_as_regular_steps_have_it() -> None:
    _, ca_ref, v_ref = _burst_run()
    adapter, ca, v = _burst_run(quiet_dt_ms=1.0, quiet_after_ms=100.0)
    # Quiet steps from 100 ms after the last input of a burst (inputs arrive 1 ms after
    # their times) to one step before the next input: 141 to 699.975 ms, 821 to 900 ms.
    assert adapter.coarse_ms == pytest.approx((699 - 141) + (900 - 821), abs=1.0)
    burst = slice(6995, 8200)  # 699.5 to 820 ms: the second burst and its decay
    assert ca_ref[burst].max() > 5 * ca_ref[burst][0]
    # Quiet steps relax the sub-threshold calcium tail a little faster (measured: 1.7e-3 of
    # the burst's peak, 3.7 % of the baseline at 699.5 ms); the burst itself follows.
    np.testing.assert_allclose(ca[burst], ca_ref[burst], rtol=0, atol=2.5e-3 * ca_ref[burst].max())
    i = 7000 + int(np.argmax(ca_ref[7000:8200]))
    assert ca[i] == pytest.approx(ca_ref[i], rel=1e-3)
    np.testing.assert_allclose(v[burst], v_ref[burst], rtol=0, atol=1e-3)


QUIET = {"quiet_dt_ms": 1.0, "quiet_after_ms": 100.0, "v_init_mV": -87.75, "rest_tol_per_ms": None}


def test_no_quiet_steps_while_a_window_reads_the_model() -> None:
    adapter = open_adapter(_two_bursts, **QUIET)
    try:
        adapter.observe(True)
        adapter.advance(600.0)
        assert adapter.coarse_ms == 0.0
        adapter.observe(False)
        adapter.advance(650.0)
        assert adapter.coarse_ms == pytest.approx(50.0)
    finally:
        adapter.close()


@pytest.mark.parametrize("bulk", [False, True], ids=["set", "set_many"])
def test_setting_a_state_delays_quiet_steps_but_a_weight_does_not(bulk: bool) -> None:
    adapter = open_adapter(_two_bursts, **QUIET)

    def write(names: list[str], values: list[float]) -> None:
        if bulk:
            adapter.set_many(names, values)
        else:
            for name, value in zip(names, values, strict=True):
                adapter.set(name, value)

    try:
        adapter.advance(200.0)
        write(["spine1.weight", "spine2.weight"], [1.5, 1.2])
        adapter.advance(250.0)
        assert adapter.coarse_ms == pytest.approx(250 - 141)  # last input arrived at 41 ms
        write(["spine1.weight", f"{adapter.model.soma.name()}(0.5).v"], [1.4, -80.0])
        adapter.advance(300.0)
        assert adapter.coarse_ms == pytest.approx(250 - 141)
    finally:
        adapter.close()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("record_dt_ms", 0.0, r"record_dt_ms must be a finite number > 0, got 0\.0"),
        ("rest_tol_per_ms", -1e-6, r"rest_tol_per_ms must be a finite number > 0, got -1e-06"),
        ("jump_min_ms", math.inf, r"jump_min_ms must be a finite number > 0, got inf"),
        ("quiet_dt_ms", math.nan, r"quiet_dt_ms must be a finite number > 0, got nan"),
        ("quiet_after_ms", -1.0, r"quiet_after_ms must be a finite number >= 0, got -1\.0"),
        ("rest_check", "guess", "rest_check must be 'cvode' or 'step', got 'guess'"),
    ],
)
def test_stepping_refuses_settings_that_cannot_run(field: str, value: object, message: str) -> None:
    with pytest.raises(AdapterError, match=message):
        Stepping(**{field: value})  # type: ignore[arg-type]


def test_steps_neuron_cannot_take_are_refused_before_anything_is_built() -> None:
    before = {sec.name() for sec in h.allsec()}
    with pytest.raises(AdapterError, match=r"cell: dt_ms must be a finite number > 0, got 0\.0"):
        NeuronAdapter(BallAndStick, label="cell", dt_ms=0.0)
    quiet = Stepping(quiet_dt_ms=0.01)
    with pytest.raises(AdapterError, match=r"quiet_dt_ms=0\.01 must be >= dt_ms=0\.025"):
        NeuronAdapter(BallAndStick, stepping=quiet)
    assert {sec.name() for sec in h.allsec()} == before
    adapter = NeuronAdapter(BallAndStick, dt_ms=0.01, stepping=quiet)
    assert adapter.dt_ms == 0.01
    adapter.close()
