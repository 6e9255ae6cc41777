"""The experiment schema: frozen pydantic models, one per TOML table, with their defaults.

Every field's `description` is the text "what is allowed" used in error messages, so the
schema and its error messages cannot drift apart. Checks that span several keys (spines
that must exist in the layout, a train or a list of times, model files) live in
`checks.py`; resolution of defaults and paths in `load.py`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, PrivateAttr

#: Biochemical models shipped with timescales, usable by name.
BUNDLED_MODELS: tuple[str, ...] = ("spine_network", "camkii_simple")
MODEL_SUFFIXES: tuple[str, ...] = (".xml", ".sbml", ".ant", ".txt")


def _spine_list(value: Any) -> tuple[int, ...] | None:
    """`value` as spine numbers if it is a non-empty list of ints, else None."""
    if (
        isinstance(value, list | tuple)
        and value
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return tuple(value)
    return None


def _choice_or_spines(choices: tuple[str, ...]) -> PlainValidator:
    """A value that is one of `choices` or a non-empty list of spine numbers (ints)."""

    def validate(value: Any) -> str | tuple[int, ...]:
        if isinstance(value, str) and value in choices:
            return value
        numbers = _spine_list(value)
        if numbers is None:
            raise ValueError("not allowed")
        return numbers

    return PlainValidator(validate, json_schema_input_type=str | list[int])


def _head_or_litres(value: Any) -> str | float:
    if value == "head":
        return "head"
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < float("inf"):
        return float(value)
    raise ValueError("not allowed")


def _choices(choices: tuple[str, ...]) -> str:
    return ", ".join(repr(c) for c in choices)


Number = Annotated[float, Field(allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
_AS_DATA = PlainSerializer(lambda v: v if isinstance(v, str) else list(v), return_type=Any)
_AS_SCALAR = PlainSerializer(lambda v: v, return_type=Any)
SpineSet = Annotated[
    str | tuple[int, ...], _choice_or_spines(("instances", "stimulated", "none")), _AS_DATA
]


class Section(BaseModel):
    """Common configuration: immutable, unknown keys rejected, no silent type coercion."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class ExperimentInfo(Section):
    """[experiment]: name, simulated duration, output file and random seed."""

    name: str | None = Field(
        None,
        min_length=1,
        pattern=r"^[A-Za-z0-9_.\-]+$",
        description="a name of letters, digits, '_', '-' or '.' (default: the file name)",
    )
    duration_ms: Positive = Field(description="a number > 0 (ms after equilibration)")
    output: str | None = Field(
        None, min_length=1, description="a path relative to the experiment file"
    )
    seed: int = Field(0, ge=0, description="an integer >= 0")


def _place(value: Any) -> tuple[str, float]:
    """A spine's place: [section name, position 0..1]."""
    if isinstance(value, list | tuple) and len(value) == 2:
        name, x = value
        number = isinstance(x, int | float) and not isinstance(x, bool)
        if isinstance(name, str) and name and number and 0 <= x <= 1:
            return (name, float(x))
    raise ValueError("not allowed")


Place = Annotated[
    tuple[str, float],
    PlainValidator(_place, json_schema_input_type=list),
    PlainSerializer(list, return_type=Any),
]


class SpineKit(Section):
    """[cell.spines]: spines added to a cell that has none of its own.

    Either explicit places (`at`, numbered 1, 2, ... in this order) or sections chosen by
    glob patterns with a density, placed reproducibly from `seed`. `kind` names the spine
    (the study's spine, "msn", by default; see docs/experiment-files.md);
    the geometry keys override its sizes.
    """

    at: list[Place] | None = Field(
        None, min_length=1, description="a non-empty list of [section name, position 0..1] pairs"
    )
    sections: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None, min_length=1, description="a non-empty list of section names or glob patterns"
    )
    density_per_um: Positive | None = Field(None, description="a number > 0 (spines per um)")
    seed: int = Field(0, ge=0, description="an integer >= 0")
    kind: str = Field("msn", min_length=1, description="a spine kind ('msn')")
    head_diam_um: Positive | None = Field(None, description="a number > 0 (um)")
    head_length_um: Positive | None = Field(None, description="a number > 0 (um)")
    neck_diam_um: Positive | None = Field(None, description="a number > 0 (um)")
    neck_length_um: Positive | None = Field(None, description="a number > 0 (um)")


def _layout_or_spines(value: Any) -> str | tuple[int, ...]:
    """A layout name of the cell (checked by its cell type) or a list of spine numbers."""
    if isinstance(value, str) and value:
        return value
    numbers = _spine_list(value)
    if numbers is None:
        raise ValueError("not allowed")
    return numbers


