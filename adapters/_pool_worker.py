"""The worker process of a RoadRunner pool: runs queued operations of many instances.

The worker reads every message as soon as it arrives and keeps one queue per instance, so a
blocking request (get, save) waits only for the earlier operations of its own instance, not
for the whole backlog of the others; the rest runs in arrival order while the parent is busy.
It only ever writes a reply to a blocking request, so at most one reply is in flight.
"""

from __future__ import annotations

import ctypes
import dataclasses
import os
import pickle
import signal
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from multiprocessing.connection import Connection
from typing import Any, ClassVar

import numpy as np

from timescales.adapter import Series
from timescales.errors import AdapterError

from ._imports import import_roadrunner
from .roadrunner import RoadRunnerAdapter
from .sbml_model import SBMLModel


class Op(StrEnum):
    """The messages a worker takes: (sequence number, instance id, Op, arguments)."""

    NEW = "new"
    INIT = "init"
    SET = "set"
    SET_MANY = "set_many"
    SERIES = "series"
    RESTORE = "restore"
    ADVANCE = "advance"
    GET = "get"
    GET_MANY = "get_many"
    SAVE = "save"
    WAIT = "wait"
    CLOSE = "close"
    #: Worker-level requests: run everything queued first, then reply.
    SYNC = "sync"
    SHUTDOWN = "shutdown"
    #: Worker-level request: read variables of several instances after their queued work.
    GATHER = "gather"
    #: Worker-level: a saved state sent once, restored by token (one object for many
    #: instances: lazy instances share the reference RoadRunner of one restored object).
    STATE = "state"
    #: Worker-level, run in arrival order: forget a state token (later restores use new ones).
    DROP = "drop"


#: Operations answered with a reply; every other operation runs without one.
BLOCKING = frozenset({Op.GET, Op.GET_MANY, Op.SAVE, Op.WAIT, Op.CLOSE})
BARRIERS = frozenset({Op.SYNC, Op.SHUTDOWN})
#: Bytes of the shared buffer naming the operation being run.
CURRENT_BYTES = 240
#: Pseudo instance id of operations on the worker's shared states.
STATES_ID = -2

