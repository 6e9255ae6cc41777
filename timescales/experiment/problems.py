"""Problems found in an experiment file, and their one-line-per-problem error.

Each problem reads `<file>: <key.path[index]>: <what is allowed>, got <value>`; pydantic's
errors are translated into the same form, the "what is allowed" text taken from the
field's description in the schema.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError, close_matches

MISSING = object()


class Shown(str):
    """A found value described in words (shown without quotes), e.g. "keys a, b"."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong: where (key path), what would be allowed, and what was found."""

    path: str
    allowed: str
    got: Any = MISSING

    def line(self, source: str) -> str:
        got = "nothing" if self.got is MISSING else _show(self.got)
        return f"{source}: {self.path}: {self.allowed}, got {got}"


#: Problems an error message lists before it counts the rest.
MAX_LINES = 20


class ExperimentError(ConfigError):
    """An invalid experiment file; the message has one line per problem."""

    def __init__(self, problems: Sequence[Problem], source: str) -> None:
        first = problems[0]
        super().__init__(first.path, first.allowed, first.got, source)
        self.problems = tuple(problems)
        lines = [p.line(source) for p in self.problems[:MAX_LINES]]
        if len(self.problems) > MAX_LINES:
            lines.append(f"{source}: and {len(self.problems) - MAX_LINES} more problems")
        self.args = ("\n".join(lines),)

    def __str__(self) -> str:
        return str(self.args[0])


def _show(value: Any) -> str:
    if isinstance(value, Shown):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table {" + ", ".join(sorted(value)) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value)


def key_path(loc: Iterable[str | int]) -> str:
    """A pydantic location as a key path: ('stimulus', 0, 'spines') -> 'stimulus[0].spines'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def nested_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as `Model`, `list[Model]`, `Model | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is None and not isinstance(annotation, types.UnionType):
        return None
    for arg in typing.get_args(annotation):
        found = nested_model(arg)
        if found is not None:
            return found
    return None


def _field_at(root: type[BaseModel], loc: Sequence[str | int]) -> tuple[type[BaseModel], str]:
    """The model that owns the last key of `loc`, and that key."""
    model: type[BaseModel] | None = root
    owner, key = root, ""
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return owner, str(part)
        owner, key = model, part
        model = nested_model(model.model_fields[part].annotation)
    return owner, key


def _field_loc(loc: Sequence[str | int], root: type[BaseModel]) -> tuple[str | int, ...]:
    """Drop the tags pydantic appends for unions and validators (e.g. 'function-plain')."""
    kept: list[str | int] = []
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int):
            kept.append(part)
            continue
        if model is None or part not in model.model_fields:
            if model is not None and not kept:
                kept.append(part)
            break
        kept.append(part)
        model = nested_model(model.model_fields[part].annotation)
    return tuple(kept)


def from_validation_error(exc: ValidationError, root: type[BaseModel]) -> list[Problem]:
    """Translate pydantic's errors into problems, one per location."""
    problems: dict[str, Problem] = {}
    for err in exc.errors():
        kind = err["type"]
        if kind == "extra_forbidden":
            owner, key = _field_at(root, err["loc"][:-1])
            parent = owner.model_fields[key].annotation if key else root
            table = nested_model(parent) or root
            allowed = list(table.model_fields)
            close = close_matches(str(err["loc"][-1]), allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            where = key_path(err["loc"][:-1])
            where = (f"[{where}]" if "[" not in where else where) if where else "the top level"
            problem = Problem(
                key_path(err["loc"]),
                f"no such key in {where} ({hint}allowed: {', '.join(allowed)})",
                err["input"],
            )
        else:
            loc = _field_loc(err["loc"], root)
            owner, key = _field_at(root, loc)
            field = owner.model_fields.get(key)
            allowed = (field.description if field else None) or err["msg"]
            if kind == "missing":
                problem = Problem(key_path(loc), f"{allowed} (required)")
            else:
                problem = Problem(key_path(loc), allowed, err["input"])
        problems.setdefault(problem.path, problem)
    return list(problems.values())
