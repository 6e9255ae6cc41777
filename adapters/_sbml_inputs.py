"""Edits to the adapter's own copy of a model: flux inputs (with series knots) and switches.

The user's file is never touched: these functions change a libsbml document in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import libsbml

from timescales.errors import ModelError

PREFIX = "ts_"


@dataclass(frozen=True, slots=True)
class FluxInput:
    """A flux into one species: `parameter` holds the rate (in `unit`); a series uses the knots.

    On piece i, [t0 + i*dt, t0 + (i+1)*dt) for i < n, the rate is
    knots[i] + slopes[i]*s + curves[i]*s^2 with s = time - t0 - i*dt; elsewhere it is
    `parameter` (times in model units). The piece is picked by floor arithmetic, not by
    piecewise conditions: libRoadRunner makes every condition a root at which it restarts
    CVODE, which a continuous series does not need.
    """

    key: str
    species: str
    parameter: str
    unit: str
    knots: tuple[str, ...]
    slopes: tuple[str, ...]
    curves: tuple[str, ...]
    t0: str
    dt: str
    n: str
    reaction: str


def unique_id(model: libsbml.Model, base: str) -> str:
    """`base`, or `base_2`, `base_3`... whichever is not yet an SId of the model."""
    candidate, i = base, 1
    while model.getElementBySId(candidate) is not None:
        i += 1
        candidate = f"{base}_{i}"
    return candidate


def _add_parameter(model: libsbml.Model, base: str, value: float) -> str:
    param = model.createParameter()
    pid = unique_id(model, base)
    _check(param.setId(pid), f"parameter {pid}")
    param.setValue(value)
    param.setConstant(False)
    return pid


def _check(code: int, what: str) -> None:
    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise ModelError(
            f"could not add {what} to the model copy: {libsbml.OperationReturnValue_toString(code)}"
        )


def _math(formula: str) -> libsbml.ASTNode:
    ast = libsbml.parseL3Formula(formula)
    if ast is None:
        raise ModelError(
            f"internal formula does not parse: {formula[:200]}: {libsbml.getLastParseL3Error()}"
        )
    return ast


def add_flux_input(
    model: libsbml.Model, key: str, species_id: str, unit: str, scale: str, knots: int
) -> FluxInput:
    """Add a rate parameter, the parameters of `knots` series pieces and a reaction
    `-> species_id`.

    `scale` is a formula (model units) multiplying the input value, e.g. "6.0e-24" to turn
    molecules/s into mol/s, or "1e-3 * cyt" for a concentration rate into compartment cyt.
    """
    base = f"{PREFIX}flux_{species_id}"
    parameter = _add_parameter(model, base, 0.0)
    knot_ids = tuple(_add_parameter(model, f"{base}_k{i}", 0.0) for i in range(knots))
    slope_ids = tuple(_add_parameter(model, f"{base}_b{i}", 0.0) for i in range(knots))
    curve_ids = tuple(_add_parameter(model, f"{base}_c{i}", 0.0) for i in range(knots))
    t0 = _add_parameter(model, f"{base}_t0", 0.0)
    dt = _add_parameter(model, f"{base}_dt", 1.0)
    n = _add_parameter(model, f"{base}_n", 0.0)
    terms = []
    for i in range(knots):
        into = f"(time - {t0} - {i}*{dt})"
        # 1 on piece i, else 0: the piece index minus i is an integer d, and 1/(1 + d^2) < 1
        # unless d = 0.
        d = f"(floor((time - {t0})/{dt}) - {i})"
        on_piece = f"floor(1/(1 + {d}*{d}))"
        terms.append(
            f"{on_piece}*({knot_ids[i]} + {into}*({slope_ids[i]} + {curve_ids[i]}*{into}))"
        )
    inner = " + ".join(terms)
    rate = f"piecewise({parameter}, (time < {t0}) || (time >= {t0} + {n}*{dt}), {inner})"
    reaction = model.createReaction()
    rid = unique_id(model, f"{PREFIX}in_{species_id}")
    _check(reaction.setId(rid), f"reaction {rid}")
    reaction.setReversible(False)
    if model.getLevel() == 3 and model.getVersion() == 1:
        reaction.setFast(False)
    product = reaction.createProduct()
    product.setSpecies(species_id)
    product.setStoichiometry(1.0)
    if model.getLevel() >= 3:
        product.setConstant(True)
    law = reaction.createKineticLaw()
    _check(law.setMath(_math(f"({scale}) * ({rate})")), f"rate law of {rid}")
    return FluxInput(
        key, species_id, parameter, unit, knot_ids, slope_ids, curve_ids, t0, dt, n, rid
    )


def add_switch(model: libsbml.Model, reaction_id: str) -> str:
    """Multiply the rate law of `reaction_id` by a new parameter (1 = on, 0 = off)."""
    reaction = model.getReaction(reaction_id)
    law = reaction.getKineticLaw() if reaction is not None else None
    if law is None or law.getMath() is None:
        raise ModelError(f"reaction {reaction_id!r} has no rate law to switch off")
    pid = _add_parameter(model, f"{PREFIX}switch_{reaction_id}", 1.0)
    product = libsbml.ASTNode(libsbml.AST_TIMES)
    product.addChild(_math(pid))
    product.addChild(law.getMath().deepCopy())
    _check(law.setMath(product), f"switch of {reaction_id}")
    return pid
