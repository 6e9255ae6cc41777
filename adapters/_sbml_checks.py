"""What an SBML document holds that libRoadRunner cannot run, and values a run would take at
face value although they are suspicious; read with libsbml, one line per construct.

libRoadRunner 2.10 refuses algebraic rules, delays (the csymbol `delay`) and fast reactions
when it compiles a model. Events with delays it runs, and the adapter keeps them across its
stops, saved states and restarts, so they are not listed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import libsbml


def unsupported(model: libsbml.Model) -> tuple[str, ...]:
    """Constructs libRoadRunner cannot run, each named (by its id where it has one)."""
    lines = [
        f"algebraic rule {_rule_name(rule)}"
        for rule in model.getListOfRules()
        if rule.isAlgebraic()
    ]
    lines += [
        f'fast reaction {reaction.getId()} (fast="true")'
        for reaction in model.getListOfReactions()
        if reaction.isSetFast() and reaction.getFast()
    ]
    lines += [
        f"delay (csymbol delay) in {where}" for where, math in _maths(model) if _has_delay(math)
    ]
    return tuple(lines)


def suspicious(model: libsbml.Model) -> tuple[str, ...]:
    """Values a run would start from that are probably wrong: negative initial amounts and
    concentrations of species."""
    lines = []
    for sp in model.getListOfSpecies():
        # libsbml gives NaN (or 0 in Level 2) for a value the file does not set
        initial = {"amount": sp.getInitialAmount(), "concentration": sp.getInitialConcentration()}
        lines += [
            f"species {sp.getId()} has a negative initial {kind} ({value:g})"
            for kind, value in initial.items()
            if value < 0
        ]
    return tuple(lines)


def _rule_name(rule: libsbml.Rule) -> str:
    formula = f"0 = {libsbml.formulaToL3String(rule.getMath())}"
    return f"{rule.getId()} ({formula})" if rule.isSetId() else f"({formula})"


def _maths(model: libsbml.Model) -> Iterator[tuple[str, libsbml.ASTNode]]:
    """Every math element of the model, with where it is (walked list by list:
    `getListOfAllElements` never returns on documents some libsbml builds hand over)."""
    elements: list[libsbml.SBase] = [
        *model.getListOfFunctionDefinitions(),
        *model.getListOfInitialAssignments(),
        *model.getListOfRules(),
        *model.getListOfConstraints(),
    ]
    for reaction in model.getListOfReactions():
        if reaction.isSetKineticLaw():
            elements.append(reaction.getKineticLaw())
    for event in model.getListOfEvents():
        parts = (event.getTrigger(), event.getDelay(), event.getPriority())
        elements += [part for part in parts if part is not None]
        elements += list(event.getListOfEventAssignments())
    for element in elements:
        if element.isSetMath():
            yield _where(element), element.getMath()


def _where(element: libsbml.SBase) -> str:
    """`element` in words: its kind, its id, the variable it sets and what it belongs to
    (e.g. "kineticLaw of reaction J", "eventAssignment for A of event E1")."""
    words = [element.getElementName()]
    target = next(
        (getattr(element, get)() for get in ("getVariable", "getSymbol") if hasattr(element, get)),
        "",
    )
    if element.isSetId() and element.getId() != target:
        words.append(element.getId())
    if target:
        words.append(f"for {target}")
    owner = element.getParentSBMLObject()
    while owner is not None and not owner.isSetId():
        owner = owner.getParentSBMLObject()
    if owner is not None and not isinstance(owner, libsbml.Model):
        words.append(f"of {owner.getElementName()} {owner.getId()}")
    return " ".join(words)


def _has_delay(node: libsbml.ASTNode) -> bool:
    """Whether the csymbol delay occurs in `node` (read from its formula: the AST type
    constants differ when another libsbml build, such as tellurium's, was loaded first)."""
    return re.search(r"\bdelay\s*\(", libsbml.formulaToL3String(node) or "") is not None
