"""The README's examples run as written, and its quick start has two one-line commands."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)
#: The demo's first input is at 250 ms and reaches the synapse 1 ms later (the NetCon delay).
DEMO_FIRST_ARRIVAL_MS = 251.0
#: The hand-written coupling's train: start 100 ms, 20 Hz, so its first input is at 150 ms.
HAND_FIRST_ARRIVAL_MS = 151.0

#: What each example leaves in its namespace, printed as JSON after it ran.
REPORTS = [
    "print(json.dumps({'weights': result.final_weights(), 'exchanges': result.stats.n_exchanges,"
    " 'windows': [w.open_ms for w in result.stats.windows], 'file': str(result.path)}))",
    "print(json.dumps({'weight': cell.get('spine1.weight'), 'exchanges': stats.n_exchanges,"
    " 'windows': [w.open_ms for w in stats.windows]}))",
]


def test_quick_start_is_two_one_line_commands() -> None:
    section = README.split("## Quick start", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.S)
    assert block is not None
    lines = block.group(1).strip().splitlines()
    assert len(lines) == 2
    assert "timescales demo" in lines[0]
    assert "pytest" in lines[1]


def _run(tmp_path: Path, index: int) -> dict:
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    script = tmp_path / "example.py"
    script.write_text(f"import json\n{BLOCKS[index]}\n{REPORTS[index]}\n")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_python_block_is_checked() -> None:
    assert len(BLOCKS) == len(REPORTS)


@pytest.mark.neuron
@pytest.mark.roadrunner
def test_experiment_example_writes_a_file_and_the_weight_rises(tmp_path: Path) -> None:
    got = _run(tmp_path, 0)
    assert (tmp_path / Path(got["file"]).name).exists()
    # the demo stimulates spine 1 only; its window opens as the first input arrives
    assert list(got["weights"]) == ["1"]
    assert got["weights"]["1"] > 1.0
    assert DEMO_FIRST_ARRIVAL_MS < got["windows"][0] < DEMO_FIRST_ARRIVAL_MS + 2.0
    assert got["exchanges"] > len(got["windows"])


@pytest.mark.neuron
@pytest.mark.roadrunner
def test_hand_written_coupling_example_raises_the_stimulated_weight(tmp_path: Path) -> None:
    got = _run(tmp_path, 1)
    assert got["weight"] > 1.0
    assert HAND_FIRST_ARRIVAL_MS < got["windows"][0] < HAND_FIRST_ARRIVAL_MS + 2.0
    assert got["exchanges"] > len(got["windows"])
