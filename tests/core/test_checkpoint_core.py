"""A scheduler checkpointed mid-window and resumed with new adapters ends where the
uninterrupted run ends (fake adapters with exact solutions; no simulator needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from timescales import checkpoint
from timescales.coupling import Copy, Coupling, Deadband, Endpoint, Flux, Window
from timescales.scheduler import Scheduler
from timescales.strategies import EventDriven
from timescales.testing import LinearODE, QueuedLinearODE, StepSource

PULSES = [(5.0 + 20.0 * i, 7.0 + 20.0 * i) for i in range(3)]
T_END = 70.0


def _system(slow_kind: type[LinearODE]) -> tuple[dict[str, object], list[Coupling]]:
    times = [t for pulse in PULSES for t in pulse]
    values = [1.0, 0.0] * len(PULSES)
    adapters = {
        "stim": StepSource(times, values, unit="mM/ms", label="stim"),
        "fast": LinearODE(-0.5, label="fast"),
        "slow": slow_kind(-0.02, unit="mmol", label="slow"),
    }
    couplings = [
        Coupling(Endpoint("stim", "value", "mM/ms"), Endpoint("fast", "u", "mM/ms")),
        Coupling(
            Endpoint("fast", "x", "mM"),
            Endpoint("slow", "u", "mmol/ms"),
            Flux(volume_l=1.0),
            Window(1e-9, settle_ms=3.0),
            name="flux",
        ),
        Coupling(
            Endpoint("slow", "x", "mmol"),
            Endpoint("fast", "v", "mM/ms"),
            Copy(0.01, "1/(ms*L)"),
            Deadband(rel_tol=1e-4),
            name="feedback",
        ),
    ]
    return adapters, couplings


def _strategy() -> EventDriven:
    return EventDriven(min_interval_ms=0.5, max_interval_ms=20.0, resolution_ms=0.25)


@pytest.mark.parametrize("slow_kind", [LinearODE, QueuedLinearODE])
def test_a_resumed_scheduler_ends_where_the_uninterrupted_one_does(
    tmp_path: Path, slow_kind: type[LinearODE]
) -> None:
    path = tmp_path / "run.checkpoint"
    adapters, couplings = _system(slow_kind)
    scheduler = Scheduler(adapters, couplings, _strategy())
    taken: list[float] = []

    def on_sync(t_ms: float) -> None:
        if not taken and t_ms > 26.0 and scheduler.open_windows():
            checkpoint.write(path, checkpoint.take(scheduler, {"note": "mid-window"}))
            taken.append(t_ms)

    scheduler.attach(on_sync=on_sync)
    stats = scheduler.run(T_END)
    assert taken, "no sync inside the second window"
    uninterrupted = {name: a.get("x") for name, a in adapters.items() if name != "stim"}

    fresh, _ = _system(slow_kind)
    for a in fresh.values():
        a.initialize(0.0)
    saved = checkpoint.read(path)
    assert saved.t_ms == taken[0]
    assert saved.extra == {"note": "mid-window"}
    resumed = checkpoint.restore(saved, fresh)
    assert resumed.open_windows() == 1
    again = resumed.run(T_END)
    assert {name: a.get("x") for name, a in fresh.items() if name != "stim"} == uninterrupted
    assert again.exchanges == stats.exchanges
    assert again.syncs == stats.syncs
    assert [(w.open_ms, w.close_ms, w.exchanges) for w in again.windows] == [
        (w.open_ms, w.close_ms, w.exchanges) for w in stats.windows
    ]


def test_a_checkpoint_needs_every_adapter_it_names(tmp_path: Path) -> None:
    adapters, couplings = _system(LinearODE)
    scheduler = Scheduler(adapters, couplings, _strategy())
    scheduler.run(10.0)
    saved = checkpoint.take(scheduler)
    fresh, _ = _system(LinearODE)
    del fresh["slow"]
    with pytest.raises(checkpoint.CheckpointError, match=r"adapters \['slow'\]"):
        checkpoint.restore(saved, fresh)


def test_a_file_that_is_no_checkpoint_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.checkpoint"
    path.write_bytes(b"not a pickle")
    with pytest.raises(checkpoint.CheckpointError, match="not a readable checkpoint"):
        checkpoint.read(path)