Message = tuple[int, int, Op, tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class RemoteError:
    """An exception raised in the worker, in a form the parent can rebuild."""

    module: str
    qualname: str
    message: str
    traceback_text: str
    operation: str
    dropped: int = 0
    #: The exception itself, pickled, when it comes back whole (its class rebuilds it from
    #: its args, e.g. a SolverError with its instance, time and model); else None.
    pickled: bytes | None = None

    @classmethod
    def of(cls, exc: Exception, operation: str) -> RemoteError:
        """The exception being handled, raised while running `operation`."""
        return cls(
            type(exc).__module__,
            type(exc).__qualname__,
            str(exc),
            traceback.format_exc(),
            operation,
            pickled=_pickled(exc),
        )


def _pickled(exc: Exception) -> bytes | None:
    """`exc` pickled, if it unpickles into the same class with the same message."""
    try:
        data = pickle.dumps(exc)
        back = pickle.loads(data)
    except Exception:
        return None
    return data if type(back) is type(exc) and str(back) == str(exc) else None


@dataclass(slots=True)
class Shared:
    """Memory the worker writes and the parent reads without a round trip."""

    busy_s: Any
    cpu_s: Any
    current: Any

    @classmethod
    def create(cls, ctx: Any) -> Shared:
        return cls(
            ctx.RawValue(ctypes.c_double, 0.0),
            ctx.RawValue(ctypes.c_double, 0.0),
            ctx.RawArray(ctypes.c_char, CURRENT_BYTES),
        )

    @classmethod
    def local(cls) -> Shared:
        """The same counters in this process's own memory (a worker nobody else reads)."""
        return cls(
            ctypes.c_double(0.0), ctypes.c_double(0.0), ctypes.create_string_buffer(CURRENT_BYTES)
        )

    def running(self) -> str:
        return bytes(self.current.value).decode(errors="replace")

    def mark(self, text: str) -> None:
        self.current.value = text.encode()[: CURRENT_BYTES - 1]


def describe(label: str, code: Op, args: Sequence[Any]) -> str:
    """A one-line description of an operation, for error messages."""
    if code == Op.ADVANCE:
        return f"advance {label} to {args[0]} ms"
    if code in (Op.SET, Op.GET, Op.SERIES, Op.GET_MANY, Op.SET_MANY):
        return f"{code} {label} {args[0]!r}"
    if code == Op.INIT:
        return f"initialize {label} at {args[0]} ms"
    return f"{code} {label}"


@dataclass
class _Instance:
    label: str
    adapter: RoadRunnerAdapter | None = None
    ops: deque[Message] = field(default_factory=deque)
    wall_s: float = 0.0
    error: RemoteError | None = None
    dropped: int = 0


class Worker:
    """The state of one worker: its instances, their queues and their errors."""

    def __init__(
        self, model: SBMLModel, tolerances: tuple[float, float] | None, shared: Shared
    ) -> None:
        self.model = model
        self.tolerances = tolerances
        self.shared = shared
        self.instances: dict[int, _Instance] = {}
        self.order: deque[tuple[int, int]] = deque()
        self.urgent: deque[tuple[int, int]] = deque()
        self.barrier: Message | None = None
        self.gathers: deque[Message] = deque()
        self.running = True
        self.states: dict[int, Any] = {}
        self.drops: dict[int, int] = {}

    def accept(self, batch: list[Message]) -> None:
        for op in batch:
            seq, inst_id, code, args = op
            if code in BARRIERS:
                self.barrier = op
                continue
            if code == Op.GATHER:
                self.gathers.append(op)
                continue
            if code == Op.STATE:
                token, state = args
                self.states[token] = state
                continue
            if code == Op.DROP:
                self.drops[seq] = args[0]
                self.order.append((seq, STATES_ID))
                continue
            if code == Op.NEW:
                self.instances[inst_id] = _Instance(args[0])
            self.instances[inst_id].ops.append(op)
            if code in BLOCKING:
                self.urgent.append((seq, inst_id))
            else:
                self.order.append((seq, inst_id))

    def idle(self) -> bool:
        return not (self.urgent or self.gathers or self.order or self.barrier)

    def step(self) -> tuple[Any, ...] | None:
        """Run some work; return a reply when a blocking request completed."""
        if self.urgent:
            seq, inst_id = self.urgent.popleft()
            inst = self.instances[inst_id]
            while True:
                op = inst.ops.popleft()
                if op[0] == seq:
                    return self._answer(inst_id, inst, op)
                self._run(inst, op)
        if self.gathers:
            return self._gather(self.gathers.popleft())
        while self.order:
            seq, inst_id = self.order.popleft()
            if inst_id == STATES_ID:
                del self.states[self.drops.pop(seq)]
                continue
            inst = self.instances.get(inst_id)
            if inst is not None and inst.ops and inst.ops[0][0] == seq:
                self._run(inst, inst.ops.popleft())
                return None
        if self.barrier is not None:
            return self._pass_barrier()
        return None

    # ------------------------------------------------------------------ internals
    def _pass_barrier(self) -> tuple[Any, ...]:
        seq, _, code, _ = self.barrier  # type: ignore[misc]
        self.barrier = None
        report = {}
        for inst_id, inst in self.instances.items():
            report[inst_id] = (inst.wall_s, self._t_ms(inst), self._take_error(inst))
        if code == Op.SHUTDOWN:
            self.running = False
        return (seq, report, None, 0.0, 0.0)

    def _gather(self, op: Message) -> tuple[Any, ...]:
        """Values of `names` in each listed instance, after all its queued operations (NaN
        where it failed or is not initialized yet)."""
        seq, _, _, (inst_ids, names) = op
        values = np.full((len(inst_ids), len(names)), np.nan)
        report = {}
        for row, inst_id in enumerate(inst_ids):
            inst = self.instances[inst_id]
            while inst.ops:
                self._run(inst, inst.ops.popleft())
            ready = inst.adapter is not None and inst.adapter.initialized
            if names and inst.error is None and ready:
                got = self._timed(inst, Op.GET_MANY, (names,))
                if got is not None:
                    values[row] = got
            report[inst_id] = (inst.wall_s, self._t_ms(inst), self._take_error(inst))
        return (seq, (values, report), None, 0.0, 0.0)

    def _answer(self, inst_id: int, inst: _Instance, op: Message) -> tuple[Any, ...]:
        seq, _, code, args = op
        value = None
        if inst.error is None:
            value = self._timed(inst, code, args)
        reply = (seq, value, self._take_error(inst), inst.wall_s, self._t_ms(inst))
        if code == Op.CLOSE:
            del self.instances[inst_id]
        return reply

    def _run(self, inst: _Instance, op: Message) -> None:
        if inst.error is not None:
            inst.dropped += 1
            return
        self._timed(inst, op[2], op[3])

    def _timed(self, inst: _Instance, code: Op, args: tuple[Any, ...]) -> Any:
        text = describe(inst.label, code, args)
        self.shared.mark(text)
        start, start_cpu = time.perf_counter(), time.thread_time()
        try:
            return self._execute(inst, code, args)
        except Exception as exc:
            inst.error = RemoteError.of(exc, text)
            return None
        finally:
            elapsed = time.perf_counter() - start
            inst.wall_s += elapsed
            self.shared.busy_s.value += elapsed
            self.shared.cpu_s.value += time.thread_time() - start_cpu
            self.shared.mark("")

    def _execute(self, inst: _Instance, code: Op, args: tuple[Any, ...]) -> Any:
        """Run one operation through `OPERATIONS`; an unknown one is an error the parent gets
        at the instance's next blocking call, by name."""
        operation = self.OPERATIONS.get(code)
        if operation is None:
            raise AdapterError(f"{inst.label}: the worker has no operation {code!r}")
        return operation(self, inst, args)

    # ------------------------------------------------------ operations on an instance
    def _new(self, inst: _Instance, args: tuple[Any, ...]) -> None:
        label, lazy = args
        inst.adapter = RoadRunnerAdapter(
            self.model, label, lazy=lazy, integrator_tolerances=self.tolerances
        )

    def _init(self, inst: _Instance, args: tuple[Any, ...]) -> None:
        _adapter(inst).initialize(args[0])

    def _set(self, inst: _Instance, args: tuple[Any, ...]) -> None:
        _adapter(inst).set(*args)

    def _set_many(self, inst: _Instance, args: tuple[Any, ...]) -> None:
        _adapter(inst).set_many(*args)

    def _series(self, inst: _Instance, args: tuple[Any, ...]) -> None:
        _adapter(inst).set_series(args[0], Series(*args[1:]))

    def _restore(self, inst: _Instance, args: tuple[Any, ...]) -> None:
        t_ms, token = args
        _adapter(inst).restore_state((t_ms, self.states[token]))

    def _advance(self, inst: _Instance, args: tuple[Any, ...]) -> None:
        _adapter(inst).advance(args[0])

    def _get(self, inst: _Instance, args: tuple[Any, ...]) -> float:
        return _adapter(inst).get(args[0])

    def _get_many(self, inst: _Instance, args: tuple[Any, ...]) -> np.ndarray:
        return np.asarray(_adapter(inst).get_many(args[0]))

    def _save(self, inst: _Instance, args: tuple[Any, ...]) -> object:
        return _adapter(inst).save_state()

    def _wait(self, inst: _Instance, args: tuple[Any, ...]) -> None:
        """Nothing: the reply itself says that the instance's earlier operations are done."""

    def _close(self, inst: _Instance, args: tuple[Any, ...]) -> None:
        _adapter(inst).close()

    #: The method that runs each operation on an instance.
    OPERATIONS: ClassVar[dict[Op, Callable[[Worker, _Instance, tuple[Any, ...]], Any]]] = {
        Op.NEW: _new,
        Op.INIT: _init,
        Op.SET: _set,
        Op.SET_MANY: _set_many,
        Op.SERIES: _series,
        Op.RESTORE: _restore,
        Op.ADVANCE: _advance,
        Op.GET: _get,
        Op.GET_MANY: _get_many,
        Op.SAVE: _save,
        Op.WAIT: _wait,
        Op.CLOSE: _close,
    }

    @staticmethod
    def _t_ms(inst: _Instance) -> float:
        return inst.adapter.t_ms if inst.adapter is not None else float("nan")

    @staticmethod
    def _take_error(inst: _Instance) -> RemoteError | None:
        error = inst.error
        if error is not None and inst.dropped:
            error = dataclasses.replace(error, dropped=inst.dropped)
        inst.error, inst.dropped = None, 0
        return error


def _adapter(inst: _Instance) -> RoadRunnerAdapter:
    """The instance's adapter; an error when its creation failed."""
    if inst.adapter is None:
        raise AdapterError(f"{inst.label}: the instance was not created (its creation failed)")
    return inst.adapter


def serve(
    conn: Connection,
    model: SBMLModel,
    tolerances: tuple[float, float] | None,
    shared: Shared,
    primer: bytes,
    foreign: Sequence[Connection],
    nice: int = 0,
) -> None:
    """Entry point of a worker process (forked): lower its priority by `nice`, prime the
    compile cache, then serve.

    Loading the primer puts the compiled model in the cache without compiling. The primed
    RoadRunner stays alive: in libRoadRunner 2.10 an instance created while no other instance
    of the model exists integrates slightly differently (within tolerance) from the others,
    so keeping one alive makes every instance here behave like the parent's later ones.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(nice)
    for other in foreign:
        other.close()
    start, start_cpu = time.perf_counter(), time.thread_time()
    keeper = import_roadrunner().RoadRunner()
    keeper.loadStateS(primer)
    shared.busy_s.value += time.perf_counter() - start
    shared.cpu_s.value += time.thread_time() - start_cpu
    worker = Worker(model, tolerances, shared)
    while worker.running:
        if worker.idle() or conn.poll(0):
            try:
                worker.accept(conn.recv())
                while conn.poll(0):
                    worker.accept(conn.recv())
            except EOFError:
                return
        reply = worker.step()
        if reply is not None:
            conn.send(reply)
    conn.close()
