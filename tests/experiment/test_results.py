"""Results files: a round trip returns what was written, and a writer killed mid-run
leaves a file that h5py alone opens, with the flushed blocks and status "running"."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import ROOT
from timescales import ConfigError, TimescalesError
from timescales.adapter import AdapterStats
from timescales.experiment import load_experiment
from timescales.results import FORMAT, Results, ResultsWriter, provenance
from timescales.scheduler import RunStats, WindowRecord

DEMO = ROOT / "examples" / "demo.toml"


def _blocks(n_blocks: int, rows: int = 50, spines: int = 2):
    for b in range(n_blocks):
        t = np.arange(b * rows, (b + 1) * rows, dtype=float)
        yield t, -80.0 + np.sin(t), np.outer(1e-4 * (1 + t), np.arange(1, spines + 1))


def test_round_trip(tmp_path: Path) -> None:
    spec = load_experiment(DEMO)
    path = tmp_path / "r.h5"
    windows = [
        WindowRecord("first", 250.0, 283.0, 12, 1.5e4),
        WindowRecord("ca2", 300.0),
        WindowRecord("other", 310.0, 320.0),
    ]
    stats = RunStats("event(series, rtol=0.001)", 100.0, 2100.0, 4.5, 17, {"ca1": 12})
    stats.windows = windows
    stats.adapters = {"roadrunner": AdapterStats(n_advance=40, wall_s=0.5)}
    with ResultsWriter(
        path,
        spec.to_dict(),
        provenance("timescales run demo.toml"),
        spines=[1, 2],
        biochem_spines=[1, 2],
    ) as w:
        written = list(_blocks(3))
        for t, v, ca in written:
            w.append_samples(t, v, ca)
        w.append_biochem(250.0, np.array([5.0, np.nan]), np.array([1.0, np.nan]))
        w.append_biochem(260.0, np.array([7.0, np.nan]), np.array([10.0, np.nan]))
        w.set_clipped([1, 0])
        w.write_windows(windows, {"first": 1, "ca2": 2})
        w.write_stats(stats)
    r = Results.open(path)
    assert r.status == "complete"
    assert r.experiment == json.loads(json.dumps(spec.to_dict()))
    assert r.provenance["command"] == "timescales run demo.toml"
    assert set(r.provenance["packages"]) >= {"timescales", "numpy", "h5py", "neuron"}
    np.testing.assert_array_equal(r.time_ms, np.concatenate([b[0] for b in written]))
    np.testing.assert_array_equal(r.soma_v_mV, np.concatenate([b[1] for b in written]))
    np.testing.assert_array_equal(r.calcium_mM, np.vstack([b[2] for b in written]))
    np.testing.assert_array_equal(r.spines, [1, 2])
    np.testing.assert_array_equal(r.biochem_time_ms, [250.0, 260.0])
    np.testing.assert_array_equal(r.output, [[5.0, np.nan], [7.0, np.nan]])
    np.testing.assert_array_equal(r.weight[:, 0], [1.0, 10.0])
    np.testing.assert_array_equal(r.clipped_weights, [1, 0])
    np.testing.assert_array_equal(r.windows["spine"], [1, 2, -1])
    np.testing.assert_array_equal(r.windows["close_ms"], [283.0, np.nan, 320.0])
    assert list(r.windows["coupling"]) == ["first", "ca2", "other"]
    assert r.stats["syncs"] == 17
    assert r.stats["exchanges"] == {"ca1": 12}
    assert "windows" not in r.stats
    assert r.stats["adapters"]["roadrunner"]["n_advance"] == 40
    assert r.stimulus_times_ms() == spec.stimulus_times_ms()


def test_exception_marks_interrupted_and_existing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.h5"

    def interrupted_run() -> None:
        with ResultsWriter(path, {}, {}) as w:
            w.append_samples(np.arange(3.0), None, None)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted_run()
    r = Results.open(path)
    assert r.status == "interrupted"
    assert np.isnan(r.soma_v_mV).all()
    assert r.calcium_mM.shape == (3, 0)
    with pytest.raises(ConfigError, match="does not exist yet"):
        ResultsWriter(path, {}, {})
    ResultsWriter(path, {}, {}, overwrite=True).close()
    assert Results.open(path).time_ms.shape == (0,)


@pytest.mark.parametrize(
    ("raised", "status"), [(KeyboardInterrupt, "interrupted"), (RuntimeError, "failed")]
)
def test_a_writer_stopped_while_creating_its_file_marks_it_and_lets_it_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raised: type, status: str
) -> None:
    path = tmp_path / "r.h5"

    def stop(self: ResultsWriter) -> None:
        raise raised

    monkeypatch.setattr(ResultsWriter, "_create_windows", stop)
    with pytest.raises(raised):
        ResultsWriter(path, {"experiment": {"name": "x"}}, {}, spines=[3])
    with h5py.File(path, "r") as f:  # closed, so another process may read it
        assert f.attrs["status"] == status
    monkeypatch.undo()
    ResultsWriter(path, {}, {}, overwrite=True).close()  # the writer's lock was released
    assert Results.open(path).status == "complete"


def test_shape_mismatch_is_an_error(tmp_path: Path) -> None:
    w = ResultsWriter(tmp_path / "r.h5", {}, {}, spines=[1, 2])
    with pytest.raises(TimescalesError, match=r"calcium of shape \(2, 2\)"):
        w.append_samples(np.arange(2.0), np.zeros(2), np.zeros((2, 3)))
    with pytest.raises(TimescalesError, match=r"output and weight of shape \(0,\)"):
        w.append_biochem(1.0, np.ones(1), np.ones(1))
    w.close()
    assert Results.open(tmp_path / "r.h5").time_ms.shape == (0,)


@pytest.mark.parametrize("how", ["os._exit", "SIGKILL"])
def test_killed_writer_leaves_a_readable_file(tmp_path: Path, how: str) -> None:
    path = tmp_path / "killed.h5"
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        import numpy as np
        from timescales.results import ResultsWriter
        w = ResultsWriter({str(path)!r}, {{"experiment": {{"name": "k"}}}}, {{"host": "h"}},
                          spines=[7], biochem_spines=[7])
        for b in range(4):
            t = np.arange(b * 100, (b + 1) * 100, dtype=float)
            w.append_samples(t, -70.0 + 0 * t, 1e-4 + 0 * t[:, None])
            w.append_biochem(float(t[-1]), np.array([b + 1.0]), np.array([1.0]))
            w.flush()
        print("written", flush=True)
        if {how!r} == "os._exit":
            os._exit(3)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HDF5_USE_FILE_LOCKING": "FALSE"},
    )
    assert "written" in done.stdout, done.stderr
    assert done.returncode in (3, -signal.SIGKILL)
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == FORMAT
        assert f.attrs["status"] == "running"
        np.testing.assert_array_equal(f["time_ms"][()], np.arange(400.0))
        assert f["spines/calcium_mM"].shape == (400, 1)
        np.testing.assert_array_equal(f["biochem/output"][:, 0], [1.0, 2.0, 3.0, 4.0])
    assert Results.open(path).status == "running"
