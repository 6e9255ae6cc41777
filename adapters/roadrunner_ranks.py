"""RoadRunner instances on MPI ranks 1..N-1, for a run that rank 0 leads (`timescales.mpi`).

`RoadRunnerRanks` places instances on the serving ranks round-robin, in the order it is
given them (the experiment runner gives the spines with the most inputs first), and hands
out `RankRoadRunnerAdapter` proxies: asynchronous adapters like the local pool's, whose
operations queue per rank and travel in rounds, each one scatter of every rank's queue and
one gather of the replies, never a message per instance. The runner dispatches the queues
once per sync, so the ranks integrate while rank 0 runs the cell; the next read collects.

Each round also brings back, for every instance it touched, the values of every variable
read so far, so reads are answered on rank 0 until the instance gets another operation; a
variable read for the first time is fetched from every instance in one round. A sync thus
costs one scatter and one gather, plus one round more when a window opens (its target's
held values are read after the target caught up) or `record.biochem` is due.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from timescales.errors import AdapterError, RankError, SolverError
from timescales.mpi import STOP, Leader, RankFailure, raise_failures

from ._pool_worker import Message, Op, RemoteError
from ._rank_server import RankServer
from .roadrunner_pool import Closing, Outbox, RemoteRoadRunnerAdapter, Tolerances, rebuild
from .sbml_model import SBMLModel

__all__ = ["RankRoadRunnerAdapter", "RoadRunnerRanks"]

#: Instance id of operations on a rank's worker as a whole (GATHER, SHUTDOWN).
RANK_ID = -1


class _RankOutbox(Outbox):
    """Rank 0's end of one serving rank: its queue, and the latest values of its instances."""

    def __init__(self, rank: int) -> None:
        super().__init__(rank)
        #: Instances alive on the rank, and those with operations queued since the last send.
        self.live: dict[int, None] = {}
        self.touched: dict[int, None] = {}
        #: Per instance: the sequence number of its last operation, the one its `values`
        #: follow, and those values (every variable read so far).
        self.posted: dict[int, int] = {}
        self.known: dict[int, int] = {}
        self.values: dict[int, dict[str, float]] = {}
        #: The round in flight: the instances its GATHER reads, that GATHER's sequence
        #: number, the last operation it carries, and the names it reads.
        self.sent: tuple[list[int], int, int, list[str]] = ([], 0, 0, [])
        #: The sequence number of the SHUTDOWN that ends the rank's server (0: none sent).
        self.shutdown = 0
        self.busy_s = 0.0

    @property
    def name(self) -> str:
        return f"rank {self.index}"

    def post(self, inst_id: int, code: Op, args: tuple[Any, ...], label: str) -> int:
        seq = super().post(inst_id, code, args, label)
        if inst_id >= 0:
            self.posted[inst_id] = seq
            self.touched[inst_id] = None
        return seq

    def stale(self, inst_id: int) -> bool:
        """Whether the instance has operations its latest values do not follow."""
        return self.posted.get(inst_id, 0) > self.known.get(inst_id, 0)

    def request(self, names: list[str], every: bool) -> list[Message]:
        """The queue to send, ending with a GATHER of `names` in the touched instances (in
        every live one when `every`); the queue is then empty."""
        ids = list(self.live if every else (i for i in self.touched if i in self.live))
        gather = self.post(RANK_ID, Op.GATHER, (ids, names), "rank") if ids else 0
        self.sent = (ids, gather, self.seq, names)
        batch, self.batch = self.batch, []
        self.touched.clear()
        return batch


