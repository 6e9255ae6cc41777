"""Models libRoadRunner cannot run are refused by `validate` and listed by `info`, one line
per construct naming it and the file; suspicious values are warnings; events with delays,
which the adapter runs, are neither."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import skip_module_without
from timescales import Experiment
from timescales.cli import main
from timescales.errors import TimescalesWarning

skip_module_without("roadrunner")
pytestmark = pytest.mark.roadrunner

import libsbml  # noqa: E402

from timescales.adapters._imports import import_roadrunner  # noqa: E402
from timescales.adapters._sbml_source import antimony_to_sbml  # noqa: E402
from timescales.adapters.roadrunner import RoadRunnerAdapter, SBMLModel  # noqa: E402

#: The coupling interface the experiment below asks for: calcium `ca`, output `X`.
SPINE = """
  unit substance = item
  unit extent = item
  compartment Spine = 1e-15
  substanceOnly species ca in Spine, X in Spine, Y in Spine
  ca = 0; X = 1; Y = 1
"""
ALGEBRAIC = f"model algebraic\n{SPINE}\n  0 = X + Y - 2\nend\n"
DELAYED_RATE = f"model delayed\n{SPINE}\n  J1: X -> ; k*delay(X, 0.5)\n  k = 1\nend\n"
#: At 0.5 s, Y takes the value X has then, 0.2 s later (an event with a delay).
DELAYED_EVENT = f"model delayed_event\n{SPINE}\n  E1: at 0.2 after time > 0.5: Y = X\nend\n"
EXPERIMENT = """
[experiment]
duration_ms = 100.0

[[stimulus]]
spines = [1]
times_ms = [150.0]

[biochemistry]
model = "{model}"

[biochemistry.output]
variable = "X"

