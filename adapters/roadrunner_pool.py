"""RoadRunner instances in worker processes, so their integration overlaps the parent's work.

RoadRunner holds the GIL, so threads cannot overlap it with NEURON; processes can. A
`RoadRunnerPool` forks `workers` processes and hands out `RemoteRoadRunnerAdapter` proxies
(round-robin), which are asynchronous adapters: operations that return nothing (initialize,
set, set_many, set_series, restore_state, post_advance) are queued and return at once;
`advance`, `get`, `get_many`, `save_state` and `wait` wait for the reply, which comes after
the earlier operations of that instance only.
`RoadRunnerPool.get_all` reads many proxies with one round trip per worker. Small operations
are batched per worker and sent with the next advance or request; a state restored into many
proxies (an equilibrated template) goes to each worker once.

Each worker primes RoadRunner's compile cache by loading a state saved in the parent
(`loadStateS`: no compile), so a worker creates instances at cache-hit cost instead of
compiling the model again (a fork alone does not carry the cache over: measured).
Not supported: watches and recording.
"""

from __future__ import annotations

import importlib
import multiprocessing
import pickle
import signal
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Self

import numpy as np

from timescales.adapter import Adapter, Capabilities, Reached, Series, Variable, Watch
from timescales.errors import AdapterError

from ._pool_worker import STATES_ID, Message, Op, RemoteError, Shared, describe, serve
from ._roadrunner_lean import new_runner
from .sbml_model import SBMLModel

__all__ = ["RemoteRoadRunnerAdapter", "RoadRunnerPool"]

Tolerances = tuple[float, float] | None
#: Queued operations per worker that force a send even without an advance or request.
MAX_BATCH = 64
#: Distinct restored states a worker keeps (each sent once, then restored by token).
KEPT_STATES = 16
#: Seconds between liveness checks while waiting for a reply.
POLL_S = 0.2
#: Seconds a worker gets to exit after `close` before it is terminated.
JOIN_S = 10.0
#: Niceness the workers add to the parent's (at equal priority, two workers on a 2-core
#: machine slowed NEURON's steps in the parent: benchmarks/RESULTS.md).
WORKER_NICE = 10


def _exit_reason(exitcode: int | None) -> str:
    if exitcode is None:
        return "exit code unknown"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


def rebuild(error: RemoteError, where: str) -> Exception:
    """The worker's exception: itself when it was pickled, else the same class (when
    importable) with its message; its traceback noted."""
    exc = pickle.loads(error.pickled) if error.pickled is not None else _same_class(error)
    dropped = (
        f"; {error.dropped} later queued operation(s) of it were dropped" if error.dropped else ""
    )
    exc.add_note(f"raised in {where} during {error.operation!r}{dropped}; worker traceback:")
    exc.add_note(error.traceback_text.rstrip())
    return exc


def _same_class(error: RemoteError) -> Exception:
    """An exception of the worker's exception's class (AdapterError when that cannot be
    imported) with its message, made without calling its __init__."""
    try:
        cls = getattr(importlib.import_module(error.module), error.qualname)
    except (ImportError, AttributeError):
        cls = None
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        cls = AdapterError
    exc = cls.__new__(cls)
    Exception.__init__(exc, error.message)
    return exc


class Outbox:
    """Operations queued for one process that holds instances, numbered in order, and the
    saved states it was sent (each sent once, then named by token)."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.batch: list[Message] = []
        self.seq = 0
        self.last_sent = "nothing"
        #: id of a restored state -> (token, the state, kept alive so that the id stays its).
        self.states: dict[int, tuple[int, object]] = {}

    def post(self, inst_id: int, code: Op, args: tuple[Any, ...], label: str) -> int:
        """Queue an operation; its sequence number."""
        self.seq += 1
        self.batch.append((self.seq, inst_id, code, args))
        self.last_sent = describe(label, code, args)
        return self.seq

    def share(self, state: object) -> int:
        """The receiver's token for `state`, sending the state the first time only."""
        known = self.states.get(id(state))
        if known is not None and known[1] is state:
            return known[0]
        if len(self.states) >= KEPT_STATES:
            old_token, _ = self.states.pop(next(iter(self.states)))
            self.post(STATES_ID, Op.DROP, (old_token,), "states")
        token = self.seq + 1  # the sequence number of the STATE operation, unique
        self.post(STATES_ID, Op.STATE, (token, state), "states")
        self.states[id(state)] = (token, state)
        return token


