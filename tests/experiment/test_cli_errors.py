"""What a user sees when something goes wrong: one line naming the file and key, a non-zero
exit, no traceback; checks before anything is built; stop signals end a run cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import pytest

from conftest import ROOT
from timescales.cli import main

DEMO = ROOT / "examples" / "demo.toml"


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("duration", ["inf", "nan", "-5", "0", "2500"])
def test_a_duration_outside_the_experiment_is_refused_before_building(
    tmp_path: Path, capsys, duration: str
) -> None:
    start = time.perf_counter()
    code = main(["run", str(DEMO), "-o", str(tmp_path / "x.h5"), "--duration", duration])
    assert code == 2
    line = _one_line(capsys)
    assert (
        "demo.toml: duration_ms: expected a duration > 0 and at most the experiment's 2000 ms"
        in line
    )
    assert time.perf_counter() - start < 5.0  # nothing was built or equilibrated
    assert not (tmp_path / "x.h5").exists()


def test_an_existing_output_and_the_experiment_itself_are_refused(tmp_path: Path, capsys) -> None:
    out = tmp_path / "x.h5"
    out.write_bytes(b"keep")
    assert main(["run", str(DEMO), "-o", str(out)]) == 2
    assert "output: expected a path that does not exist yet (or --overwrite)" in _one_line(capsys)
    assert out.read_bytes() == b"keep"
    copy = tmp_path / "demo.toml"
    copy.write_text(DEMO.read_text())
    assert main(["run", str(copy), "-o", str(copy), "--overwrite"]) == 2
    assert "a results file other than the experiment" in _one_line(capsys)
    assert copy.read_text() == DEMO.read_text()


@pytest.mark.parametrize("content", [b"\x00\x01\xff\xfe binary", "[experiment]".encode("utf-16")])
def test_a_file_that_is_not_text_names_the_file(tmp_path: Path, capsys, content: bytes) -> None:
    path = tmp_path / "odd.toml"
    path.write_bytes(content)
    assert main(["validate", str(path)]) == 2
    assert "odd.toml: file: a UTF-8 text file (TOML), got bytes that are not UTF-8" in _one_line(
        capsys
    )


def test_plot_of_something_that_is_not_results_is_one_line(tmp_path: Path, capsys) -> None:
    text = tmp_path / "notes.h5"
    text.write_text("not HDF5")
    assert main(["plot", str(text)]) == 2
    assert "notes.h5" in _one_line(capsys)
    assert main(["plot", str(tmp_path)]) == 2
    _one_line(capsys)


def test_a_long_list_of_problems_is_capped(tmp_path: Path, capsys) -> None:
    spines = ", ".join(str(n) for n in range(2000, 2200))
    path = tmp_path / "many.toml"
    path.write_text(DEMO.read_text().replace("spines = [1]", f"spines = [{spines}]"))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 21
    assert lines[-1] == "many.toml: and 180 more problems"


@pytest.mark.roadrunner
def test_output_closed_early_ends_quietly(tmp_path: Path) -> None:
    """Validating the demo loads its SBML model, hence the marker."""
    done = subprocess.run(
        f"{sys.executable} -m timescales validate {DEMO} | head -1",
        shell=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in done.stderr
    assert done.stdout.startswith("experiment 'demo'")


def _wait_for_rows(out: Path, run: subprocess.Popen[str]) -> None:
    """Wait until the run has written samples of its coupled period (however loaded the
    machine is: the equilibrations before it take a varying time). The file is read
    without locking while the run writes it; a read that catches it mid-write is retried."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert run.poll() is None, run.communicate()[1]
        try:
            with h5py.File(out, "r", locking=False) as f:
                if f["time_ms"].shape[0] > 0:
                    return
        except (OSError, KeyError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"{out}: no samples after 300 s")


@pytest.mark.neuron
@pytest.mark.roadrunner
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_ends_a_run_like_ctrl_c(tmp_path: Path, stop: signal.Signals) -> None:
    out = tmp_path / "stopped.h5"
    run = subprocess.Popen(
        [sys.executable, "-m", "timescales", "run", str(DEMO), "-o", str(out), "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    _wait_for_rows(out, run)
    os.kill(run.pid, stop)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 130
    assert "Traceback" not in err
    assert "interrupted at t = " in err
    assert str(out) in err
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "interrupted"
        assert f["time_ms"].shape[0] > 0


@pytest.mark.neuron
@pytest.mark.roadrunner
def test_a_second_writer_of_a_file_being_written_is_refused(tmp_path: Path, capsys) -> None:
    out = tmp_path / "shared.h5"
    first = subprocess.Popen(
        [sys.executable, "-m", "timescales", "run", str(DEMO), "-o", str(out), "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert main(["run", str(DEMO), "-o", str(out), "--overwrite"]) == 2
    assert "output: expected a file no other run is writing" in _one_line(capsys)
    os.kill(first.pid, signal.SIGTERM)
    first.communicate(timeout=120)
    with h5py.File(out, "r") as f:  # the first run's file, intact
        assert f.attrs["status"] == "interrupted"
        assert f["time_ms"].shape[0] == f["spines/calcium_mM"].shape[0]
