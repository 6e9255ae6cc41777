"""The couplings of an experiment: each spine's calcium into its model, its output back.

Per spine with an instance: a windowed coupling from the cell's head calcium to the model
(a flux into an added input, into the model's own influx parameter, or a clamp of its
calcium species), and a dead-banded coupling from the model's output to the synaptic
weight (a ratio to the output's equilibrium value, or a linear map), clipped to bounds.
"""

from __future__ import annotations

from typing import Any

from ..cell import SpinePort
from ..coupling import Copy, Coupling, Deadband, Endpoint, Flux, Ratio, Window
from ..units import factor, is_concentration, per
from .recording import calcium_coupling, instance_label, weight_coupling

#: The baseline the ratio rule divides by: the output at the end of the equilibration.
BASELINE = "equilibrated"


def spine_couplings(
    spec: Any,
    model: Any,
    ports: list[SpinePort],
    rest_mM: dict[int, float],
    into_volume_l: float | None = None,
) -> list[Coupling]:
    """The two couplings of every spine in `ports` (calcium windows open above rest_mM);
    `into_volume_l`: the calcium species' compartment, for a concentration-rate target."""
    bio, cpl = spec.biochemistry, spec.coupling
    target_var, target_unit = _calcium_target(bio.calcium, model)
    out = bio.output
    out_var = model.resolve(out.variable)
    out_unit = model.variables()[out_var].unit
    clamp = bio.calcium.mode == "clamp"
    while_open = () if clamp else _while_open(bio.calcium, model)
    weight = (
        Ratio(BASELINE, out.scale)
        if out.rule == "ratio"
        else (Copy(out.scale, per(out_unit), out.offset))
    )
    couplings = []
    for port in ports:
        j = port.number
        volume = port.head_volume_l if bio.calcium.volume == "head" else float(bio.calcium.volume)
        window = Window(
            rest_mM[j] + cpl.threshold_mM,
            hysteresis=cpl.hysteresis_mM,
            settle_ms=cpl.settle_ms,
            while_open=while_open,
        )
        couplings.append(
            Coupling(
                Endpoint("neuron", port.calcium, "mM"),
                Endpoint(instance_label(j), target_var, target_unit),
                Copy() if clamp else Flux(volume, into_volume_l),
                window,
                name=calcium_coupling(j),
            )
        )
        couplings.append(
            Coupling(
                Endpoint(instance_label(j), out_var, out_unit),
                Endpoint("neuron", port.weight, "1"),
                weight,
                Deadband(rel_tol=out.deadband),
                name=weight_coupling(j),
                bounds=tuple(out.bounds),  # type: ignore[arg-type]
            )
        )
    return couplings


def _calcium_target(calcium: Any, model: Any) -> tuple[str, str]:
    """The model variable calcium goes into, and the unit the coupling declares for it."""
    own = own_calcium_target(calcium, model)
    return own or model.flux_parameter(calcium.species), calcium.unit


def own_calcium_target(calcium: Any, model: Any) -> str | None:
    """The model's own variable calcium goes into: its influx parameter or the clamped
    species (None for a flux into an input the adapter adds)."""
    if calcium.mode == "flux":
        return None
    return model.resolve(calcium.parameter if calcium.mode == "parameter" else calcium.species)


def is_concentration_rate(calcium: Any) -> bool:
    """Whether calcium goes in as a concentration per time (spread over the species'
    compartment) rather than an amount per time or a clamped value."""
    return calcium.mode != "clamp" and is_concentration(f"({calcium.unit}) * s")


def compartment_volume_l(calcium: Any, model: Any, instance: Any) -> float:
    """The size of the calcium species' compartment in `instance`, in litres."""
    compartment = model.species_info[model.resolve(calcium.species)].compartment
    return instance.get(compartment) * factor(model.variables()[compartment].unit, "L")


def _while_open(calcium: Any, model: Any) -> tuple[tuple[str, float], ...]:
    """The model variables (reactions by their switch) held at 0 while a window is open."""
    names = []
    for name in calcium.switch_off:
        ident = model.resolve(name)
        names.append(f"switch.{ident}" if ident in model.reactions else ident)
    return tuple((n, 0.0) for n in names)
