"""The shipped contract suite run against the analytic fake adapters."""

from __future__ import annotations

import pytest

from timescales import Watch
from timescales.testing import LinearODE, QueuedLinearODE, StepSource
from timescales.testing.conformance import AdapterContract


class TestLinearODEContract(AdapterContract):
    @pytest.fixture
    def adapter(self) -> LinearODE:
        a = LinearODE(-0.1, b=1.0, x0=0.0, label="ode")
        a.initialize(0.0)
        return a

    @pytest.fixture
    def watch_spec(self) -> tuple[str, float, str]:
        return ("x", 5.0, "rising")

    @pytest.fixture
    def settable(self) -> tuple[str, float]:
        return ("u", 0.5)

    @pytest.fixture
    def changing(self) -> str:
        return "x"

    @pytest.fixture
    def series_input(self) -> tuple[str, float]:
        return ("u", 0.5)


class TestQueuedLinearODEContract(TestLinearODEContract):
    """The asynchronous fake: posted advances and writes run when a result is needed."""

    @pytest.fixture
    def adapter(self) -> QueuedLinearODE:
        a = QueuedLinearODE(-0.1, b=1.0, x0=0.0, label="queued")
        a.initialize(0.0)
        return a


class TestStepSourceContract(AdapterContract):
    span_ms = 15.0  # across the step at 10 ms

    @pytest.fixture
    def adapter(self) -> StepSource:
        a = StepSource([10.0, 20.0], [1.0, 0.0], label="steps")
        a.initialize(0.0)
        return a

    @pytest.fixture
    def watch_spec(self) -> tuple[str, float, str]:
        return ("value", 0.5, "rising")

    @pytest.fixture
    def changing(self) -> str:
        return "value"


def test_linear_ode_watch_is_exact() -> None:
    ode = LinearODE(-0.1, b=1.0, x0=0.0)
    ode.initialize(0.0)
    watch = Watch("x", 5.0)
    reached = ode.advance(100.0, [watch])
    # x(t) = 10 (1 - exp(-t/10)) reaches 5 at t = 10 ln 2
    assert reached.fired == (watch,)
    assert reached.t_ms == pytest.approx(10.0 * 0.6931471805599453, rel=1e-12)
