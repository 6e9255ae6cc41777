"""Checkpoints and resume: a run killed or stopped after a checkpoint, resumed, holds what
an uninterrupted run holds; a complete run extends; bad requests are one line."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import ROOT, assert_same_datasets, h5_datasets
from timescales.checkpoint import read
from timescales.cli import main

DEMO = ROOT / "examples" / "demo.toml"
DURATION_MS = "600"
EVERY_MS = "150"

pytestmark = [pytest.mark.neuron, pytest.mark.roadrunner]


def _timescales(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "timescales", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _run(out: Path, *extra: str) -> subprocess.Popen[str]:
    return _timescales(
        "run", str(DEMO), "-o", str(out), "--duration", DURATION_MS,
        "--checkpoint-ms", EVERY_MS, "--no-progress", *extra,
    )  # fmt: skip


def _finish(process: subprocess.Popen[str]) -> str:
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return err


def _wait_for_checkpoint(out: Path, process: subprocess.Popen[str]) -> float:
    """The time of the run's first checkpoint, once it is on disk."""
    path = out.with_name(out.name + ".checkpoint")
    deadline = time.monotonic() + 180
    while not path.exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return read(path).t_ms


def _assert_same(a: Path, b: Path, rtol: float) -> None:
    """Every dataset of `b` equals `a`'s (numbers within `rtol`), and the statistics'
    counts are the same."""
    assert_same_datasets(a, b, rtol)
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        sa, sb = json.loads(fa["stats"].attrs["json"]), json.loads(fb["stats"].attrs["json"])
        assert fb.attrs["status"] == "complete"
    for key in ("syncs", "exchanges", "t_start_ms", "t_end_ms"):
        assert sa[key] == sb[key], key


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The demo, shortened, run without interruption (checkpointing as the others do)."""
    out = tmp_path_factory.mktemp("reference") / "full.h5"
    _finish(_run(out))
    return out


def test_a_killed_run_resumes_to_the_uninterrupted_file(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "killed.h5"
    run = _run(out)
    first = _wait_for_checkpoint(out, run)
    time.sleep(1.0)
    run.kill()
    run.communicate(timeout=60)
    t_checkpoint = read(out.with_name(out.name + ".checkpoint")).t_ms  # a later one may be due
    assert t_checkpoint >= first
    with h5py.File(out, "r") as f:  # what a SIGKILL leaves: a readable file, still running
        assert f.attrs["status"] == "running"
        stats = json.loads(f["stats"].attrs["json"])
        assert stats["syncs"] > 0
        assert stats["t_end_ms"] >= 250.0
    err = _finish(_timescales("resume", str(out), "--no-progress"))
    assert f"resumed from the checkpoint at t = {t_checkpoint:g} ms" in err
    _assert_same(reference, out, rtol=1e-9)


def test_sigterm_writes_a_last_checkpoint_and_resume_completes(
    reference: Path, tmp_path: Path
) -> None:
    out = tmp_path / "stopped.h5"
    run = _run(out)
    first = _wait_for_checkpoint(out, run)
    time.sleep(2.0)
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 130
    assert "interrupted at t = " in err
    assert "Traceback" not in err
    stopped = read(out.with_name(out.name + ".checkpoint")).t_ms
    assert stopped > first
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "interrupted"
        assert f["biochem/time_ms"][-1] >= stopped
    _finish(_timescales("resume", str(out), "--no-progress"))
    # The stop's checkpoint restarts the spine network's integrator where the reference
    # did not: equal within the integrator's tolerance, not bitwise.
    with h5py.File(reference, "r") as fa, h5py.File(out, "r") as fb:
        assert fb.attrs["status"] == "complete"
        np.testing.assert_allclose(fb["biochem/weight"][-1], fa["biochem/weight"][-1], rtol=1e-5)
        np.testing.assert_allclose(fb["soma_v_mV"][()], fa["soma_v_mV"][()], rtol=1e-4, atol=1e-3)
        assert fb["windows/open_ms"].shape == fa["windows/open_ms"].shape


def test_a_complete_run_extends_with_until(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "extended.h5"
    shutil.copy(reference, out)
    shutil.copy(
        reference.with_name(reference.name + ".checkpoint"), tmp_path / (out.name + ".checkpoint")
    )
    _finish(_timescales("resume", str(out), "--until", "900", "--no-progress"))
    before, after = h5_datasets(reference), h5_datasets(out)
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "complete"
        assert f.attrs["until_ms"] == 900.0
    assert after["time_ms"][-1] == pytest.approx(900.0)
    n = len(before["time_ms"]) - 1  # the reference's last sample comes again, after its end
    np.testing.assert_array_equal(after["time_ms"][:n], before["time_ms"][:n])
    np.testing.assert_array_equal(after["soma_v_mV"][:n], before["soma_v_mV"][:n])
    k = len(before["biochem/time_ms"]) - 1
    np.testing.assert_array_equal(after["biochem/weight"][:k], before["biochem/weight"][:k])


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


def test_resume_without_a_checkpoint_is_one_line(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "none.h5"
    assert main(["resume", str(missing)]) == 2
    assert "no checkpoint (run with --checkpoint-ms)" in _one_line(capsys)


def test_a_complete_run_needs_until_past_its_end(reference: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "again.h5"
    shutil.copy(reference, out)
    shutil.copy(
        reference.with_name(reference.name + ".checkpoint"), tmp_path / (out.name + ".checkpoint")
    )
    assert main(["resume", str(out), "--no-progress"]) == 2
    assert "until_ms: expected a time past the end of this complete run" in _one_line(capsys)
    assert main(["resume", str(out), "--until", "100", "--no-progress"]) == 2
    assert "until_ms: expected a finite time after the checkpoint" in _one_line(capsys)
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "complete"


@pytest.mark.parametrize("every", ["0", "-5", "nan", "inf"])
def test_a_bad_checkpoint_interval_is_refused_before_building(
    tmp_path: Path, capsys, every: str
) -> None:
    out = tmp_path / "r.h5"
    assert main(["run", str(DEMO), "-o", str(out), "--checkpoint-ms", every]) == 2
    assert "checkpoint_ms: expected a finite interval > 0 (ms)" in _one_line(capsys)
    assert not out.exists()


def test_resume_refuses_a_changed_experiment(reference: Path, tmp_path: Path, capsys) -> None:
    changed = tmp_path / "demo.toml"
    text = DEMO.read_text().replace("deadband = 0.001", "deadband = 0.01")
    assert text != DEMO.read_text()
    changed.write_text(text)
    out = tmp_path / "r.h5"
    shutil.copy(reference, out)
    checkpoint = read(reference.with_name(reference.name + ".checkpoint"))
    checkpoint.extra["source"] = str(changed)
    from timescales.checkpoint import write

    write(tmp_path / (out.name + ".checkpoint"), checkpoint)
    assert main(["resume", str(out), "--until", "900", "--no-progress"]) == 2
    assert "changed since the run started" in _one_line(capsys)


def test_checkpoint_writes_are_atomic(tmp_path: Path) -> None:
    """A checkpoint replaces the last one whole: a write that fails leaves it and no
    temporary file behind."""
    from timescales.checkpoint import Checkpoint, write

    path = tmp_path / "r.h5.checkpoint"
    write(path, Checkpoint(1.0, {}, b""))

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write(path, Checkpoint(2.0, {"x": Unpicklable()}, b""))
    assert read(path).t_ms == 1.0
    assert os.listdir(tmp_path) == [path.name]
