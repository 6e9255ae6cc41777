"""Progress: a bar on a terminal with the open windows and exchanges; elsewhere one line per
simulated second; nothing with --no-progress."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from conftest import ROOT
from timescales.cli import main
from timescales.experiment.progress import ProgressBar, ProgressLog, progress_hook


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _feed(hook, start_ms: float, until_ms: float, step_ms: float) -> list[float]:
    """Call `hook` as a scheduler would, every `step_ms`, with 1 open window and 3 more
    exchanges each time; return the times it was called with."""
    times = []
    t = start_ms
    while t < until_ms:
        t = min(t + step_ms, until_ms)
        times.append(t)
        hook(t, until_ms, 1, 3 * len(times))
    return times


def test_a_terminal_gets_a_bar_with_windows_exchanges_and_time_left() -> None:
    stream = Terminal()
    hook = progress_hook(100.0, 2100.0, True, stream)
    assert isinstance(hook, ProgressBar)
    _feed(hook, 100.0, 2100.0, 37.0)
    hook.close()
    last = stream.getvalue().split("\r")[-1]
    assert re.search(
        r"simulated: 100%\|.*\| 2000/2000 \[\d\d:\d\d<00:00, .*windows=1, exchanges=\d+", last
    )


def test_elsewhere_one_line_per_simulated_second() -> None:
    stream = io.StringIO()
    hook = progress_hook(100.0, 2150.0, True, stream)
    assert isinstance(hook, ProgressLog)
    times = _feed(hook, 100.0, 2150.0, 37.0)
    lines = stream.getvalue().splitlines()
    # the first call past 1100 ms and past 2100 ms (one and two simulated seconds), the end
    logged = [next(t for t in times if t >= 1100.0), next(t for t in times if t >= 2100.0), 2150.0]
    assert [line.split(" of ")[0] for line in lines] == [f"simulated {t:.0f}" for t in logged]
    assert lines[-1].startswith(
        f"simulated 2150 of 2150 ms (100 %), 1 open windows, {3 * len(times)} exchanges"
    )
    assert lines[-1].endswith(" 0 s left")


def test_no_progress_is_none() -> None:
    assert progress_hook(0.0, 10.0, False, Terminal()) is None


@pytest.mark.neuron
@pytest.mark.roadrunner
def test_a_run_whose_output_is_not_a_terminal_logs_lines(tmp_path: Path, capsys) -> None:
    out = tmp_path / "demo.h5"
    assert (
        main(["run", str(ROOT / "examples" / "demo.toml"), "-o", str(out), "--duration", "1000"])
        == 0
    )
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith("simulated 1100 of 1100 ms (100 %), ")
