"""Runs over MPI ranks: started by an MPI launcher with more than one rank, rank 0 leads.

`mpirun -n N timescales run ...` (or `srun`) starts N copies of the command. Rank 0 runs
the command as it runs alone, with a `Leader` the adapters use to put work on the other
ranks (the spine networks: `timescales.adapters.roadrunner_ranks`); ranks 1..N-1 `serve`
what rank 0 starts on them until it tells them to exit, writing no files and printing
nothing. Every exchange is a round: one scatter of rank 0's requests, one gather of the
replies. Before each collective the ranks meet at a non-blocking barrier, polled with
sleeps: MPI's blocking waits keep a core busy, which slowed the rank computing beside them
threefold on a 2-core machine. mpi4py is imported only in a process an MPI launcher
started (the `mpi` extra); NEURON is kept out of MPI (the cell runs on rank 0 alone).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .cli import EXIT_ERROR, EXIT_INTERRUPTED
from .errors import ConfigError, RankError

__all__ = [
    "Leader",
    "RankFailure",
    "Server",
    "launched",
    "leader",
    "leading",
    "raise_failures",
    "serve",
    "world",
]

#: Variables an MPI launcher sets in every process it starts (Open MPI, MPICH and Intel
#: MPI through PMI, PMIx launchers such as Slurm's srun, MVAPICH).
LAUNCHER_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMI_RANK", "PMIX_RANK")
#: Those of them that hold the number of ranks.
SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE")
#: Signals the serving ranks ignore: rank 0 handles them and tells the ranks when to stop.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: First and longest sleep (s) between two checks of a barrier other ranks have not reached.
POLL_MIN_S = 1e-5
POLL_MAX_S = 1e-3

# The kinds of message rank 0 scatters; every kind but EXIT is answered by a gather.
START, CALL, STOP, EXIT = "start", "call", "stop", "exit"


class Server(Protocol):
    """What a rank runs for rank 0: built by a START, then answers CALLs until a STOP."""

    def handle(self, request: Any) -> Any: ...

    def stop(self, request: Any) -> Any: ...


@dataclass(frozen=True)
class RankFailure:
    """A rank's reply when serving raised outside what its server reports itself."""

    rank: int
    message: str
    traceback_text: str


def launched() -> bool:
    """Whether an MPI launcher started this process."""
    return any(name in os.environ for name in (*LAUNCHER_VARIABLES, *SIZE_VARIABLES))


def _declared_size() -> int:
    """The number of ranks the launcher's variables give (1 when they give none)."""
    for name in SIZE_VARIABLES:
        with contextlib.suppress(KeyError, ValueError):
            return int(os.environ[name])
    return 1


def world() -> Any | None:
    """MPI's COMM_WORLD when an MPI launcher started more than one rank; None otherwise,
    without importing mpi4py where no launcher started this process."""
    if not launched():
        return None
    os.environ["NEURON_INIT_MPI"] = "0"  # NEURON would join MPI once mpi4py is imported
    try:
        from mpi4py import MPI
    except ImportError:
        size = _declared_size()
        if size > 1:
            expected = (
                f"mpi4py installed to run over its {size} ranks (pip install 'timescales[mpi]')"
            )
            raise ConfigError("MPI launcher", expected) from None
        return None
    comm = MPI.COMM_WORLD
    return comm if comm.Get_size() > 1 else None


def serve(comm: Any) -> int:
    """Serve rank 0 (on a rank > 0) until it says exit; the status it gives to exit with.

    Anything serving raises is caught and sent back as a `RankFailure` at the gather it
    owes, so that rank 0 never waits for a rank that gave up.
    """
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    server: Server | None = None
    rank = comm.Get_rank()
    while True:
        _arrive(comm)
        kind, payload = comm.scatter(None, root=0)
        if kind == EXIT:
            return int(payload)
        try:
            reply, server = _handle(kind, payload, server)
        except Exception as exc:
            reply = RankFailure(rank, f"{type(exc).__name__}: {exc}", traceback.format_exc())
        _reply(comm, reply, rank)


def _handle(kind: str, payload: Any, server: Server | None) -> tuple[Any, Server | None]:
    """The reply to one message, and the server afterwards."""
    if kind == START:
        factory, args = payload
        return None, factory(*args)
    if server is None:
        raise RankError(f"a {kind!r} message reached a rank that serves nothing")
    if kind == CALL:
        return server.handle(payload), server
    if kind == STOP:
        return server.stop(payload), None
    raise RankError(f"unknown message kind {kind!r}")


