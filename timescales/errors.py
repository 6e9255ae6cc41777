"""One exception hierarchy: every error names where it came from and what was expected."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class TimescalesError(Exception):
    """Base class of every error raised by timescales."""


class ConfigError(TimescalesError, ValueError):
    """Invalid specification: names the source (file), the field, what was expected and got."""

    def __init__(self, field: str, expected: str, got: object = None, source: str = "") -> None:
        self.source = source
        self.field = field
        self.expected = expected
        self.got = got
        where = f"{source}: {field}" if source else field
        got_text = "" if got is None else f", got {got!r}"
        super().__init__(f"{where}: expected {expected}{got_text}")


class UnitError(ConfigError):
    """Two units that cannot be converted into each other."""


class AdapterError(TimescalesError):
    """An adapter was used against its contract (unknown variable, time in the past, ...)."""


class UnknownNameError(AdapterError, KeyError):
    """A name that does not exist; the message lists the closest candidates."""

    def __init__(self, what: str, name: str, candidates: Iterable[str], owner: str = "") -> None:
        self.name = name
        self.candidates = sorted(set(candidates))
        close = difflib.get_close_matches(name, self.candidates, n=5, cutoff=0.5)
        hint = close or self.candidates[:8]
        where = f" in {owner}" if owner else ""
        msg = f"unknown {what} {name!r}{where}"
        if hint:
            label = "closest" if close else "some valid names"
            msg += f"; {label}: {', '.join(hint)}"
        super().__init__(msg)

    def __str__(self) -> str:
        return str(self.args[0])


class SolverError(TimescalesError):
    """A simulator's integrator failed: the instance, the phase (e.g. "equilibration" or
    "run"), the simulated time it reached (ms), the model file and the integrator's message;
    `rank`, the MPI rank that ran the instance (None: this process or a local worker)."""

    def __init__(
        self,
        instance: str,
        t_ms: float,
        model: str,
        message: str,
        phase: str = "",
        rank: int | None = None,
    ) -> None:
        super().__init__(instance, t_ms, model, " ".join(message.split()), phase, rank)
        self.instance, self.t_ms, self.model, self.message, self.phase, self.rank = self.args

    def during(self, phase: str, instance: str | None = None) -> SolverError:
        """The same failure, placed in `phase` (and naming the instance as `instance`)."""
        return SolverError(
            instance or self.instance, self.t_ms, self.model, self.message, phase, self.rank
        )

    def on_rank(self, rank: int) -> SolverError:
        """The same failure, on MPI rank `rank`."""
        return SolverError(self.instance, self.t_ms, self.model, self.message, self.phase, rank)

    def __str__(self) -> str:
        during = f" during the {self.phase}" if self.phase else ""
        where = f" on rank {self.rank}" if self.rank is not None else ""
        return (
            f"{self.model}: instance {self.instance!r}{where}: the integrator failed{during} at "
            f"t = {self.t_ms:.10g} ms: {self.message}"
        )


class RankError(TimescalesError):
    """An error raised on another MPI rank: names the rank and, where one was running, the
    instance and its simulated time (ms)."""


class ModelError(TimescalesError):
    """A model file or object that cannot be loaded (invalid SBML, missing mechanism, ...)."""


class ArchiveError(ModelError):
    """A COMBINE archive, or an entry of it, that gives no model: where (the archive, `#` the
    entry), what was expected there and what was found."""

    def __init__(self, where: str, expected: str, got: str) -> None:
        self.where, self.expected, self.got = where, expected, got
        super().__init__(f"{where}: expected {expected}, got {got}")


class TimescalesWarning(UserWarning):
    """Something that runs but may not mean what was meant (a suspicious model value, a unit
    taken from the experiment file): one line naming the file and what."""


def close_matches(name: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    """The candidates closest to `name`, best first (used in error messages)."""
    return difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.5)
