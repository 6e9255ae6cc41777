"""The README's examples run as written, shortened, and their results agree with what the
stimulus protocol implies; its quick start has two one-line commands.

The facts checked come from the study, not from our output (`../shared/reference`):
inputs of a train with period P starting at t0 are at t0 + k*P, k = 1..count, and reach the
synapse 1 ms later through a NetCon of weight 1 (spines.md 4.2, 4.3); calcium from a
stimulated spine raises AMPAR_P, and the weight is AMPAR_P over its value at rest
(biochemistry.md 6); a spine that is not coupled keeps its weight of 1.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import h5py
import pytest

from conftest import ROOT

README = (ROOT / "README.md").read_text()
LIBRARY = README.split("\n## Library\n", 1)[1].split("\n## ", 1)[0]
BLOCKS = re.findall(r"```python\n(.*?)```", LIBRARY, re.S)
DEMO = tomllib.loads((ROOT / "examples" / "demo.toml").read_text())
#: The NetCon delay between an input and its arrival at the synapse (spines.md 4.3).
DELAY_MS = 1.0
#: How soon after an input's arrival spine calcium crosses a window's level (it rises
#: within the first time steps after the AMPA and NMDA events).
OPENS_WITHIN_MS = 2.0
#: Simulated time of the shortened experiment example (after the cell's 100 ms equilibration):
#: three of the demo's inputs arrive, at 251, 301 and 351 ms, enough for the weight to move
#: by more than its dead band of 1e-3.
EXPERIMENT_MS = 300.0
#: End of the shortened hand-written example: three of its inputs arrive, at 151, 201, 251 ms.
HAND_UNTIL_MS = 300.0

#: What each example leaves in its namespace, printed as JSON after it ran.
REPORTS = [
    "print(json.dumps({'weights': result.final_weights(), 'exchanges': result.stats.n_exchanges,"
    " 'windows': [w.open_ms for w in result.stats.windows], 'file': str(result.path)}))",
    "print(json.dumps({'weight': cell.get('spine1.weight'), 'neighbour': cell.get('spine2.weight'),"
    " 'exchanges': stats.exchanges, 'windows': [w.open_ms for w in stats.windows]}))",
]


def _shortened(code: str, ms: float) -> str:
    """`code` with the length given to its one `.run(...)` call (the first number) set to `ms`."""
    short, n = re.subn(r"(\.run\((?:[^()]*?\w+\s*=\s*)?)\d[\d_]*(?:\.\d*)?", rf"\g<1>{ms}", code)
    assert n == 1, f"expected one .run(...) call with a length in:\n{code}"
    return short


def _arrivals(start_ms: float, rate_hz: float, count: int, end_ms: float) -> list[float]:
    """Times the inputs of a train reach the synapse before `end_ms` (spines.md 4.2, 4.3)."""
    times = (start_ms + k * 1000.0 / rate_hz + DELAY_MS for k in range(1, count + 1))
    return [t for t in times if t < end_ms]


def _check_windows(opened: list[float], arrivals: list[float]) -> None:
    """Windows open only as inputs arrive, at most one per input, the first at the first."""
    assert 1 <= len(opened) <= len(arrivals)
    assert arrivals[0] <= opened[0] < arrivals[0] + OPENS_WITHIN_MS
    for t in opened:
        assert any(a <= t < a + OPENS_WITHIN_MS for a in arrivals), (t, arrivals)


def _run(tmp_path: Path, index: int, ms: float) -> dict:
    """Run example `index`, shortened to `ms`, in its own process (NEURON is per process)."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    script = tmp_path / "example.py"
    script.write_text(f"import json\n{_shortened(BLOCKS[index], ms)}\n{REPORTS[index]}\n")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_quick_start_is_two_one_line_commands() -> None:
    section = README.split("## Quick start", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.S)
    assert block is not None
    lines = block.group(1).strip().splitlines()
    assert len(lines) == 2
    assert "timescales demo" in lines[0]
    assert "pytest" in lines[1]


def test_every_library_example_is_checked_and_can_be_shortened() -> None:
    assert len(BLOCKS) == len(REPORTS) == 2
    for block in BLOCKS:
        assert "1.5" in _shortened(block, 1.5)


@pytest.mark.neuron
@pytest.mark.roadrunner
def test_experiment_example_writes_a_file_and_the_weight_rises(tmp_path: Path) -> None:
    got = _run(tmp_path, 0, EXPERIMENT_MS)
    [stimulus] = DEMO["stimulus"]
    end_ms = DEMO["cell"]["equilibration_ms"] + EXPERIMENT_MS
    arrivals = _arrivals(stimulus["start_ms"], stimulus["rate_hz"], stimulus["count"], end_ms)
    assert len(arrivals) == 3
    # one instance per stimulated spine; the stimulated spine's weight rises
    assert sorted(map(int, got["weights"])) == stimulus["spines"]
    assert all(w > 1.0 for w in got["weights"].values())
    _check_windows(got["windows"], arrivals)
    assert got["exchanges"] >= len(got["windows"])
    with h5py.File(tmp_path / got["file"], "r") as f:
        assert f.attrs["status"] == "complete"
        assert f["time_ms"][-1] == pytest.approx(end_ms)
        assert list(f["windows/open_ms"][()]) == got["windows"]
        assert len(f["exchanges/time_ms"]) == got["exchanges"]


@pytest.mark.neuron
@pytest.mark.roadrunner
def test_hand_written_coupling_example_raises_the_stimulated_weight(tmp_path: Path) -> None:
    train = re.search(
        r"stimulate_train\(\[1\], start_ms=(\d+), rate_hz=(\d+), count=(\d+)\)", BLOCKS[1]
    )
    assert train is not None
    start_ms, rate_hz, count = map(int, train.groups())
    arrivals = _arrivals(start_ms, rate_hz, count, HAND_UNTIL_MS)
    assert len(arrivals) == 3
    got = _run(tmp_path, 1, HAND_UNTIL_MS)
    assert got["weight"] > 1.0
    assert got["neighbour"] == 1.0
    _check_windows(got["windows"], arrivals)
    exchanges = got["exchanges"]
    calcium = sum(n for label, n in exchanges.items() if ".ca" in label)
    weight = sum(n for label, n in exchanges.items() if "AMPAR_P" in label)
    assert calcium >= len(got["windows"])
    assert weight >= 1  # the weight moved off 1, so it was sent
    assert calcium + weight == sum(exchanges.values())
