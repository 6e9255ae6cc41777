"""The guides in docs/ run as written: their files are written, their commands run, their
checks pass."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

GUIDE = (ROOT / "docs" / "bring-your-own-cell.md").read_text()
FILES = re.findall(r"```\w+ (\S+)\n(.*?)```", GUIDE, re.S)
COMMANDS = re.findall(r"```console\n(.*?)```", GUIDE, re.S)


@pytest.mark.neuron
@pytest.mark.roadrunner
def test_bring_your_own_cell_runs_as_written(tmp_path: Path) -> None:
    for name, text in FILES:
        (tmp_path / name).write_text(text)
    bin_dir = Path(sys.executable).parent
    for line in "".join(COMMANDS).splitlines():
        done = subprocess.run(
            [str(bin_dir / line.split()[0]), *line.split()[1:]],
            cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
    done = subprocess.run(
        [sys.executable, "read.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_guide_has_its_files_and_commands() -> None:
    assert [name for name, _ in FILES] == ["ball_and_stick.py", "ball_and_stick.toml", "read.py"]
    assert len("".join(COMMANDS).splitlines()) == 2
