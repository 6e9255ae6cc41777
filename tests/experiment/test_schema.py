"""Experiment files: the examples validate, bad files give one line per problem, and
stimulus times follow the study's convention (spines.md 4.2: t_k = t_stim + k * interval)."""

from __future__ import annotations

import itertools
import json
import textwrap
from pathlib import Path

import pytest
from pydantic import BaseModel

from conftest import ROOT, shared_path
from timescales import ConfigError
from timescales.adapters._imports import import_roadrunner
from timescales.experiment import (
    ExperimentError,
    ExperimentSpec,
    load_experiment,
    validate_file,
)
from timescales.experiment.problems import nested_model
from timescales.models import sbml

EXAMPLES = ROOT / "examples"
FLAGSHIP = EXAMPLES / "long_tstop_allbranch_cpm_two_branches_stims_20_Hz.toml"

MINIMAL = """
[experiment]
duration_ms = 1000.0

[[stimulus]]
spines = [1]
start_ms = 200.0
rate_hz = 20.0
count = 5
"""


def _write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _lines(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ExperimentError) as info:
        load_experiment(_write(tmp_path, text))
    assert isinstance(info.value, ConfigError)
    return str(info.value).splitlines()


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.stem)
def test_every_example_validates(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if "biomodels:" in path.read_text():
        monkeypatch.setenv("TIMESCALES_MODEL_PATH", str(shared_path("sbml")))
    spec = load_experiment(path)
    assert spec.name == path.stem
    assert spec.output_path() == path.with_suffix(".h5")
    assert spec.stimulated_spines()
    assert spec.schedule_ms()
    assert validate_file(path).startswith(f"experiment {path.stem!r}")


def test_examples_cover_the_study_protocols() -> None:
    names = {p.stem for p in EXAMPLES.glob("*.toml")}
    assert {"demo", "swap_model", "biomd183_swap", FLAGSHIP.stem} <= names


def test_flagship_trains_follow_the_study_convention() -> None:
    spec = load_experiment(FLAGSHIP)
    s1 = [2000.0 + 50.0 * k for k in range(1, 51)]
    s2 = [15000.0 + 50.0 * k for k in range(1, 51)]
    assert s1[0] == 2050.0
    assert s1[-1] == 4500.0
    assert s2[-1] == 17500.0
    times = spec.stimulus_times_ms()
    clusters = [554, 555, 556, 558, 559, 560, 562, 563, 564]
    stimulated = clusters + [n + 914 for n in clusters]
    assert sorted(times) == stimulated
    middles = {555, 559, 563, 1469, 1473, 1477}
    for spine in stimulated:
        expected = s1 + s2 if spine in middles else s1
        assert times[spine] == {"ampa": expected, "nmda": expected}
    assert spec.schedule_ms() == s1 + s2
    assert spec.instance_spines() == tuple(stimulated)
    assert spec.t_end_ms == 20100.0
    assert len(spec.layout_spines()) == 1504


def test_single_spine_protocol_matches_the_csv_rows() -> None:
    spec = load_experiment(EXAMPLES / "long_tstop_allspines_1_spine_20Hz.toml")
    ampa = spec.stimulus_times_ms()[532]["ampa"]
    assert (ampa[0], ampa[19], ampa[20], ampa[-1]) == (2050.0, 3000.0, 10050.0, 11000.0)
    assert len(ampa) == 40


def test_explicit_times_are_sorted_and_merged(tmp_path: Path) -> None:
    spec = load_experiment(
        _write(
            tmp_path,
            """
            [experiment]
            duration_ms = 1000.0
            [cell]
            spines = [3, 7]
            [[stimulus]]
            spines = [7]
            synapses = ["nmda"]
            times_ms = [400.0, 300.0, 400.0]
            [[stimulus]]
            spines = [7, 3]
            synapses = ["nmda", "ampa"]
            start_ms = 300.0
            rate_hz = 10.0
            count = 2
            """,
        )
    )
    assert spec.stimulus_times_ms() == {
        3: {"ampa": [400.0, 500.0], "nmda": [400.0, 500.0]},
        7: {"ampa": [400.0, 500.0], "nmda": [300.0, 400.0, 500.0]},
    }
    assert spec.schedule_ms() == [300.0, 400.0, 500.0]
    assert spec.biochemistry is None
    assert spec.instance_spines() == ()


@pytest.mark.roadrunner
def test_defaults_and_paths_are_resolved(tmp_path: Path) -> None:
    model = tmp_path / "models" / "m.xml"
    model.parent.mkdir()
    model.write_text("<sbml/>")
    path = _write(
        tmp_path,
        MINIMAL
        + """
        [biochemistry]
        model = "models/m.xml"
        [biochemistry.calcium]
        mode = "clamp"
        """,
        name="my_run.toml",
    )
    spec = load_experiment(path)
    assert spec.name == "my_run"
    assert spec.output_path() == tmp_path / "my_run.h5"
    assert spec.model_path() == model
    assert spec.model_name() is None
    data = spec.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["source"] == str(path)
    assert data["biochemistry"]["model"] == str(model)
    assert data["biochemistry"]["calcium"]["unit"] == "mM"
    assert data["cell"]["dt_ms"] == 0.025
    assert data["coupling"]["mode"] == "event"
    assert isinstance(spec, ExperimentSpec)
    # the integrator tolerances default to RoadRunner's own
    runner = import_roadrunner().RoadRunner(str(sbml.path("camkii_simple")))
    integrator = runner.integrator  # (keep the runner: its integrator dies with it)
    assert data["biochemistry"]["rtol"] == integrator.getValue("relative_tolerance")
    assert data["biochemistry"]["atol"] == integrator.getValue("absolute_tolerance")


def test_model_names_hook_reports_unknown_names(tmp_path: Path) -> None:
    spec = load_experiment(EXAMPLES / "demo.toml")
    names = spec.model_names()
    assert names["biochemistry.calcium.species"] == "ca"
    assert names["biochemistry.output.variable"] == "AMPAR_P"
    spec.check_model_names(set(names.values()))
    with pytest.raises(ExperimentError) as info:
        spec.check_model_names(["ca", "ca_leak_vmax", "ca_pump_vmax", "AMPAR_Pp"], "m.xml")
    assert str(info.value) == (
        "demo.toml: biochemistry.output.variable: an id or name in m.xml "
        "(closest: AMPAR_Pp), got 'AMPAR_P'"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "[cell]\nspines = 'two'\n",
            "exp.toml: experiment: a table (required), got nothing",
            id="missing-table",
        ),
        pytest.param(
            "[experiment]\nname = 'x'\n",
            "exp.toml: experiment.duration_ms: a number > 0 (ms after equilibration) "
            "(required), got nothing",
            id="missing-key",
        ),
        pytest.param(
            "[experiment]\nduration_ms = -1\n",
            "exp.toml: experiment.duration_ms: a number > 0 (ms after equilibration), got -1",
            id="negative",
        ),
        pytest.param(
            "[experiment]\nduration_ms = '1000'\n",
            "exp.toml: experiment.duration_ms: a number > 0 (ms after equilibration), got '1000'",
            id="string-for-number",
        ),
        pytest.param(
            MINIMAL + "[cell]\nquiet_dt_ms = 0.01\n",
            "exp.toml: cell.quiet_dt_ms: 0 or a number >= dt_ms (0.025), got 0.01",
            id="quiet-step-below-dt",
        ),
        pytest.param(
            MINIMAL + "[coupling]\nthreshold_mM = -1\n",
            "exp.toml: coupling.threshold_mM: a number > 0 (mM above rest), got -1",
            id="threshold",
        ),
        pytest.param(
            MINIMAL + "[biochemistry]\nrtol = 0.0\n",
            "exp.toml: biochemistry.rtol: a number > 0 (CVODE relative tolerance; RoadRunner's "
            "default 1e-6), got 0.0",
            id="integrator-rtol",
        ),
        pytest.param(
            MINIMAL + "[coupling]\nmode = 'events'\n",
            "exp.toml: coupling.mode: one of 'event', 'original', 'lockstep', 'fixed', "
            "got 'events'",
            id="coupling-mode",
        ),
        pytest.param(
            MINIMAL + "[record]\nsoma_v = 1\n",
            "exp.toml: record.soma_v: true or false, got 1",
            id="bool",
        ),
        pytest.param(
            MINIMAL + "[coupling]\ntreshold_mM = 1e-4\n",
            "exp.toml: coupling.treshold_mM: no such key in [coupling] (did you mean "
            "'threshold_mM'? allowed: mode, threshold_mM, hysteresis_mM, settle_ms, "
            "min_interval_ms, max_interval_ms, rtol, hold, resolution_ms, max_advance_ms, "
            "interval_ms, buffer_ms, sampling_ms, workers), got 0.0001",
            id="unknown-key",
        ),
        pytest.param(
            "[experiment]\nduration_ms = 1000.0\n[stimulus]\nspines = [1]\n",
            "exp.toml: stimulus: an array of tables [[stimulus]], got a table {spines}",
            id="table-for-array",
        ),
        pytest.param(
            MINIMAL.replace("spines = [1]", "spines = [1, 3]"),
            "exp.toml: stimulus[0].spines[1]: a spine number in 1..2 (layout 'two'), got 3",
            id="unknown-spine",
        ),
        pytest.param(
            MINIMAL.replace("spines = [1]", "spines = [1, 'x']"),
            "exp.toml: stimulus[0].spines: a non-empty list of spine numbers of the "
            "layout, or 'all', got [1, 'x']",
            id="spine-type",
        ),
        pytest.param(
            MINIMAL + "[cell]\nspines = 'zero'\n",
            "exp.toml: stimulus[0].spines[0]: no spine (layout 'zero'), got 1",
            id="zero-layout",
        ),
        pytest.param(
            MINIMAL + "[cell]\nspines = 'tw'\n",
            "exp.toml: cell.spines: one of 'zero', 'two', 'onebranch', 'all' or a list of "
            "spine numbers 1..1504, got 'tw'",
            id="layout",
        ),
        pytest.param(
            MINIMAL + "[cell]\nspines = [4, 5]\n",
            "exp.toml: stimulus[0].spines[0]: a spine of the cell.spines list, got 1",
            id="not-in-list-layout",
        ),
        pytest.param(
            MINIMAL + "[[stimulus]]\nspines = [1]\ntimes_ms = [300.0]\nrate = 1\n",
            "exp.toml: stimulus[1].rate: no such key in stimulus[1] (did you mean 'rate_hz'? "
            "allowed: spines, synapses, start_ms, rate_hz, count, times_ms, process, stop_ms, "
            "seed), got 1",
            id="unknown-key-in-array",
        ),
        pytest.param(
            MINIMAL + "[cell]\nspines = [1, 1505]\n",
            "exp.toml: cell.spines[1]: a spine number 1..1504, got 1505",
            id="list-layout",
        ),
        pytest.param(
            MINIMAL.replace("count = 5", "times_ms = [300.0]"),
            "exp.toml: stimulus[0]: either a train (start_ms, rate_hz and count) or "
            "times_ms, got keys start_ms, rate_hz, times_ms",
            id="train-and-times",
        ),
        pytest.param(
            MINIMAL.replace("count = 5", "count = 50"),
            "exp.toml: stimulus[0]: input times after the equilibration and within the run "
            "(100 < t <= 1100 ms), got inputs at 1150, 1200, 1250, 1300, 1350 ms",
            id="train-past-the-end",
        ),
        pytest.param(
            MINIMAL + "[biochemistry]\nmodel = 'nope.xml'\n",
            "exp.toml: biochemistry.model: an existing model file (no file at {dir}/nope.xml), "
            "got 'nope.xml'",
            id="missing-model",
        ),
        pytest.param(
            MINIMAL + "[biochemistry]\nmodel = 'spine_netwrk'\n",
            "exp.toml: biochemistry.model: a bundled model ('spine_network', "
            "'camkii_simple') (did you mean 'spine_network'?) or a path to a "
            ".xml/.sbml/.ant/.txt file, got 'spine_netwrk'",
            id="bundled-name",
        ),
        pytest.param(
            MINIMAL + "[biochemistry.calcium]\nmode = 'parameter'\n",
            "exp.toml: biochemistry.calcium.parameter: a parameter name (required with "
            "mode = 'parameter'), got nothing",
            id="parameter-mode",
        ),
        pytest.param(
            MINIMAL + "[biochemistry.calcium]\nmode = 'clamp'\nunit = 'molecules/s'\n",
            "exp.toml: biochemistry.calcium.unit: a concentration or amount unit for mode "
            "'clamp' (e.g. 'mM', 'molecules'), got 'molecules/s' ([substance] / [time])",
            id="clamp-unit",
        ),
        pytest.param(
            MINIMAL + "[biochemistry]\ninstances = [1, 9]\n",
            "exp.toml: biochemistry.instances[1]: a spine number in 1..2 (layout 'two'), got 9",
            id="instance-spine",
        ),
        pytest.param(
            MINIMAL + "[biochemistry.output]\nbounds = [1.0, 0.5]\n",
            "exp.toml: biochemistry.output.bounds: a pair [low, high] with low < high, "
            "got [1.0, 0.5]",
            id="bounds",
        ),
    ],
)
def test_bad_file_gives_one_line(tmp_path: Path, text: str, expected: str) -> None:
    assert _lines(tmp_path, text) == [expected.replace("{dir}", str(tmp_path))]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    lines = _lines(
        tmp_path,
        """
        [experiment]
        duration_ms = 0
        [cell]
        dt_ms = "fast"
        [[stimulus]]
        spines = [5]
        times_ms = [300.0]
        [coupling]
        mode = "sometimes"
        [record]
        spine_calcium = [4]
        """,
    )
    assert [line.split(": ")[1] for line in lines] == [
        "experiment.duration_ms",
        "cell.dt_ms",
        "coupling.mode",
        "stimulus[0].spines[0]",
        "record.spine_calcium[0]",
    ]
    assert all(line.startswith("exp.toml: ") for line in lines)