def _spines_data(value: Any) -> Any:
    """`cell.spines` as plain data: a layout name, a list of numbers or the kit's table."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value if value is None or isinstance(value, str) else list(value)


CellSpines = Annotated[
    str | tuple[int, ...],
    PlainValidator(_layout_or_spines, json_schema_input_type=str | list[int]),
]


class Cell(Section):
    """[cell]: the electrical model, its spines and the integration settings."""

    model: str = Field(
        "msn",
        min_length=1,
        description="an installed cell (e.g. 'msn'), a .py/.hoc/.swc file relative to the "
        "experiment file, or 'module:function'",
    )
    simulator: str = Field(
        "neuron", min_length=1, description="an installed simulator adapter (e.g. 'neuron')"
    )
    spines: Annotated[CellSpines | SpineKit | None, PlainSerializer(_spines_data)] = Field(
        None,
        description="a spine layout of the cell (e.g. 'two', 'all'), a list "
        "of spine numbers, or a [cell.spines] table (default: the cell's own)",
    )
    build: str | None = Field(
        None, min_length=1, description="the name of the builder function in a .py model file"
    )
    template: str | None = Field(
        None, min_length=1, description="the name of the cell template in a .hoc model file"
    )
    biophysics: str | None = Field(
        None,
        min_length=1,
        description="'passive', 'hh' or 'file.py:function' (for an .swc model)",
    )
    dt_ms: Positive = Field(0.025, description="a number > 0 (ms)")
    equilibration_ms: NonNegative = Field(100.0, description="a number >= 0 (ms)")
    v_init_mV: Number = Field(-87.75, description="a number (mV)")
    threads: int = Field(1, ge=1, description="an integer >= 1")
    quiet_dt_ms: NonNegative = Field(
        1.0, description="a number >= dt_ms, or 0 for regular steps throughout (ms)"
    )
    quiet_after_ms: NonNegative = Field(100.0, description="a number >= 0 (ms)")
    rest_tol_per_ms: NonNegative = Field(
        1e-7, description="a number >= 0 (each state's unit per ms), or 0 for no jumps over rest"
    )

    def options(self) -> dict[str, Any]:
        """The table as plain data, as cell types take it."""
        return self.model_dump(mode="json")


class Stimulus(Section):
    """[[stimulus]]: inputs to some spines, as a regular train, a list of times, or a
    Poisson train of each spine's own (`process = "poisson"`: background input)."""

    spines: Annotated[str | tuple[int, ...], _choice_or_spines(("all",)), _AS_DATA] = Field(
        description="a non-empty list of spine numbers of the layout, or 'all'"
    )
    synapses: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None,
        min_length=1,
        description="a non-empty list of the cell's synapse kinds (default: all)",
    )
    start_ms: NonNegative | None = Field(
        None, description="a number >= 0 (ms; the first input is at start + 1000/rate_hz)"
    )
    rate_hz: Positive | None = Field(None, description="a number > 0 (Hz)")
    count: int | None = Field(None, ge=1, description="an integer >= 1")
    times_ms: list[NonNegative] | None = Field(
        None, min_length=1, description="a non-empty list of numbers >= 0 (ms)"
    )
    process: Literal["regular", "poisson"] = Field(
        "regular", description="one of 'regular', 'poisson'"
    )
    stop_ms: NonNegative | None = Field(
        None, description="a number >= 0 (ms; poisson: the last time an input may come)"
    )
    seed: int | None = Field(
        None, ge=0, description="an integer >= 0 (poisson; default: experiment.seed)"
    )

    @property
    def is_train(self) -> bool:
        return self.times_ms is None and self.process == "regular"


def _number_or_quantity(value: Any) -> float | str:
    """A number (in the model's unit) or a string with a unit, such as "1e-7 M"."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if isinstance(value, str) and value.strip():
        return value
    raise ValueError("not allowed")


ModelValue = Annotated[
    float | str, PlainValidator(_number_or_quantity, json_schema_input_type=float | str)
]


class Calcium(Section):
    """[biochemistry.calcium]: how spine-head calcium enters the biochemical model."""

    species: str = Field("ca", min_length=1, description="a species id or name of the model")
    mode: Literal["flux", "parameter", "clamp"] = Field(
        "flux", description="one of 'flux', 'parameter', 'clamp'"
    )
    parameter: str | None = Field(
        None, min_length=1, description="a parameter id or name of the model"
    )
    unit: str | None = Field(
        None,
        min_length=1,
        description="a unit: amount per time for flux/parameter (default 'molecules/s'), "
        "concentration or amount for clamp (default 'mM')",
    )
    switch_off: list[Annotated[str, Field(min_length=1)]] = Field(
        [], description="a list of model variable names"
    )
    volume: Annotated[str | float, PlainValidator(_head_or_litres), _AS_SCALAR] = Field(
        "head", description="'head' or a number > 0 (litres)"
    )
    rest: Literal["neuron", "model"] = Field(
        "neuron",
        description="'neuron' (clamp mode: the species starts its equilibration at the cell's "
        "resting head calcium) or 'model' (the file's value)",
    )


class Output(Section):
    """[biochemistry.output]: the model variable that sets the spine's synaptic weight, and how."""

    variable: str = Field("AMPAR_P", min_length=1, description="a variable id or name of the model")
    rule: Literal["ratio", "linear"] = Field("ratio", description="one of 'ratio', 'linear'")
    scale: Number = Field(1.0, description="a number")
    offset: Number = Field(0.0, description="a number (only with rule = 'linear')")
    bounds: tuple[Number, Number] = Field(
        (0.0, 10.0), strict=False, description="a pair [low, high] of numbers with low < high"
    )
    deadband: NonNegative = Field(0.001, description="a number >= 0 (relative change)")