class _Link(Outbox):
    """The parent's end of one worker: its outbox, a pipe, shared memory."""

    def __init__(self, index: int, ctx: Any) -> None:
        super().__init__(index)
        self.conn, self.child_conn = ctx.Pipe(duplex=True)
        self.shared = Shared.create(ctx)
        self.process: Any = None
        self.dead: AdapterError | None = None
        self.blocked_s = 0.0

    @property
    def name(self) -> str:
        pid = self.process.pid if self.process is not None else "?"
        return f"roadrunner pool worker {self.index} (pid {pid})"

    def post(self, inst_id: int, code: Op, args: tuple[Any, ...], label: str) -> int:
        self.check()
        seq = super().post(inst_id, code, args, label)
        if len(self.batch) >= MAX_BATCH:
            self.flush()
        return seq

    def flush(self) -> None:
        if not self.batch:
            return
        self.check()
        start = time.perf_counter()
        try:
            self.conn.send(self.batch)
        except (BrokenPipeError, ConnectionResetError, EOFError):
            raise self._died() from None
        finally:
            self.blocked_s += time.perf_counter() - start
        self.batch = []

    def request(self, inst_id: int, code: Op, args: tuple[Any, ...], label: str) -> tuple:
        """Send a blocking operation and wait for its reply."""
        seq = self.post(inst_id, code, args, label)
        self.flush()
        return self.wait(seq)

    def wait(self, seq: int) -> tuple:
        """The reply to request `seq` (the only one in flight)."""
        self.check()
        start = time.perf_counter()
        try:
            while not self.conn.poll(POLL_S):
                if not self.process.is_alive():
                    raise self._died()
            reply = self.conn.recv()
        except (EOFError, ConnectionResetError, BrokenPipeError):
            raise self._died() from None
        finally:
            self.blocked_s += time.perf_counter() - start
        if reply[0] != seq:
            raise AdapterError(f"{self.name}: reply {reply[0]} does not answer request {seq}")
        return reply

    def check(self) -> None:
        if self.dead is not None:
            raise self.dead

    def _died(self) -> AdapterError:
        self.process.join(1.0)
        running = self.shared.running() or "between operations"
        self.dead = AdapterError(
            f"{self.name} died ({_exit_reason(self.process.exitcode)}) while running: "
            f"{running}; last operation queued: {self.last_sent}"
        )
        return self.dead


class RemoteRoadRunnerAdapter(Adapter):
    """A RoadRunner instance living in a pool worker (see `RoadRunnerPool`).

    An asynchronous adapter (contract item 9): `post_advance` and the other queued operations
    return at once; `advance`, `get`, `get_many`, `save_state` and `wait` block until this
    instance's earlier operations are done. Errors raised in the worker are re-raised at the
    next blocking call of this proxy (or at `RoadRunnerPool.close`). `stats` counts calls like
    any adapter; `stats.wall_s` is the worker's compute time for this instance (all its
    operations) as of the last reply, plus the parent's microseconds of queuing since: call
    `RoadRunnerPool.sync` for totals.
    """

    kind = "roadrunner"
    capabilities = Capabilities(save_restore=True, series_input=True, asynchronous=True)

    def __init__(self, link: _Link, inst_id: int, model: SBMLModel, label: str) -> None:
        super().__init__(label)
        self.model = model
        self._link = link
        self._id = inst_id
        self._pending: Exception | None = None

    @property
    def worker(self) -> int:
        """Index of the worker process holding this instance."""
        return self._link.index

    def variables(self) -> Mapping[str, Variable]:
        return self.model.variables()

    # ------------------------------------------------------------------ contract
    def _initialize(self, t0_ms: float) -> None:
        self._post(Op.INIT, t0_ms)

    def _advance(self, until_ms: float, watches: tuple[Watch, ...]) -> Reached:
        self._post_advance(until_ms)
        self._wait()
        return Reached(until_ms)

    def _post_advance(self, until_ms: float) -> None:
        self._post(Op.ADVANCE, until_ms)
        self._link.flush()

    def _wait(self) -> None:
        self._request(Op.WAIT)

    def _get(self, name: str) -> float:
        return float(self._request(Op.GET, name))

    def _get_many(self, names: list[str]) -> Sequence[float]:
        return self._request(Op.GET_MANY, names)

    def _set(self, name: str, value: float) -> None:
        self._post(Op.SET, name, value)

    def _set_many(self, names: list[str], values: np.ndarray) -> None:
        self._post(Op.SET_MANY, names, values)

    def _takes_series(self, name: str) -> bool:
        return self.model.flux_input(name) is not None

    def _set_series(self, name: str, series: Series) -> None:
        values = np.asarray(series.values, dtype=float)
        self._post(Op.SERIES, name, series.t0_ms, series.dt_ms, values)

    def _save_state(self) -> object:
        _, inner = self._request(Op.SAVE)
        return inner

    def _restore_state(self, state: object, t_ms: float) -> None:
        """Queue a return to a snapshot (from this proxy or from a local RoadRunnerAdapter)."""
        self._post(Op.RESTORE, t_ms, self._link.share(state))

    def _close(self) -> None:
        if self._link.dead is None and self._link.process.is_alive():
            self._closed = True
            self._request(Op.CLOSE)

    def check_gettable(self, names: Sequence[str]) -> None:
        """Validate a bulk read of `names` here and count it as one get."""
        self._check_ready()
        for name in names:
            self.variable(name)
        self.raise_pending()
        self.stats.n_get += 1

    # ------------------------------------------------------------------ internals
    def _post(self, code: Op, *args: Any) -> None:
        self._link.post(self._id, code, args, self.label)

    def _request(self, code: Op, *args: Any) -> Any:
        self.raise_pending()
        _, value, error, wall_s, t_ms = self._link.request(self._id, code, args, self.label)
        self.absorb(wall_s, t_ms, error)
        self.raise_pending()
        return value

    def absorb(self, wall_s: float, t_ms: float, error: RemoteError | None) -> None:
        """Take the worker's report: compute time, and on error its clock and the error."""
        self.stats.wall_s = wall_s
        if error is not None:
            self._t_ms = t_ms
            self._pending = rebuild(error, f"{self._link.name} for {self.label!r}")

    def take_pending(self) -> Exception | None:
        error, self._pending = self._pending, None
        return error

    def raise_pending(self) -> None:
        error = self.take_pending()
        if error is not None:
            raise error