def test_a_step_longer_than_the_interval_between_inputs_is_refused(tmp_path: Path) -> None:
    """The demo's 20 Hz train: inputs 1000 / 20 = 50 ms apart, the first at 200 + 50 ms."""
    demo = (EXAMPLES / "demo.toml").read_text()
    coarse = demo.replace("dt_ms = 0.025", "dt_ms = 500.0\nquiet_dt_ms = 0.0")
    assert _lines(tmp_path, coarse) == [
        "exp.toml: cell.dt_ms: a step no longer than the shortest interval between two inputs "
        "to a synapse (50 ms: spine 1's ampa at 250 and 300 ms), got 500.0"
    ]
    coarsest_allowed = coarse.replace("dt_ms = 500.0", "dt_ms = 50.0")
    assert load_experiment(_write(tmp_path, coarsest_allowed)).cell.dt_ms == 50.0
    # inputs to different synapses or spines at once are not merged by a step
    apart = MINIMAL + textwrap.dedent(
        """
        [[stimulus]]
        spines = [2]
        times_ms = [250.0]
        [cell]
        dt_ms = 40.0
        quiet_dt_ms = 0.0
        """
    )
    assert load_experiment(_write(tmp_path, apart)).cell.dt_ms == 40.0
    # a stimulus that names no synapse reaches every synapse, also one another names
    close = MINIMAL + textwrap.dedent(
        """
        [[stimulus]]
        spines = [1]
        synapses = ["nmda"]
        times_ms = [251.0]
        [cell]
        dt_ms = 2.0
        quiet_dt_ms = 0.0
        """
    )
    assert _lines(tmp_path, close) == [
        "exp.toml: cell.dt_ms: a step no longer than the shortest interval between two inputs "
        "to a synapse (1 ms: spine 1's nmda at 250 and 251 ms), got 2.0"
    ]
    # spines = "all" stands for the layout's spines here too
    every = MINIMAL.replace("spines = [1]", 'spines = "all"')
    every += "[cell]\ndt_ms = 60.0\nquiet_dt_ms = 0.0\n"
    assert _lines(tmp_path, every) == [
        "exp.toml: cell.dt_ms: a step no longer than the shortest interval between two inputs "
        "to a synapse (50 ms: spine 1's ampa at 250 and 300 ms), got 60.0"
    ]