class Biochemistry(Section):
    """[biochemistry]: the per-spine biochemical model and its coupling interface."""

    model: str = Field(
        "spine_network",
        min_length=1,
        description=f"a bundled model ({_choices(BUNDLED_MODELS)}), 'biomodels:<id>' or a path "
        f"to a {'/'.join(MODEL_SUFFIXES)} file or a COMBINE archive ('.omex', '.omex#<entry>') "
        "relative to the experiment file",
    )
    simulator: str = Field(
        "roadrunner",
        min_length=1,
        description="an installed simulator adapter for the model (e.g. 'roadrunner')",
    )
    equilibration_s: NonNegative = Field(300.0, description="a number >= 0 (s)")
    set: dict[Annotated[str, Field(min_length=1)], ModelValue] = Field(
        {},
        description="a table of model values set before the equilibration: id or name = a "
        "number in the model's unit or a string with a unit (e.g. '1e-7 M')",
    )
    instances: Annotated[
        str | tuple[int, ...], _choice_or_spines(("stimulated", "all")), _AS_DATA
    ] = Field(
        "stimulated", description="'stimulated', 'all' or a list of spine numbers of the layout"
    )
    calcium: Calcium = Field(Calcium(), description="a table")
    output: Output = Field(Output(), description="a table")
    rtol: Positive = Field(
        1e-6, description="a number > 0 (CVODE relative tolerance; RoadRunner's default 1e-6)"
    )
    atol: Positive = Field(
        1e-12,
        description="a number > 0 (CVODE absolute tolerance in model amount units, scaled per "
        "species by RoadRunner; its default 1e-12)",
    )


class CouplingSpec(Section):
    """[coupling]: the synchronization strategy and its parameters (see strategies.py)."""

    mode: Literal["event", "original", "lockstep", "fixed"] = Field(
        "event", description="one of 'event', 'original', 'lockstep', 'fixed'"
    )
    threshold_mM: Positive = Field(5e-5, description="a number > 0 (mM above rest)")
    hysteresis_mM: NonNegative = Field(2.5e-5, description="a number >= 0 and < threshold_mM (mM)")
    settle_ms: NonNegative = Field(20.0, description="a number >= 0 (ms)")
    min_interval_ms: Positive = Field(1.0, description="a number > 0 (ms)")
    max_interval_ms: Positive = Field(50.0, description="a number > 0 and >= min_interval_ms (ms)")
    rtol: Positive = Field(1e-3, description="a number > 0")
    hold: Literal["series", "constant"] = Field("series", description="one of 'series', 'constant'")
    resolution_ms: Positive = Field(1.0, description="a number > 0 (ms)")
    max_advance_ms: Positive = Field(1000.0, description="a number > 0 (ms)")
    interval_ms: Positive = Field(1.0, description="a number > 0 (ms)")
    buffer_ms: Positive = Field(10.0, description="a number > 0 (ms)")
    sampling_ms: Positive = Field(1.0, description="a number > 0 (ms)")
    workers: int = Field(0, ge=0, description="an integer >= 0 (biochemistry worker processes)")


class Record(Section):
    """[record]: what is sampled at regular intervals into the results file."""

    interval_ms: Positive = Field(1.0, description="a number > 0 (ms)")
    soma_v: bool = Field(True, description="true or false")
    spine_calcium: SpineSet = Field(
        "instances",
        description="'instances', 'stimulated', 'none' or a list of spine numbers of the layout",
    )
    cell: list[Annotated[str, Field(min_length=1)]] = Field(
        [], description="a list of the cell's variables (e.g. 'soma(0.5).v'), at interval_ms"
    )
    biochem: list[Annotated[str, Field(min_length=1)]] = Field(
        [], description="a list of model variable ids or names, read in every instance"
    )
    biochem_interval_ms: NonNegative = Field(
        0.0, description="a number >= 0 (ms between reads of record.biochem; 0: every sync)"
    )


class ExperimentFile(Section):
    """The whole file as written: one model per table, defaults filled in."""

    experiment: ExperimentInfo = Field(description="a table")
    cell: Cell = Field(Cell(), description="a table")
    stimulus: list[Stimulus] = Field([], description="an array of tables [[stimulus]]")
    biochemistry: Biochemistry | None = Field(
        None, description="a table (leave it out for an electrical-only run)"
    )
    coupling: CouplingSpec = Field(CouplingSpec(), description="a table")
    record: Record = Field(Record(), description="a table")

    _source: str = PrivateAttr("")
    _spine_numbers: tuple[int, ...] | None = PrivateAttr(None)