[record]
spine_calcium = [1, 2]
"""


def _fast_reaction() -> str:
    """The spine model in SBML Level 2 with a fast reaction X -> Y (Antimony writes Level 3
    Version 2, which has no `fast` attribute)."""
    doc = libsbml.readSBMLFromString(antimony_to_sbml(f"model fast\n{SPINE}\nend\n"))
    assert doc.setLevelAndVersion(2, 4)
    reaction = doc.getModel().createReaction()
    reaction.setId("J_fast")
    reaction.setReversible(False)
    reaction.setFast(True)
    reaction.createReactant().setSpecies("X")
    reaction.createProduct().setSpecies("Y")
    reaction.createKineticLaw().setMath(libsbml.parseL3Formula("X"))
    return libsbml.writeSBMLToString(doc)


CASES = {
    "algebraic": (antimony_to_sbml(ALGEBRAIC), "algebraic rule", "algebraic rule (0 = X + Y - 2)"),
    "delay": (
        antimony_to_sbml(DELAYED_RATE),
        "delay differential",
        "delay (csymbol delay) in kineticLaw of reaction J1",
    ),
    "fast": (_fast_reaction(), "fast", 'fast reaction J_fast (fast="true")'),
}


def _files(folder: Path, sbml: str) -> tuple[Path, Path]:
    model = folder / "model.xml"
    model.write_text(sbml)
    experiment = folder / "exp.toml"
    experiment.write_text(EXPERIMENT.format(model=model.name))
    return model, experiment


@pytest.mark.parametrize("case", sorted(CASES))
def test_libroadrunner_itself_refuses_each_construct(case: str) -> None:
    """The reference: the constructs listed are those libRoadRunner will not compile."""
    sbml, refusal, _ = CASES[case]
    with pytest.raises(RuntimeError, match=refusal):
        import_roadrunner().RoadRunner(sbml)


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_refuses_a_construct_libroadrunner_cannot_run(
    tmp_path: Path, capsys, case: str
) -> None:
    sbml, _, construct = CASES[case]
    model, experiment = _files(tmp_path, sbml)
    assert main(["validate", str(experiment)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines() == [
        f"timescales validate: error: exp.toml: biochemistry.model: a model the simulator "
        f"'roadrunner' can run, got {model}: {construct}"
    ]


@pytest.mark.parametrize("case", sorted(CASES))
def test_info_lists_a_construct_libroadrunner_cannot_run(tmp_path: Path, capsys, case: str) -> None:
    sbml, _, construct = CASES[case]
    model, _ = _files(tmp_path, sbml)
    assert main(["info", str(model)]) == 0
    lines = capsys.readouterr().out.splitlines()
    heading = lines.index("libRoadRunner cannot run this model (1):")
    assert lines[heading + 1] == f"  {model}: {construct}"


def test_every_construct_is_listed_in_one_error(tmp_path: Path, capsys) -> None:
    doc = libsbml.readSBMLFromString(CASES["fast"][0])
    parameter = doc.getModel().createParameter()
    parameter.setId("p")
    parameter.setConstant(False)
    doc.getModel().createAlgebraicRule().setMath(libsbml.parseL3Formula("p - 2 * X"))
    model, experiment = _files(tmp_path, libsbml.writeSBMLToString(doc))
    assert main(["validate", str(experiment)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split(f"got {model}: ")[1] for line in lines] == [
        "algebraic rule (0 = p - 2 * X)",
        'fast reaction J_fast (fast="true")',
    ]


def test_an_event_with_a_delay_is_accepted_and_runs_across_stops(tmp_path: Path, capsys) -> None:
    _, experiment = _files(tmp_path, antimony_to_sbml(DELAYED_EVENT))
    assert main(["validate", str(experiment)]) == 0
    assert "warning" not in capsys.readouterr().err
    # stops around the trigger (0.5 s), a change of X and a state restored while the
    # assignment is pending: Y gets X's value at the trigger, at 0.7 s
    adapter = RoadRunnerAdapter(SBMLModel.load(DELAYED_EVENT))
    adapter.initialize()
    adapter.set("X.amount", 3.0)
    for t_ms in (400.0, 499.0, 501.0, 600.0):
        adapter.advance(t_ms)
    adapter.set("X.amount", 5.0)
    saved = adapter.save_state()
    adapter.advance(650.0)
    assert adapter.get("Y.amount") == 1.0
    adapter.restore_state(saved)
    adapter.advance(800.0)
    assert adapter.get("Y.amount") == 3.0


def test_negative_initial_values_are_warnings_of_validate_and_info(tmp_path: Path, capsys) -> None:
    sbml = antimony_to_sbml(f"model negative\n{SPINE}\nend\n".replace("Y = 1", "Y = -2"))
    model, experiment = _files(tmp_path, sbml)
    with experiment.open("a") as file:
        file.write('\n[biochemistry.set]\n"ca.amount" = -3\n')
    assert main(["validate", str(experiment)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"timescales validate: warning: {model}: species Y has a negative initial amount (-2)",
        "timescales validate: warning: exp.toml: biochemistry.set.ca.amount: a negative initial "
        "amount of species ca (-3.0)",
    ]
    assert main(["info", str(model)]) == 0
    lines = capsys.readouterr().out.splitlines()
    heading = lines.index("suspicious values (1):")
    assert lines[heading + 1] == f"  {model}: species Y has a negative initial amount (-2)"


@pytest.mark.neuron
def test_a_run_warns_of_negative_initial_values_when_it_starts(tmp_path: Path) -> None:
    sbml = antimony_to_sbml(f"model negative\n{SPINE}\nend\n".replace("Y = 1", "Y = -2"))
    model, experiment = _files(tmp_path, sbml)
    with pytest.warns(TimescalesWarning) as caught:
        result = Experiment.from_file(experiment).run(duration_ms=10.0, output=tmp_path / "o.h5")
    assert [str(w.message) for w in caught] == [
        f"{model}: species Y has a negative initial amount (-2)"
    ]
    assert result.stats.t_end_ms == pytest.approx(110.0)


def test_a_concentration_rate_into_a_compartment_of_no_known_volume_is_refused(
    tmp_path: Path, capsys
) -> None:
    """Antimony writes no unit: the compartment's size is not known to be in litres."""
    no_units = "model m\n  compartment Spine = 1e-15\n  species ca in Spine, X in Spine\nend\n"
    _, experiment = _files(tmp_path, antimony_to_sbml(no_units))
    with experiment.open("a") as file:
        file.write('\n[biochemistry.calcium]\nunit = "uM/s"\n')
    assert main(["validate", str(experiment)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "timescales validate: error: exp.toml: biochemistry.calcium.unit: an amount per time "
        "(e.g. 'molecules/s'): a concentration rate is spread over the compartment Spine of "
        "species ca, whose size the model gives without a unit, got 'uM/s'"
    ]