def test_a_poisson_train_is_not_held_to_the_step(tmp_path: Path) -> None:
    """A Poisson train's intervals are drawn, not chosen: at 1 kHz each interval is shorter
    than a 0.5 ms step with probability 1 - exp(-0.5) ~ 0.39, so among the ~2000 of two
    spines over 1 s some are, and the file is still accepted."""
    poisson = textwrap.dedent(
        """
        [experiment]
        duration_ms = 2000.0
        [[stimulus]]
        spines = [1, 2]
        process = "poisson"
        start_ms = 500.0
        stop_ms = 1500.0
        rate_hz = 1000.0
        [cell]
        dt_ms = 0.5
        quiet_dt_ms = 0.0
        """
    )
    spec = load_experiment(_write(tmp_path, poisson))
    gaps = [
        b - a
        for by_synapse in spec.stimulus_times_ms().values()
        for times in by_synapse.values()
        for a, b in itertools.pairwise(times)
    ]
    assert min(gaps) < 0.5


def test_unreadable_and_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(ExperimentError, match=r"absent\.toml: file: a readable file"):
        load_experiment(tmp_path / "absent.toml")
    with pytest.raises(ExperimentError, match=r"exp\.toml: file: valid TOML, got"):
        load_experiment(_write(tmp_path, "[experiment\n"))


def _leaf_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for key, info in model.model_fields.items():
        nested = nested_model(info.annotation)
        keys += _leaf_keys(nested, f"{prefix}{key}.") if nested else [f"{prefix}{key}"]
    return keys


def test_every_key_is_documented() -> None:
    doc = (ROOT / "docs" / "experiment-files.md").read_text()
    keys = _leaf_keys(ExperimentSpec)
    assert len(keys) == 74
    assert [k for k in keys if f"`{k}`" not in doc] == []


def test_overrides_are_validated_like_file_keys(tmp_path: Path) -> None:
    out = tmp_path / "elsewhere" / "o.h5"
    spec = load_experiment(
        EXAMPLES / "demo.toml", {"coupling.mode": "original", "experiment.output": str(out)}
    )
    assert spec.coupling.mode == "original"
    assert spec.output_path() == out
    assert spec.schedule_ms()[0] == 250.0
    with pytest.raises(ExperimentError, match=r"demo\.toml: coupling\.mode: one of .*got 'x'"):
        load_experiment(EXAMPLES / "demo.toml", {"coupling.mode": "x"})