def _reply(comm: Any, reply: Any, rank: int) -> None:
    """Gather `reply`; one that cannot be sent (it does not pickle) goes as a failure."""
    _arrive(comm)
    try:
        comm.gather(reply, root=0)
    except Exception as exc:  # pickling fails before anything is sent
        failure = RankFailure(rank, f"cannot send the reply: {exc}", traceback.format_exc())
        comm.gather(failure, root=0)


class Leader:
    """Rank 0's end: starts a server on every other rank and exchanges rounds with them.

    A round is `send` (one scatter) then `collect` (one gather); a round may stay in
    flight between the two while rank 0 works on. Stop signals are held during each
    collective, so that a signal never leaves one half done.
    """

    def __init__(self, comm: Any) -> None:
        self.comm = comm
        self.rounds = 0
        #: Seconds spent in collectives: mostly waiting for the ranks to finish their work.
        self.wait_s = 0.0
        self.in_flight = False
        #: Whether the ranks run a server (one at a time: START to STOP).
        self.serving = False

    @property
    def ranks(self) -> range:
        """The ranks that serve (1..N-1)."""
        return range(1, self.comm.Get_size())

    def start(self, factory: Callable[..., Server], args: tuple[Any, ...]) -> None:
        """Build `factory(*args)` on every serving rank (one round); the ranks run one
        server at a time."""
        if self.serving:
            raise RankError("the ranks already run a server: stop it before starting another")
        self.send([(factory, args)] * len(self.ranks), START)
        self.serving = True
        raise_failures(self.collect())

    def send(self, requests: Sequence[Any], kind: str = CALL) -> None:
        """Scatter one request to each serving rank (in `ranks` order); the round before
        must have been collected."""
        if self.in_flight:
            raise RankError("a round is still in flight: collect its replies first")
        self._scatter(kind, list(requests))
        if kind == STOP:
            self.serving = False

    def collect(self) -> list[Any]:
        """The replies of the round in flight, one per serving rank (`RankFailure`s as they
        came); nothing when no round is in flight."""
        if not self.in_flight:
            return []
        start = time.perf_counter()
        with _held_signals():
            _arrive(self.comm)
            replies = self.comm.gather(None, root=0)
            self.in_flight = False
        self.wait_s += time.perf_counter() - start
        return replies[1:]

    def exit(self, status: int) -> None:
        """Let the serving ranks leave `serve` with `status`; if MPI itself fails here,
        abort the job (rank 0's files are closed by then)."""
        try:
            self.collect()
            with _held_signals():
                _arrive(self.comm)
                self.comm.scatter([(EXIT, status)] * self.comm.Get_size(), root=0)
        except Exception:
            self.comm.Abort(status or EXIT_ERROR)

    def _scatter(self, kind: str, payloads: list[Any]) -> None:
        start = time.perf_counter()
        with _held_signals():
            _arrive(self.comm)
            self.comm.scatter([(kind, None), *((kind, p) for p in payloads)], root=0)
            self.in_flight = True
            self.rounds += 1
        self.wait_s += time.perf_counter() - start


def raise_failures(replies: Sequence[Any]) -> None:
    """Raise the first `RankFailure` among `replies` as a RankError naming its rank."""
    for reply in replies:
        if isinstance(reply, RankFailure):
            error = RankError(f"rank {reply.rank}: {reply.message}")
            error.add_note(reply.traceback_text.rstrip())
            raise error


def _arrive(comm: Any) -> None:
    """Return once every rank of `comm` has come here, sleeping meanwhile (a non-blocking
    barrier polled with growing sleeps)."""
    request = comm.Ibarrier()
    pause_s = POLL_MIN_S
    while not request.Test():
        time.sleep(pause_s)
        pause_s = min(2.0 * pause_s, POLL_MAX_S)


@contextlib.contextmanager
def _held_signals() -> Iterator[None]:
    """Hold stop signals for the duration of the block (delivered when it ends)."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


_leader: Leader | None = None


def leader() -> Leader | None:
    """The leader of the ranks when this process is rank 0 of a run over MPI ranks."""
    return _leader


@contextlib.contextmanager
def leading(comm: Any | None) -> Iterator[Leader | None]:
    """Lead the other ranks for the duration of the block (nothing without `comm`); they
    exit with the command line's status: 0, or 2 after an error, 130 after an interrupt."""
    global _leader
    if comm is None:
        yield None
        return
    _leader = Leader(comm)
    status = EXIT_ERROR
    try:
        yield _leader
        status = 0
    except KeyboardInterrupt:
        status = EXIT_INTERRUPTED
        raise
    finally:
        done, _leader = _leader, None
        done.exit(status)
