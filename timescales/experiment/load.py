"""Read an experiment file (TOML), validate it completely, and resolve defaults and paths.

Validation runs twice over the data: once as a whole (types, ranges, unknown keys) and
once table by table, so that cross-key checks still run on the tables that are valid.
All problems are raised together in one `ExperimentError`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .. import combine
from .checks import Tables, cell_spines, check_tables, model_path, resolve_stimulus
from .problems import ExperimentError, Problem, Shown, from_validation_error
from .schema import Biochemistry, Cell, CouplingSpec, ExperimentInfo, Record, Stimulus
from .spec import DEFAULT_CALCIUM_UNIT, ExperimentSpec

_TABLES: dict[str, type[BaseModel]] = {
    "experiment": ExperimentInfo,
    "cell": Cell,
    "biochemistry": Biochemistry,
    "coupling": CouplingSpec,
    "record": Record,
}


def load_experiment(path: str | Path, overrides: Mapping[str, Any] | None = None) -> ExperimentSpec:
    """Read, validate and resolve the experiment file at `path`.

    `overrides` replace keys before validation, by dotted key path (e.g. from a command
    line: {"coupling.mode": "original", "experiment.output": "/abs/out.h5"}); they are
    validated like the file's own keys.
    """
    file = Path(path).resolve()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExperimentError([Problem("file", "a readable file", str(exc))], str(path)) from exc
    except UnicodeDecodeError as exc:
        got = Shown(f"bytes that are not UTF-8 at {exc.start} ({exc.reason})")
        raise ExperimentError(
            [Problem("file", "a UTF-8 text file (TOML)", got)], file.name
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ExperimentError([Problem("file", "valid TOML", str(exc))], file.name) from exc
    for key, value in (overrides or {}).items():
        _override(data, key, value)
    return parse_experiment(data, file)


def _override(data: dict[str, Any], key: str, value: Any) -> None:
    """Set `key` (dotted; a number picks a table of an array, as in `stimulus.0.rate_hz`)."""
    *tables, last = key.split(".")
    node: Any = data
    for table in tables:
        if isinstance(node, list) and table.isdigit() and int(table) < len(node):
            node = node[int(table)]
        elif isinstance(node, dict):
            node = node.setdefault(table, {})
        else:
            expected = f"an index below {len(node)}" if isinstance(node, list) else "a table"
            raise ExperimentError([Problem(key, expected, table)], "overrides")
    if not isinstance(node, dict):
        raise ExperimentError([Problem(key, "a key inside a table", node)], "overrides")
    node[last] = value


def parse_experiment(data: dict[str, Any], source: Path) -> ExperimentSpec:
    """Validate TOML data read from `source` (the file its relative paths refer to)."""
    label = source.name
    problems: list[Problem] = []
    spec = None
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        problems += from_validation_error(exc, ExperimentSpec)
    problems += check_tables(_tables(data), source.parent)
    if problems:
        raise ExperimentError(problems, label)
    assert spec is not None
    return _resolve(spec, source)


def _valid(model: type[BaseModel], value: Any, path: str, broken: set[str]) -> Any:
    """`value` validated as `model`, retried once without the keys that were invalid."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        if not isinstance(value, dict):
            return None
        bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        broken.update(f"{path}.{key}" for key in bad)
    try:
        return model.model_validate({k: v for k, v in value.items() if k not in bad})
    except ValidationError:
        return None


def _tables(data: dict[str, Any]) -> Tables:
    """Each table validated on its own (defaults where absent, None where invalid)."""
    tables = Tables()
    for key, model in _TABLES.items():
        if key in data:
            setattr(tables, key, _valid(model, data[key], key, tables.broken))
        elif key not in ("experiment", "biochemistry"):
            setattr(tables, key, model())
    stimuli = data.get("stimulus", [])
    if isinstance(stimuli, list):
        tables.stimulus = [
            (i, stim)
            for i, raw in enumerate(stimuli)
            if (stim := _valid(Stimulus, raw, f"stimulus[{i}]", tables.broken))
        ]
    return tables


def _resolve(spec: ExperimentSpec, source: Path) -> ExperimentSpec:
    """Fill the defaults that depend on the file: name, output path, model file, units."""
    info = spec.experiment
    name = info.name or source.stem
    output = (source.parent / (info.output or f"{name}.h5")).resolve()
    update: dict[str, Any] = {
        "experiment": info.model_copy(update={"name": name, "output": str(output)})
    }
    spines, _ = cell_spines(spec.cell, source.parent)
    assert spines is not None
    if spec.cell.spines is None and spines.spines is not None:
        update["cell"] = spec.cell.model_copy(update={"spines": spines.spines})
    update["stimulus"] = [resolve_stimulus(stim, spines, info.seed) for stim in spec.stimulus]
    bio = spec.biochemistry
    if bio is not None:
        if combine.is_archive(bio.model):
            model = combine.absolute(bio.model, source.parent)
        else:
            file = model_path(bio.model, source.parent)
            model = str(file) if file else bio.model
        calcium = bio.calcium.model_copy(
            update={"unit": bio.calcium.unit or DEFAULT_CALCIUM_UNIT[bio.calcium.mode]}
        )
        update["biochemistry"] = bio.model_copy(update={"model": model, "calcium": calcium})
    resolved = spec.model_copy(update=update)
    resolved._source = str(source)
    resolved._spine_numbers = spines.numbers
    return resolved


def validate_file(path: str | Path) -> str:
    """Validate an experiment file; return a short summary (raises ExperimentError)."""
    return load_experiment(path).summary()