class RankRoadRunnerAdapter(RemoteRoadRunnerAdapter):
    """A RoadRunner instance on a serving MPI rank (see `RoadRunnerRanks`): the local pool's
    proxy, its operations sent in the ranks' rounds, its reads answered from the values the
    rounds bring back. Errors raised on the rank name the rank (`SolverError.rank`, or a
    `RankError` naming the rank, the instance and its time)."""

    def __init__(
        self,
        ranks: RoadRunnerRanks,
        outbox: _RankOutbox,
        inst_id: int,
        model: SBMLModel,
        label: str,
    ) -> None:
        super().__init__(outbox, inst_id, model, label)  # type: ignore[arg-type]
        self._ranks = ranks

    @property
    def rank(self) -> int:
        """The MPI rank holding this instance."""
        return self._link.index

    def _post_advance(self, until_ms: float) -> None:
        self._post(Op.ADVANCE, until_ms)

    def _wait(self) -> None:
        self.raise_pending()
        self._ranks.wait(self)
        self.raise_pending()

    def _get(self, name: str) -> float:
        return float(self._get_many([name])[0])

    def _get_many(self, names: list[str]) -> Sequence[float]:
        self.raise_pending()
        values = self._ranks.read(self, names)
        self.raise_pending()
        return values

    def _request(self, code: Op, *args: Any) -> Any:
        self.raise_pending()
        value = self._ranks.request(self, code, args)
        self.raise_pending()
        return value

    def _close(self) -> None:
        self._ranks.forget(self)

    def absorb(self, wall_s: float, t_ms: float, error: RemoteError | None) -> None:
        """Take the rank's report; an error is kept naming the rank (raised at this proxy's
        next blocking call, or by the next dispatch)."""
        self.stats.wall_s = wall_s
        if error is not None:
            self._t_ms = t_ms
            exc = rebuild(error, f"rank {self.rank} for {self.label!r}")
            self._pending = _on_rank(exc, self.rank, self.label, t_ms)
            self._ranks.failed.append(self)


def _on_rank(exc: Exception, rank: int, label: str, t_ms: float) -> Exception:
    """`exc`, raised on `rank` for instance `label` at `t_ms`, as an error naming all three."""
    if isinstance(exc, SolverError):
        named: Exception = exc.on_rank(rank)
    else:
        at = f" at t = {t_ms:.10g} ms" if math.isfinite(t_ms) else ""
        named = RankError(f"rank {rank}: instance {label!r}{at}: {type(exc).__name__}: {exc}")
    named.__cause__ = exc
    return named