class Closing(ABC):
    """What the pool and the MPI ranks share in closing: a `with` block closes them (at once,
    noting their errors on the block's own, when the block raised), and `close` ends by
    raising the first error not yet reported."""

    #: Named in the note a failed close leaves on the block's exception.
    closing_what = "the RoadRunner pool"
    #: Where the errors that follow the first one happened, for its note.
    errors_where = "in the pool's workers"
    _proxies: list[RemoteRoadRunnerAdapter]

    @abstractmethod
    def close(self, wait: bool = True) -> None:
        """End the processes holding the instances (after their queued work, unless `wait` is
        false); raise the first error not yet reported. Idempotent."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        """Close; when the block raised, stop at once and only note errors in closing on it."""
        if exc is None:
            self.close()
            return
        try:
            self.close(wait=False)
        except Exception as error:
            exc.add_note(f"while closing {self.closing_what}: {error!r}")

    def _raise_first(self, errors: list[BaseException]) -> None:
        """Close every proxy; raise the first of `errors` and the proxies' pending ones."""
        errors += [e for p in self._proxies if (e := p.take_pending()) is not None]
        for proxy in self._proxies:
            proxy._closed = True
        if errors:
            first = errors[0]
            if len(errors) > 1:
                first.add_note(f"{len(errors) - 1} more error(s) {self.errors_where}")
            raise first


