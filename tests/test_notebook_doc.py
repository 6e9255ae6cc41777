"""docs/notebook.md runs as written against a short demo, and what it computes is what the
HDF5 file holds (read here with h5py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import ROOT

DOC = (ROOT / "docs" / "notebook.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", DOC, re.S)
COMMANDS = re.findall(r"```console\n(.*?)```", DOC, re.S)
#: The demo's run up to 500 ms: five inputs of its train, and their windows.
DURATION_MS = 400
#: The demo's train: 30 inputs at 20 Hz, one period after 200 ms (examples/demo.toml).
TRAIN_MS = [200.0 + 50.0 * k for k in range(1, 31)]


def test_the_doc_shows_the_demo_command_and_its_blocks() -> None:
    assert COMMANDS == ["pip install 'timescales[notebook]'\ntimescales demo\n"]
    assert len(BLOCKS) == 6


@pytest.mark.neuron
@pytest.mark.roadrunner
def test_the_notebook_doc_runs_on_a_short_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip(
        "xarray", reason="xarray is not installed (pip install 'timescales[notebook]')"
    )
    pytest.importorskip(
        "pandas", reason="pandas is not installed (pip install 'timescales[notebook]')"
    )
    timescales = Path(sys.executable).parent / "timescales"
    done = subprocess.run(
        [str(timescales), "demo", "--duration", str(DURATION_MS), "--no-progress"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    names: dict[str, object] = {}
    for block in BLOCKS:
        exec(compile(block, "docs/notebook.md", "exec"), names)
    with h5py.File(tmp_path / "timescales-demo" / "demo.h5", "r") as f:
        t = f["time_ms"][()]
        column = f["spines/numbers"][()].tolist().index(1)
        ca_uM = f["spines/calcium_mM"][:, column] * 1e3
        weights = f["biochem/weight"][:, f["biochem/spines"][()].tolist().index(1)]
        ex_t = f["exchanges/time_ms"][()]
        ex_c = f["exchanges/coupling"].asstr()[()]
        opened = f["windows/open_ms"][()]
    inputs = [s for s in TRAIN_MS if s + 50 <= t[-1]]
    assert names["inputs_ms"] == inputs
    expected = [ca_uM[(t >= s) & (t <= s + 50)].max() for s in inputs]
    np.testing.assert_allclose(names["peaks_uM"], expected, rtol=1e-12)
    finite = weights[np.isfinite(weights)]
    assert (names["first"], names["last"]) == (finite[0], finite[-1])
    np.testing.assert_array_equal(names["windows"]["open_ms"].to_numpy(), opened)
    np.testing.assert_allclose(names["intervals_ms"].to_numpy(), np.diff(ex_t[ex_c == "ca1"]))