class RoadRunnerRanks(Closing):
    """Instances of one model on the ranks a `Leader` leads; see the module docstring.

    `close()` ends the ranks' servers (after their queued work, unless `wait` is false) and
    raises the first error not yet reported; the ranks then serve whatever comes next.
    """

    closing_what = "the MPI ranks' instances"
    errors_where = "on the ranks"

    def __init__(self, model: SBMLModel, leader: Leader, tolerances: Tolerances = None) -> None:
        if not leader.ranks:
            raise AdapterError("RoadRunnerRanks: no rank other than rank 0 to hold instances")
        self.model = model
        self.tolerances = tolerances
        self.leader = leader
        leader.start(RankServer, (model, tolerances))
        self._outboxes = [_RankOutbox(rank) for rank in leader.ranks]
        self._proxies: list[RankRoadRunnerAdapter] = []
        self._names: list[str] = []
        self._answers: dict[tuple[int, int], tuple[Any, ...]] = {}
        self._awaited: set[tuple[int, int]] = set()
        self._closed = False
        #: Proxies whose rank reported an error they have not raised yet.
        self.failed: list[RankRoadRunnerAdapter] = []

    def adapters(self, labels: Sequence[str], lazy: bool = True) -> list[RankRoadRunnerAdapter]:
        """One proxy per label, placed on the ranks round-robin in the order given."""
        self._check_open()
        proxies = []
        for label in labels:
            inst_id = len(self._proxies)
            outbox = self._outboxes[inst_id % len(self._outboxes)]
            outbox.post(inst_id, Op.NEW, (label, lazy), label)
            outbox.live[inst_id] = None
            proxy = RankRoadRunnerAdapter(self, outbox, inst_id, self.model, label)
            self._proxies.append(proxy)
            proxies.append(proxy)
        return proxies

    # ------------------------------------------------------------------ rounds
    def dispatch(self) -> None:
        """Send the queued operations (collecting the round before) so that the ranks run
        them while rank 0 goes on; raise the first error the replies brought."""
        self._check_open()
        if any(o.batch for o in self._outboxes):
            self._collect()
            self._send()
        self._raise_failed()

    def read(self, proxy: RankRoadRunnerAdapter, names: Sequence[str]) -> np.ndarray:
        """Values of `names` in `proxy`'s instance after all its queued operations."""
        self._check_open()
        outbox, inst_id = proxy._link, proxy._id
        new = [n for n in names if n not in self._names]
        if new:
            self._names.extend(new)
            self._round(every=True)
        elif outbox.stale(inst_id):
            self._collect()
            if outbox.stale(inst_id):
                self._round()
        values = outbox.values[inst_id]
        return np.array([values[n] for n in names], dtype=float)

    def wait(self, proxy: RankRoadRunnerAdapter) -> None:
        """Return once `proxy`'s queued operations have run."""
        self._check_open()
        if proxy._link.stale(proxy._id):
            self._collect()
            if proxy._link.stale(proxy._id):
                self._round()

    def request(self, proxy: RankRoadRunnerAdapter, code: Op, args: tuple[Any, ...]) -> Any:
        """Run a blocking operation (e.g. SAVE) in its instance; its answer."""
        self._check_open()
        outbox = proxy._link
        key = (outbox.index, outbox.post(proxy._id, code, args, proxy.label))
        self._awaited.add(key)
        try:
            self._round()
        finally:
            self._awaited.discard(key)
        _, value, error, wall_s, t_ms = self._answers.pop(key)
        proxy.absorb(wall_s, t_ms, error)
        return value

    def forget(self, proxy: RankRoadRunnerAdapter) -> None:
        """Close `proxy`'s instance (with its next round) and read it no more."""
        outbox = proxy._link
        if not self._closed:
            outbox.post(proxy._id, Op.CLOSE, (), proxy.label)
        outbox.live.pop(proxy._id, None)

    def busy_s(self) -> float:
        """Seconds the ranks spent computing, as of their last replies."""
        return sum(o.busy_s for o in self._outboxes)

    def close(self, wait: bool = True) -> None:
        """End the ranks' servers (after their queued work, unless `wait` is false) with a
        last round; raise the first error not yet raised. Idempotent."""
        if self._closed:
            return
        self._closed = True
        errors: list[BaseException] = []
        try:
            self._collect()
        except RankError as exc:
            errors.append(exc)
        requests = []
        for outbox in self._outboxes:
            if not wait:
                outbox.batch = []
            outbox.shutdown = outbox.post(RANK_ID, Op.SHUTDOWN, (), "rank")
            requests.append(outbox.batch)
            outbox.batch = []
        self.leader.send(requests, STOP)
        try:
            self._take(self.leader.collect())
        except RankError as exc:
            errors.append(exc)
        self._raise_first(errors)

    # ------------------------------------------------------------------ internals
    def _round(self, every: bool = False) -> None:
        """A whole round: collect the one in flight, send the queues, collect."""
        self._collect()
        self._send(every)
        self._collect()

    def _send(self, every: bool = False) -> None:
        self.leader.send([o.request(list(self._names), every) for o in self._outboxes])

    def _collect(self) -> None:
        """Take the replies of the round in flight, if any."""
        if self.leader.in_flight:
            self._take(self.leader.collect())

    def _take(self, replies: list[Any]) -> None:
        """Absorb each rank's reply: values, reports, answers awaited; then raise a rank's
        own failure, if one came."""
        failures: list[RankFailure] = []
        for outbox, reply in zip(self._outboxes, replies, strict=True):
            if isinstance(reply, RankFailure):
                failures.append(reply)
                continue
            answers, outbox.busy_s = reply
            ids, gather, last, names = outbox.sent
            for answer in answers:
                key = (outbox.index, answer[0])
                if answer[0] == gather:
                    self._absorb_gather(outbox, ids, names, last, answer[1])
                elif answer[0] == outbox.shutdown:
                    self._absorb_reports(answer[1])
                elif key in self._awaited:
                    self._answers[key] = answer
        raise_failures(failures)

    def _absorb_gather(
        self, outbox: _RankOutbox, ids: list[int], names: list[str], last: int, got: Any
    ) -> None:
        values, report = got
        for row, inst_id in zip(values, ids, strict=True):
            outbox.values[inst_id] = dict(zip(names, row.tolist(), strict=True))
            outbox.known[inst_id] = max(outbox.known.get(inst_id, 0), last)
        self._absorb_reports(report)

    def _absorb_reports(self, report: dict[int, tuple[float, float, RemoteError | None]]) -> None:
        for inst_id, (wall_s, t_ms, error) in report.items():
            self._proxies[inst_id].absorb(wall_s, t_ms, error)

    def _raise_failed(self) -> None:
        for proxy in self._pending():
            proxy.raise_pending()

    def _pending(self) -> Iterator[RankRoadRunnerAdapter]:
        while self.failed:
            yield self.failed.pop(0)

    def _check_open(self) -> None:
        if self._closed:
            raise AdapterError("RoadRunnerRanks: the ranks' instances are closed")