class RoadRunnerPool(Closing):
    """Worker processes holding RoadRunner instances of one model; see the module docstring.

    Fork the pool early (before NEURON starts MPI or threads): children inherit the parent's
    memory. `close()` (or leaving the `with` block) finishes the queued work, stops the
    workers and raises any error not yet reported.

    The workers run `nice` levels below the parent, so on a machine with no core to spare
    they take the cycles the parent (NEURON, the critical path) leaves idle instead of
    preempting it; 0 keeps the parent's priority.
    """

    def __init__(
        self,
        model: SBMLModel,
        workers: int = 1,
        tolerances: Tolerances = None,
        *,
        nice: int = WORKER_NICE,
    ) -> None:
        if workers < 1:
            raise AdapterError(f"RoadRunnerPool: workers must be at least 1, got {workers}")
        if not 0 <= nice <= 19:
            raise AdapterError(f"RoadRunnerPool: nice must be within 0..19, got {nice}")
        self.model = model
        self.tolerances = tolerances
        self._proxies: list[RemoteRoadRunnerAdapter] = []
        self._closed = False
        #: Kept alive so that local instances made meanwhile match the workers' (see serve).
        self._template = new_runner(model)
        primer = self._template.saveStateS()
        ctx = multiprocessing.get_context("fork")
        self._links = [_Link(i, ctx) for i in range(workers)]
        for link in self._links:
            foreign = [other.conn for other in self._links] + [
                other.child_conn for other in self._links if other is not link
            ]
            link.process = ctx.Process(
                target=serve,
                args=(link.child_conn, model, tolerances, link.shared, primer, foreign, nice),
                name=f"timescales-roadrunner-{link.index}",
                daemon=True,
            )
            link.process.start()
        for link in self._links:
            link.child_conn.close()

    @property
    def workers(self) -> int:
        return len(self._links)

    @property
    def worker_pids(self) -> tuple[int, ...]:
        return tuple(link.process.pid for link in self._links)

    def adapters(self, labels: Sequence[str], lazy: bool = True) -> list[RemoteRoadRunnerAdapter]:
        """One proxy per label, assigned to the workers round-robin."""
        self._check_open()
        proxies = []
        for label in labels:
            inst_id = len(self._proxies)
            link = self._links[inst_id % len(self._links)]
            link.post(inst_id, Op.NEW, (label, lazy), label)
            proxy = RemoteRoadRunnerAdapter(link, inst_id, self.model, label)
            self._proxies.append(proxy)
            proxies.append(proxy)
        return proxies

    def get_all(
        self, proxies: Sequence[RemoteRoadRunnerAdapter], names: Sequence[str]
    ) -> np.ndarray:
        """Values of `names` in every proxy, shape (proxies, names), with one round trip per
        worker instead of one per proxy (each counts as one get, like `get_many`)."""
        self._check_open()
        for proxy in proxies:
            if proxy._link not in self._links:
                raise AdapterError(f"get_all: {proxy.label!r} belongs to another pool")
            proxy.check_gettable(names)
        rows: dict[_Link, list[int]] = {}
        for row, proxy in enumerate(proxies):
            rows.setdefault(proxy._link, []).append(row)
        sent = []
        for link, link_rows in rows.items():
            ids = [proxies[r]._id for r in link_rows]
            sent.append((link, link_rows, link.post(-1, Op.GATHER, (ids, list(names)), "pool")))
            link.flush()
        values = np.empty((len(proxies), len(names)))
        for link, link_rows, seq in sent:
            got, report = link.wait(seq)[1]
            values[link_rows] = got
            for inst_id, (wall_s, t_ms, error) in report.items():
                self._proxies[inst_id].absorb(wall_s, t_ms, error)
        for proxy in proxies:
            proxy.raise_pending()
        return values

    def dispatch(self) -> None:
        """Send every live worker its queued operations now (the experiment runner calls
        this after every sync)."""
        self._check_open()
        for link in self._links:
            if link.dead is None:
                link.flush()

    def sync(self) -> None:
        """Wait until every worker has run its queued work; update every proxy's stats and
        raise the first error not yet reported (others stay with their proxies)."""
        self._check_open()
        self._barrier(Op.SYNC)
        self._raise_pending()

    def busy_s(self) -> float:
        """Seconds the workers spent computing (operations finished so far, plus priming):
        wall time inside operations, which includes waiting for a core on a busy machine."""
        return sum(link.shared.busy_s.value for link in self._links)

    def cpu_s(self) -> float:
        """CPU seconds the workers used for the same operations (`busy_s` without waits)."""
        return sum(link.shared.cpu_s.value for link in self._links)

    def blocked_s(self) -> float:
        """Seconds the parent spent sending to workers and waiting for their replies."""
        return sum(link.blocked_s for link in self._links)

    def close(self, wait: bool = True) -> None:
        """Stop the workers (after their queued work, unless `wait` is false) and reap them.

        Idempotent. Raises the first error not yet reported, if any, once all are stopped.
        """
        if self._closed:
            return
        self._closed = True
        self._template = None
        errors: list[BaseException] = []
        if wait:
            try:
                self._barrier(Op.SHUTDOWN)
            except AdapterError as exc:
                errors.append(exc)
        for link in self._links:
            link.process.join(JOIN_S if wait and link.dead is None else 0.0)
            if link.process.is_alive():
                link.process.terminate()
                link.process.join(JOIN_S)
            if link.process.is_alive():
                link.process.kill()
                link.process.join()
            link.conn.close()
            link.process.close()
        self._raise_first(errors)

    # ------------------------------------------------------------------ internals
    def _barrier(self, code: Op) -> None:
        """Send `code` to every live worker, then collect the reports (workers run meanwhile)."""
        failures: list[AdapterError] = []
        sent: list[tuple[_Link, int]] = []
        for link in self._links:
            if link.dead is not None:
                continue
            try:
                sent.append((link, link.post(-1, code, (), "pool")))
                link.flush()
            except AdapterError as exc:
                failures.append(exc)
        for link, seq in sent:
            try:
                report = link.wait(seq)[1]
            except AdapterError as exc:
                failures.append(exc)
                continue
            for inst_id, (wall_s, t_ms, error) in report.items():
                self._proxies[inst_id].absorb(wall_s, t_ms, error)
        if failures:
            raise failures[0]

    def _raise_pending(self) -> None:
        for proxy in self._proxies:
            proxy.raise_pending()

    def _check_open(self) -> None:
        if self._closed:
            raise AdapterError("RoadRunnerPool: the pool is closed")
