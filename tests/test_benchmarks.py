"""Each benchmark script runs once on its smallest case and writes its table.

These keep the scripts working; they assert the outputs' shape and counts, never timings
(timings live in benchmarks/RESULTS.md).
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

BENCH = ROOT / "benchmarks"
pytestmark = [pytest.mark.neuron, pytest.mark.roadrunner]


def _run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_compare_strategies_on_the_first_inputs_of_the_demo(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    text = _run(
        "compare_strategies.py",
        str(ROOT / "examples" / "demo.toml"),
        "--out",
        str(out),
        "--until",
        "170",  # after the 100 ms equilibration, to 270 ms: the input at 250 ms opens a window
        "--strategies",
        "fixed-10ms,event",
    )
    rows = _rows(out / "strategies.csv")
    assert [r["strategy"] for r in rows] == ["fixed-10ms", "event"]
    for column in ("wall_s", "exchanges", "max_weight_rel_error", "peak_rss_mb"):
        assert column in rows[0]
    assert (out / "strategies.md").exists()
    assert (out / "error_vs_cost.png").exists()
    assert all(int(float(r["exchanges"])) > 0 for r in rows)
    assert "| fixed-10ms |" in text


def test_scaling_on_the_two_spine_cell(tmp_path: Path) -> None:
    out = tmp_path / "scaling"
    _run("scaling.py", "--out", str(out), "--until", "200", "--sizes", "two")
    (row,) = _rows(out / "scaling.csv")
    assert row["layout"] == "two"
    assert row["spines"] == "2"
    assert float(row["coupled_run_s"]) > 0
    assert float(row["electrical_run_s"]) > 0
    assert (out / "scaling.png").exists()


def test_flagship_script_on_the_demo(tmp_path: Path) -> None:
    out = tmp_path / "flagship"
    demo = str(ROOT / "examples" / "demo.toml")
    text = _run("flagship.py", "--experiment", demo, "--out", str(out), "--until", "170")
    (row,) = _rows(out / "flagship.csv")
    assert float(row["simulated_ms"]) == 170.0
    # one calcium coupling: FixedInterval(1 ms) would exchange once per simulated ms
    assert int(row["fixed_1ms_calcium_exchanges"]) == 170
    assert 0 < int(row["calcium_exchanges"]) < 170
    assert "| peak_memory_mb |" in text
