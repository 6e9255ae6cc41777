"""Checkpoints: a run's whole state in one file, written atomically, to resume elsewhere.

A checkpoint holds every adapter's `checkpoint()` (contract item 11) and the scheduler
pickled with its adapters as references (open windows, waveforms in flight, dead-band
memory, pipelined outputs and statistics come along), plus whatever its caller adds (the
experiment layer adds the recorder's position). It is written beside its target as a
temporary file, flushed to disk and renamed into place, so a process killed while
writing one leaves the previous checkpoint intact.
"""

from __future__ import annotations

import io
import os
import pickle
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .adapter import Adapter
from .errors import TimescalesError

#: The format tag of a checkpoint file; another tag is refused.
FORMAT = "timescales-checkpoint/1"


class CheckpointError(TimescalesError):
    """A checkpoint file that cannot be used (missing, broken or of another run)."""


@dataclass
class Checkpoint:
    """A run at one sync: `t_ms`, the adapters' and the scheduler's state, and `extra`
    (what the caller needs to rebuild and continue the run)."""

    t_ms: float
    adapters: dict[str, object]
    scheduler: bytes
    extra: dict[str, Any] = field(default_factory=dict)
    format: str = FORMAT


class _Pickler(pickle.Pickler):
    """Pickles adapters as their names: they are rebuilt, not pickled."""

    def __init__(self, stream: io.BytesIO, adapters: Mapping[str, Adapter]) -> None:
        super().__init__(stream, protocol=pickle.HIGHEST_PROTOCOL)
        self._names = {id(a): name for name, a in adapters.items()}

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, Adapter):
            return self._names[id(obj)]
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, stream: io.BytesIO, adapters: Mapping[str, Adapter]) -> None:
        super().__init__(stream)
        self._adapters = adapters

    def persistent_load(self, pid: Any) -> Any:
        if pid not in self._adapters:
            raise CheckpointError(f"checkpoint names adapter {pid!r}, which the run lacks")
        return self._adapters[pid]


def take(scheduler: Any, extra: Mapping[str, Any] | None = None) -> Checkpoint:
    """The state of `scheduler` and its adapters now (between two turns of its loop)."""
    adapters = scheduler.adapters
    states = {name: a.checkpoint() for name, a in adapters.items()}
    stream = io.BytesIO()
    _Pickler(stream, adapters).dump(scheduler)
    return Checkpoint(scheduler.t_ms, states, stream.getvalue(), dict(extra or {}))


def restore(checkpoint: Checkpoint, adapters: Mapping[str, Adapter]) -> Any:
    """The scheduler of `checkpoint`, driving `adapters` (built and initialized as in the
    run that took it), each brought back to its checkpointed state. Hooks are not part of
    a checkpoint: attach them with `Scheduler.attach`."""
    missing = sorted(set(checkpoint.adapters) - set(adapters))
    if missing:
        raise CheckpointError(f"checkpoint has adapters {missing} that the run lacks")
    for name, state in checkpoint.adapters.items():
        adapters[name].resume_from(state)
    return _Unpickler(io.BytesIO(checkpoint.scheduler), adapters).load()


def write(path: str | Path, checkpoint: Checkpoint) -> int:
    """Write `checkpoint` to `path` atomically (temporary file, fsync, rename); its size."""
    path = Path(path)
    data = pickle.dumps(checkpoint, protocol=pickle.HIGHEST_PROTOCOL)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(data)


def read(path: str | Path) -> Checkpoint:
    """The checkpoint in `path`, checked to be one."""
    path = Path(path)
    try:
        with open(path, "rb") as stream:
            checkpoint = pickle.load(stream)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no checkpoint (run with --checkpoint-ms)") from None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint ({exc})") from None
    if not isinstance(checkpoint, Checkpoint) or checkpoint.format != FORMAT:
        raise CheckpointError(f"{path}: not a {FORMAT} file")
    return checkpoint
