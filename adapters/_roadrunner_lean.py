"""RoadRunner instances without the parts the adapter never uses: < 1 MB each instead of 19 MB.

Measured with libRoadRunner 2.10 on the spine network with its calcium input (174 species, 647
reactions, 143 parameters), `RoadRunner(sbml)` with the compiled model from the cache: the code is
already shared between instances, but each one keeps its own parsed libSBML document (14.7 MB),
read only by model editing, structural analysis and `getSBML`, and its own forward sensitivity
solver (3.6 MB: CVODES memory for one sensitivity per parameter), set up at every load.
`new_runner` empties the document through RoadRunner's editing calls without regenerating the
model, and, in models with state variables and without events, sets the sensitivity solver up for
one parameter. Neither changes the model's values or the integrator, so an instance integrates
bitwise like a plain `RoadRunner(sbml)` (tests/adapters/test_roadrunner_lean.py).
A state restored with `loadStateS` still brings its own compiled code: RoadRunner 2.10 loads
the object code saved in the state into a new JIT for every `loadStateS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import libsbml

from ._imports import import_roadrunner
from .sbml_model import SBMLModel


@dataclass(frozen=True, slots=True)
class DocumentIds:
    """Ids of the top-level SBML elements whose removal empties a RoadRunner's document."""

    events: tuple[str, ...]
    reactions: tuple[str, ...]
    compartments: tuple[str, ...]
    parameters: tuple[str, ...]

    @classmethod
    def of(cls, model: SBMLModel) -> DocumentIds:
        """The ids in `model`'s SBML string, read once per model."""
        if "document_ids" not in model.cache:
            sbml = libsbml.readSBMLFromString(model.sbml).getModel()
            model.cache["document_ids"] = cls(
                events=tuple(e.getId() for e in sbml.getListOfEvents() if e.isSetId()),
                reactions=tuple(r.getId() for r in sbml.getListOfReactions()),
                compartments=tuple(c.getId() for c in sbml.getListOfCompartments()),
                parameters=tuple(p.getId() for p in sbml.getListOfParameters()),
            )
        return model.cache["document_ids"]


def new_runner(model: SBMLModel) -> Any:
    """A RoadRunner of `model` that shares the compiled model and keeps no SBML document and
    no per-parameter sensitivity memory (raises RuntimeError when RoadRunner cannot load it)."""
    runner = import_roadrunner().RoadRunner(model.sbml)
    _empty_document(runner, DocumentIds.of(model))
    _shrink_sensitivities(runner)
    return runner


def _empty_document(runner: Any, ids: DocumentIds) -> None:
    """Remove the document's events, reactions, compartments (with their species, rules and
    initial assignments) and parameters, in an order where each removal finds its element
    and no removal has to scan reactions."""
    for event in ids.events:
        runner.removeEvent(event, False)
    for reaction in ids.reactions:
        runner.removeReaction(reaction, False, False)
    for compartment in ids.compartments:
        runner.removeCompartment(compartment, False)
    for parameter in ids.parameters:
        runner.removeParameter(parameter, False)


def _shrink_sensitivities(runner: Any) -> None:
    """Give the forward sensitivity solver one parameter instead of all, in models with state
    variables, global parameters and no events (the others keep the solver as loaded).

    A one-point `timeSeriesSensitivities` over one parameter sets the solver's parameter list
    (it integrates nothing), and `syncWithModel` makes the solver allocate its CVODES memory
    again for that list. Both restart the solver's own CVODE at time 0 on the model (where a
    loaded model is) and the second resets the model's event state: harmless without events,
    so models with events keep the full solver rather than depend on that reset. Without state
    variables (and events) the solver allocates no CVODE memory at all, nothing to shrink, and
    `timeSeriesSensitivities` would read its missing state vector: a null pointer, a segfault
    in libRoadRunner 2.10 (SBML Test Suite case 00013, whose species are all boundary species).
    """
    roadrunner = import_roadrunner()
    if not runner.getIds(roadrunner.SelectionRecord.STATE_VECTOR) or runner.model.getNumEvents():
        return
    parameters = runner.model.getGlobalParameterIds()
    if parameters:
        runner.timeSeriesSensitivities(0.0, 1.0, 1, parameters[:1])
        runner.getSensitivitySolver().syncWithModel(runner.model)
