"""The spine networks one MPI rank holds for rank 0 (`roadrunner_ranks`): each round's
operations run through the pool worker's `Worker`, as in a local worker process, and the
answers go back in the round's gather."""

from __future__ import annotations

import time
from typing import Any

from ._pool_worker import Message, Shared, Worker
from .roadrunner import keep_compiled
from .sbml_model import SBMLModel

#: A rank's reply to a round: the answers to its blocking operations (GATHER's among them),
#: then the rank's busy seconds so far.
Reply = tuple[list[tuple[Any, ...]], float]


class RankServer:
    """The instances of one model on one rank; built there by rank 0's START.

    The rank compiles the model itself and keeps that RoadRunner alive (`keep_compiled`):
    instances made after loading a state saved elsewhere (`loadStateS`, as the local pool's
    workers prime their cache) integrated 2.5 times slower in a process that had not
    compiled the model (libRoadRunner 2.10), and without a live compiled RoadRunner each
    instance compiles again as it materializes.
    """

    def __init__(self, model: SBMLModel, tolerances: tuple[float, float] | None) -> None:
        shared = Shared.local()
        start = time.perf_counter()
        keep_compiled(model)
        shared.busy_s.value += time.perf_counter() - start
        self._shared = shared
        self._worker = Worker(model, tolerances, shared)

    def handle(self, batch: list[Message]) -> Reply:
        """Run every operation of `batch`; the answers of its blocking ones."""
        worker = self._worker
        worker.accept(batch)
        answers = []
        while not worker.idle():
            answer = worker.step()
            if answer is not None:
                answers.append(answer)
        return answers, self._shared.busy_s.value

    def stop(self, batch: list[Message]) -> Reply:
        """The last round (it ends with a SHUTDOWN: every instance's last report); the rank
        drops this server, and with it every instance, afterwards."""
        return self.handle(batch)
