"""The whole MSN: resting state (msn-electrical.md 1, 6), stimuli (spines.md 4), variables."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from timescales.errors import ConfigError, UnknownNameError

pytestmark = pytest.mark.neuron


@pytest.fixture(scope="module")
def rested():
    """The `two` layout after 500 ms at rest with the study's settings."""
    gc.collect()
    from timescales.models.neuron.msn import MSN

    cell = MSN(spines="two")
    h = cell.h
    cell.apply_settings()
    h.finitialize(cell.settings.v_init_mV)
    h.continuerun(500.0)
    return cell


def test_soma_rests_at_the_reference_potential(rested) -> None:
    assert rested.soma(0.5).v == pytest.approx(-88.03, abs=0.1)
    distal = rested.dendrites["dend1_1[1]"](0.95).v
    assert distal == pytest.approx(-88.00, abs=0.1)


def test_spine_head_calcium_rests_at_the_pump_balance(rested) -> None:
    for spine in rested.spines:
        head = spine.head(0.5)
        assert head.cai == pytest.approx(1.25e-4, rel=1e-3)
        assert head.cali == pytest.approx(1.25e-4, rel=1e-3)
        assert head.catotal.total == pytest.approx(head.cai + head.cali, rel=1e-12)
    assert rested.soma(0.5).cai == pytest.approx(5.5e-6, rel=0.01)


def test_settings_are_the_study_ones(rested) -> None:
    h = rested.h
    assert (h.celsius, h.dt, h.v_init) == (35.0, 0.025, -87.75)


def test_variables_for_the_adapter(rested) -> None:
    variables = rested.timescales_variables()
    assert set(variables) == {"soma.v", "spine1.ca", "spine1.weight", "spine2.ca", "spine2.weight"}
    soma = variables["soma.v"]
    assert (soma.unit, soma.role, soma.setter) == ("mV", "output", None)
    assert soma.getter() == rested.soma(0.5).v
    ca = variables["spine2.ca"]
    assert (ca.unit, ca.role) == ("mM", "output")
    assert ca.getter() == pytest.approx(2.5e-4, rel=1e-3)
    pointer = rested.h.PtrVector(1)
    pointer.pset(0, ca.ref)
    values = rested.h.Vector(1)
    pointer.gather(values)
    assert values[0] == ca.getter()
    weight = variables["spine1.weight"]
    assert weight.role == "parameter"
    weight.setter(0.7)
    assert rested.spines[0].ampa_netcon.weight[0] == 0.7
    assert weight.getter() == 0.7
    pointer.pset(0, weight.ref)
    pointer.scatter(rested.h.Vector([0.4]))
    assert rested.spines[0].ampa_netcon.weight[0] == 0.4
    rested.set_weights([1, 2], [1.0, 1.0])


def test_set_weights_in_bulk(rested) -> None:
    rested.set_weights([1, 2], 0.25)
    assert [s.ampa_netcon.weight[0] for s in rested.spines] == [0.25, 0.25]
    assert [s.nmda_netcon.weight[0] for s in rested.spines] == [1.0, 1.0]
    rested.set_weights([1, 2], [0.5, 2.0])
    assert [s.ampa_netcon.weight[0] for s in rested.spines] == [0.5, 2.0]
    with pytest.raises(ConfigError):
        rested.set_weights([1, 2], [1.0])
    rested.set_weights([1, 2], 1.0)


def test_unknown_spine_number(rested) -> None:
    with pytest.raises(UnknownNameError, match="spine1"):
        rested.stimulate([12], [10.0])


def test_train_reaches_the_synapses_one_ms_after_each_input() -> None:
    """spines.md 4.2: inputs at start + k/rate (k = 1..count), delivered 1 ms later."""
    gc.collect()
    from timescales.models.neuron.msn import MSN

    cell = MSN(spines="two")
    h = cell.h
    cell.stimulate_train([1], start_ms=10.0, rate_hz=50.0, count=3)
    cell.stimulate([1], [30.0, 10.0])
    spine = cell.spines[0]
    sent = h.Vector()
    probe = h.NetCon(spine.ampa_stim, None)
    probe.record(sent)
    watch_ms = h.Vector()
    watch = h.NetCon(spine.head(0.5)._ref_total_catotal, None, sec=spine.head)
    watch.threshold = 4e-3
    watch.record(watch_ms)
    total = h.Vector().record(spine.head(0.5)._ref_total_catotal)
    y1 = h.Vector().record(spine.ampa._ref_y1)
    nmda_y1 = h.Vector().record(spine.nmda._ref_y1)
    t = h.Vector().record(h._ref_t)
    cell.apply_settings()
    h.finitialize(cell.settings.v_init_mV)
    h.continuerun(80.0)
    assert list(sent) == pytest.approx([10.0, 30.0, 50.0, 70.0])
    jumps = np.diff(np.array(y1)) > 0.1
    arrival_ms = np.array(t)[1:][jumps]
    assert arrival_ms == pytest.approx([11.0, 31.0, 51.0, 71.0], abs=0.03)
    nmda_jumps = np.diff(np.array(nmda_y1)) > 0.1
    assert np.array(t)[1:][nmda_jumps] == pytest.approx(arrival_ms, abs=1e-9)
    trace, times = np.array(total), np.array(t)
    above = trace >= 4e-3
    first_crossing_ms = times[np.flatnonzero(above[1:] & ~above[:-1])[0] + 1]
    assert watch_ms[0] == pytest.approx(first_crossing_ms, abs=0.03)
    assert cell.spines[1].head(0.5).catotal.total < 4e-4
    del probe, watch


def test_unknown_layout_lists_the_valid_ones() -> None:
    from timescales.models.neuron.msn import MSN

    with pytest.raises(ConfigError, match="zero, two, onebranch, all"):
        MSN(spines="twospines")


@pytest.mark.slow
def test_mechanisms_compile_from_a_clean_cache(tmp_path) -> None:
    """A fresh cache directory: the first MSN compiles the mod files there, once."""
    script = textwrap.dedent(
        """
        from timescales.models.neuron.msn import MSN
        cell = MSN(spines="two")
        print(len(cell.spines))
        """
    )
    env = {**os.environ, "TIMESCALES_CACHE": str(tmp_path), "NEURON_MODULE_OPTIONS": "-nogui"}
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "2"
    builds = [p for p in (tmp_path / "nrnivmodl").iterdir() if p.is_dir()]
    assert len(builds) == 1
    assert builds[0].name.startswith("neuron-")
    assert list(builds[0].glob("*/libnrnmech.so"))
    again = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert again.returncode == 0, again.stderr
    assert [p for p in (tmp_path / "nrnivmodl").iterdir() if p.is_dir()] == builds
