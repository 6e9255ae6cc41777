"""Calcium into models that declare no units for what is coupled, and as a concentration
rate: the experiment's unit is taken as the model's (with a warning), a concentration rate
is spread over the species' compartment, and the model receives exactly what NEURON's
spine-head calcium lost to it, converted independently here."""

from __future__ import annotations

import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

from timescales import Experiment
from timescales.errors import TimescalesWarning
from timescales.units import AVOGADRO

pytestmark = [pytest.mark.neuron, pytest.mark.roadrunner]

libsbml = pytest.importorskip("libsbml")

#: The compartment of the models' calcium: a fifth of the study's spine head.
COMPARTMENT_L = 2e-16
#: A few zeptomoles of calcium reach it: CVODE's absolute tolerance in mol must be far less.
LEVEL2_ATOL = 1e-30

EXPERIMENT = """
[experiment]
name = "units"
duration_ms = 60.0

[cell]
spines = "two"

[[stimulus]]
spines = [1]
times_ms = [110.0]

[biochemistry]
model = "{model}"
equilibration_s = 1.0
atol = {atol}
rtol = 1e-10

[biochemistry.calcium]
species = "ca"
{calcium}

[biochemistry.output]
variable = "X"

[record]
spine_calcium = [1, 2]
biochem = ["{recorded}"]
"""


def _level2_model() -> str:
    """SBML Level 2 Version 4, no unit declared anywhere (Level 2's defaults: mole, litre,
    second): calcium `ca` (M) gains `k_in * Spine` mol/s through `influx`, so the
    parameter `k_in` is a concentration rate in M/s that the model does not say; nothing
    removes calcium. `X` is a constant output."""
    doc = libsbml.SBMLDocument(2, 4)
    model = doc.createModel()
    model.setId("level2_spine")
    compartment = model.createCompartment()
    compartment.setId("Spine")
    compartment.setSize(COMPARTMENT_L)
    for sid, value in (("ca", 0.0), ("X", 1e-6)):
        species = model.createSpecies()
        species.setId(sid)
        species.setCompartment("Spine")
        species.setInitialConcentration(value)
    k_in = model.createParameter()
    k_in.setId("k_in")
    k_in.setValue(0.0)
    k_in.setConstant(False)
    influx = model.createReaction()
    influx.setId("influx")
    influx.setReversible(False)
    influx.createProduct().setSpecies("ca")
    influx.createKineticLaw().setMath(libsbml.parseL3Formula("k_in * Spine"))
    return libsbml.writeSBMLToString(doc)


#: The same spine in Antimony, which writes SBML Level 3 without any unit.
LEVEL3_NO_UNITS = f"""
model no_units
  compartment Spine = {COMPARTMENT_L}
  species ca in Spine, X in Spine
  ca = 0; X = 1
end
"""


def _run(
    folder: Path, model: str, suffix: str, calcium: str, recorded: str, atol: float
) -> h5py.File:
    """Run the experiment with `model`; `atol`: CVODE's absolute tolerance in the model's
    amount unit, well below the amounts of calcium the spine receives (and a relative
    tolerance of 1e-10: CVODE steps past the ends of a replayed flux's pieces)."""
    (folder / f"model{suffix}").write_text(model)
    path = folder / "units.toml"
    text = EXPERIMENT.format(model=f"model{suffix}", calcium=calcium, recorded=recorded, atol=atol)
    path.write_text(text)
    out = folder / "units.h5"
    Experiment.from_file(path).run(output=out)
    return h5py.File(out, "r")


def _sent(results: h5py.File) -> float:
    """The integral of the flux the calcium coupling sent (target unit times seconds): each
    exchange's value is its mean over the interval since the previous one (or the window's
    opening)."""
    [open_ms] = results["windows/open_ms"][()]
    mine = results["exchanges/coupling"].asstr()[()] == "ca1"
    t_ms = np.concatenate([[open_ms], results["exchanges/time_ms"][()][mine]])
    values = results["exchanges/value"][()][mine]
    return float(np.sum(values * np.diff(t_ms)) * 1e-3)


def _received(results: h5py.File, recorded: str) -> float:
    """How much the model's calcium rose, by its last read (after the run's end)."""
    values = results[f"biochem/recorded/{recorded}"][()][:, 0]
    return float(values[-1] - values[0])


@pytest.mark.parametrize("mode", ["parameter", "flux"])
def test_a_concentration_rate_into_a_level_2_model_spreads_over_its_compartment(
    tmp_path: Path, mode: str
) -> None:
    calcium = f'mode = "{mode}"\nunit = "M/s"\n'
    if mode == "parameter":
        calcium += 'parameter = "k_in"\n'
        with pytest.warns(TimescalesWarning) as caught:
            results = _run(tmp_path, _level2_model(), ".xml", calcium, "ca", LEVEL2_ATOL)
        assert [str(w.message) for w in caught] == [
            f"{tmp_path / 'model.xml'}: k_in declares no unit: taken as 'M/s' "
            "(biochemistry.calcium.unit)"
        ]
    else:  # Level 2's default units of the species: nothing to take from the experiment
        with warnings.catch_warnings():
            warnings.simplefilter("error", TimescalesWarning)
            results = _run(tmp_path, _level2_model(), ".xml", calcium, "ca", LEVEL2_ATOL)
    with results:
        [delivered_mM] = results["windows/delivered"][()]
        head_l = results["cell/head_volume_l"][0]
        assert delivered_mM > 0
        # NEURON's change in mM over the head, as mol spread over the model's compartment
        expected_M = delivered_mM * 1e-3 * head_l / COMPARTMENT_L
        assert _sent(results) == pytest.approx(expected_M, rel=1e-9)
        assert _received(results, "ca") == pytest.approx(expected_M, rel=1e-6)


def test_a_flux_into_a_model_without_units_takes_the_amount_of_the_experiments_unit(
    tmp_path: Path,
) -> None:
    calcium = 'mode = "flux"\nunit = "molecules/s"\n'
    with pytest.warns(TimescalesWarning) as caught:
        results = _run(tmp_path, LEVEL3_NO_UNITS, ".ant", calcium, "ca.amount", 1e-9)
    assert [str(w.message) for w in caught] == [
        f"{tmp_path / 'model.ant'}: the model declares no amount unit for species ca: taken as "
        "'molecule', from the flux's unit 'molecules/s' (biochemistry.calcium.unit)"
    ]
    with results:
        [delivered_mM] = results["windows/delivered"][()]
        head_l = results["cell/head_volume_l"][0]
        expected_molecules = delivered_mM * 1e-3 * head_l * AVOGADRO
        assert expected_molecules > 1
        assert _sent(results) == pytest.approx(expected_molecules, rel=1e-9)
        assert _received(results, "ca.amount") == pytest.approx(expected_molecules, rel=1e-6)
