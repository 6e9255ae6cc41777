"""Each benchmark script runs once on its smallest case and writes its table.

These keep the scripts working; they assert the outputs' shape and counts, never timings
(timings live in benchmarks/RESULTS.md).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
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


DEMO = str(ROOT / "examples" / "demo.toml")
# after the 100 ms equilibration, to 270 ms: the input at 250 ms opens a window
DURATION_MS = "170"


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("bench") / "demo"
    text = _run(
        "compare_strategies.py",
        *(DEMO, "--out", str(out), "--duration", DURATION_MS, "--strategies", "fixed-10ms,event"),
    )
    return out, text


REUSE_BOTH = ("--strategies", "fixed-10ms,event", "--reuse", "fixed-10ms,event")


def _compare(*args: str, experiment: str = DEMO) -> subprocess.CompletedProcess[str]:
    script = str(BENCH / "compare_strategies.py")
    return subprocess.run(
        [sys.executable, script, experiment, *args], capture_output=True, text=True, timeout=900
    )


def test_compare_strategies_on_the_first_inputs_of_the_demo(compared: tuple[Path, str]) -> None:
    out, text = compared
    rows = _rows(out / "strategies.csv")
    assert [r["strategy"] for r in rows] == ["fixed-10ms", "event"]
    for column in ("wall_s", "exchanges", "max_weight_rel_error", "peak_rss_mb"):
        assert column in rows[0]
    assert (out / "strategies.md").exists()
    assert (out / "error_vs_cost.png").exists()
    assert all(int(float(r["exchanges"])) > 0 for r in rows)
    assert "| fixed-10ms |" in text


def test_reused_strategies_are_read_back_not_run_again(compared: tuple[Path, str]) -> None:
    out, _ = compared
    before = _rows(out / "strategies.csv")
    h5_written = (out / "event.h5").stat().st_mtime_ns
    done = _compare("--out", str(out), "--duration", DURATION_MS, *REUSE_BOTH)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "bench: " not in done.stdout  # nothing was run
    assert (out / "event.h5").stat().st_mtime_ns == h5_written
    assert _rows(out / "strategies.csv") == before
    assert "From an earlier run" in (out / "strategies.md").read_text()


def test_a_reused_run_that_ends_elsewhere_is_refused_before_anything_runs(
    compared: tuple[Path, str],
) -> None:
    out, _ = compared
    table = (out / "strategies.csv").read_text()
    done = _compare("--out", str(out), "--duration", "160", "--reuse", "event")
    assert done.returncode == 2
    assert "event.h5: biochem/time_ms" in done.stderr
    assert "ends at 260 ms" in done.stderr
    assert "Traceback" not in done.stderr
    assert "bench: " not in done.stdout
    assert (out / "strategies.csv").read_text() == table


def test_a_reused_run_of_another_experiment_is_refused(
    compared: tuple[Path, str], tmp_path: Path
) -> None:
    out, _ = compared
    changed = tmp_path / "demo.toml"
    text = Path(DEMO).read_text()
    changed.write_text(text.replace("threshold_mM = 5e-5", "threshold_mM = 6e-5"))
    done = _compare(
        "--out", str(out), "--duration", DURATION_MS, "--reuse", "event", experiment=str(changed)
    )
    assert done.returncode == 2
    assert "event.h5: experiment." in done.stderr
    assert "Traceback" not in done.stderr


def test_a_reused_run_whose_experiment_cannot_be_read_is_refused(
    compared: tuple[Path, str], tmp_path: Path
) -> None:
    out = tmp_path / "copy"
    shutil.copytree(compared[0], out)
    with h5py.File(out / "event.h5", "r+") as f:
        stored = json.loads(f.attrs["experiment"])
        stored["coupling"]["mode"] = "telepathy"
        f.attrs["experiment"] = json.dumps(stored)
    done = _compare("--out", str(out), "--duration", DURATION_MS, "--reuse", "event")
    assert done.returncode == 2
    assert "event.h5: experiment: expected an experiment this version" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_strategy_is_named_with_the_valid_ones() -> None:
    done = _compare("--strategies", "event,evnt")
    assert done.returncode == 2
    assert "--strategies: expected strategies among lockstep" in done.stderr
    assert "got 'evnt'" in done.stderr
    assert "Traceback" not in done.stderr


def test_scaling_on_the_two_spine_cell(tmp_path: Path) -> None:
    out = tmp_path / "scaling"
    _run("scaling.py", "--out", str(out), "--duration", "200", "--sizes", "two")
    (row,) = _rows(out / "scaling.csv")
    assert row["layout"] == "two"
    assert row["spines"] == "2"
    assert float(row["coupled_run_s"]) > 0
    assert float(row["electrical_run_s"]) > 0
    assert (out / "scaling.png").exists()


def test_scaling_repeats_alternate_and_give_medians(tmp_path: Path) -> None:
    out = tmp_path / "scaling"
    args = ("--duration", "200", "--sizes", "two", "--modes", "electrical,coupled")
    _run("scaling.py", "--out", str(out), *args, "--repeat", "3")
    (row,) = _rows(out / "scaling.csv")
    ratios = [float(r) for r in row["ratios"].split()]
    assert len(ratios) == 3
    median = float(row["coupled_over_electrical"])
    assert median == pytest.approx(sorted(ratios)[1], abs=5e-4)  # ratios: 3 decimals
    assert "biochemistry_run_s" not in row


def test_scaling_sends_the_calcium_at_the_resolution_asked(tmp_path: Path) -> None:
    out = tmp_path / "scaling"
    args = ("--duration", "200", "--sizes", "two", "--modes", "coupled", "--resolution", "2")
    _run("scaling.py", "--out", str(out), *args)
    with h5py.File(out / "two_coupled.h5") as f:
        experiment = json.loads(f.attrs["experiment"])
    assert experiment["coupling"]["resolution_ms"] == 2.0


def test_spine_network_input_pieces_add_up_to_the_calcium(tmp_path: Path) -> None:
    """One input: exchanges of 1, 2, 4, 8, 16 and 19 ms, so 50 pieces of 1 ms or 6 held
    constant; every resolution delivers the head's calcium change over the period."""
    out = tmp_path / "spine_input"
    args = ("--spines", "1", "--inputs", "1", "--resolutions", "1,constant")
    text = _run("spine_network_input.py", "--out", str(out), *args)
    rows = {r["resolution_ms"]: r for r in _rows(out / "spine_input.csv")}
    assert float(rows["1"]["pieces_per_spine"]) == 50
    assert float(rows["constant"]["pieces_per_spine"]) == 6
    assert float(rows["1"]["ampar_p_vs_finest"]) == 0
    assert "| constant |" in text
    spec = importlib.util.spec_from_file_location("spine_input", BENCH / "spine_network_input.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    # a difference of exponentials (3 ms rise, 25 ms decay) scaled to 2700 molecules at its peak
    t_peak = 3.0 * 25.0 / 22.0 * math.log(25.0 / 3.0)
    norm = math.exp(-t_peak / 25.0) - math.exp(-t_peak / 3.0)
    at_50_ms = 2700.0 * (math.exp(-50.0 / 25.0) - math.exp(-50.0 / 3.0)) / norm
    for resolution in ("0.25", "1", "4", "constant"):
        sent = sum(
            float(np.sum(flux)) * piece_ms * 1e-3
            for piece_ms, flux in (
                bench.series_of(t0, t1, resolution, 1) for t0, t1 in bench.exchanges(1)
            )
        )
        assert sent == pytest.approx(at_50_ms, rel=1e-12)


def test_flagship_script_on_the_demo(tmp_path: Path) -> None:
    out = tmp_path / "flagship"
    text = _run("flagship.py", "--experiment", DEMO, "--out", str(out), "--duration", "170")
    (row,) = _rows(out / "flagship.csv")
    assert float(row["simulated_ms"]) == 170.0
    # one calcium coupling: FixedInterval(1 ms) would exchange once per simulated ms
    assert int(row["fixed_1ms_calcium_exchanges"]) == 170
    assert 0 < int(row["calcium_exchanges"]) < 170
    assert "| peak_memory_mb |" in text
    # CPU over wall: the run's process, its threads and workers keep at most every core busy
    assert 0 < float(row["busy_cores"]) <= 1.05 * os.cpu_count()


@pytest.mark.mpi
def test_mpi_ranks_script_on_the_demo(tmp_path: Path) -> None:
    out = tmp_path / "mpi"
    _run(
        "mpi_ranks.py",
        *("--out", str(out), "--experiment", DEMO, "--duration", DURATION_MS),
        *("--configs", "workers,2-ranks", "--probe-instances", "3"),
    )
    rows = _rows(out / "mpi_ranks.csv")
    assert [(r["config"], r["processes"]) for r in rows] == [("workers", "3"), ("2-ranks", "2")]
    assert all(float(r["max_rel_diff"]) <= 1e-9 for r in rows)  # the same results
    assert [r["windows"] for r in rows] == ["1", "1"]  # the input at 250 ms opens one
    model = _rows(out / "mpi_ranks_model.csv")
    assert [int(r["ranks"]) for r in model] == [16, 32, 64, 128, 256, 512, 1024]
    assert {r["instances_per_rank"] for r in model} == {"1"}  # the demo's one spine network


def test_weights_agreement_of_a_run_with_its_scaled_copy(tmp_path: Path) -> None:
    """The flagship script with an override writes the run; its weights against a copy
    scaled by 1.01 differ by exactly 1 % relative, against itself by nothing."""
    out = tmp_path / "flagship"
    _run(
        "flagship.py",
        *("--experiment", DEMO, "--out", str(out), "--duration", "170"),
        *("--set", "cell.rest_tol_per_ms=0"),
    )
    (row,) = _rows(out / "flagship.csv")
    assert row["set"] == "cell.rest_tol_per_ms=0"
    assert float(row["neuron_jumped_ms"]) == 0.0
    run = out / "flagship.h5"
    scaled = tmp_path / "scaled.h5"
    shutil.copy(run, scaled)
    with h5py.File(scaled, "r+") as f:
        f["biochem/weight"][...] = f["biochem/weight"][()] * 1.01
    agreement = tmp_path / "agreement"
    text = _run(
        "weights_agreement.py", str(run), str(run), "--from-ms", "100", "--out", str(agreement)
    )
    assert [float(r["max_rel_diff"]) for r in _rows(agreement / "weights_agreement.csv")] == [0.0]
    _run("weights_agreement.py", str(run), str(scaled), "--from-ms", "100", "--out", str(agreement))
    (spine,) = _rows(agreement / "weights_agreement.csv")
    assert float(spine["max_rel_diff"]) == pytest.approx(0.01, rel=1e-9)
    assert "largest:" in text


def test_roadrunner_memory_on_a_few_instances(tmp_path: Path) -> None:
    out = tmp_path / "memory"
    model = str(ROOT / "models" / "sbml" / "camkii_simple.xml")
    args = ("--out", str(out), "--model", model, "--n", "4", "--plain-n", "2")
    text = _run("roadrunner_memory.py", *args, "--backends", "mcjit")
    rows = _rows(out / "roadrunner_memory.csv")
    assert [(r["creation"], r["state"], r["n"]) for r in rows] == [
        ("plain", "eager", "2"),
        ("lean", "eager", "4"),
        ("plain", "restored", "2"),
        ("lean", "restored", "4"),
    ]
    assert all(float(r["create_ms_per_instance"]) > 0 for r in rows)
    assert "| lean | mcjit | restored | 4 |" in text


def test_msn_step_threads_give_the_one_thread_results(tmp_path: Path) -> None:
    """Two threads on the cell split at the soma end a stimulated run of the `two` cell
    where one thread does; with --repeats a row per case."""
    out = tmp_path / "step"
    args = ("--layout", "two", "--steps", "400", "--settle-ms", "1", "--states", "train")
    _run("msn_step.py", "--out", str(out), *args, "--cases", "ours,ours-2", "--repeats", "2")
    rows = _rows(out / "msn_step.csv")
    assert [(r["case"], r["threads"]) for r in rows] == [("ours", "1"), ("ours-2", "2")]
    for row in rows[1:]:
        assert float(row["max_v_diff_mV"]) <= 1e-9
        assert float(row["max_head_ca_diff_mM"]) <= 1e-12
    assert all(float(r["cpu_ms_per_step"]) > 0 for r in rows)


CXX = shutil.which("c++") or shutil.which("g++")
DIFFERENCES = ("max_v_diff_mV", "max_cai_rel_diff", "max_cali_rel_diff")


@pytest.mark.slow
@pytest.mark.skipif(CXX is None, reason="nrnivmodl -coreneuron needs a C++ compiler (c++ or g++)")
def test_coreneuron_msn_on_two_spines(tmp_path: Path) -> None:
    """The variant matches the project build exactly under NEURON, CoreNEURON matches it to
    rounding, at rest and stimulated."""
    out = tmp_path / "coreneuron"
    args = ("--out", str(out), "--layout", "two", "--steps", "200", "--syncs", "5")
    text = _run("coreneuron_msn.py", *args)
    rows = _rows(out / "coreneuron_msn.csv")
    assert [(r["case"], r["state"]) for r in rows] == [
        ("neuron, project build", "rest"),
        ("neuron, CoreNEURON variant", "rest"),
        ("coreneuron", "rest"),
        ("coreneuron, enter and leave", "rest"),
        ("neuron, project build", "stimulated"),
        ("neuron, CoreNEURON variant", "stimulated"),
        ("coreneuron", "stimulated"),
    ]
    assert all(r["layout"] == "two" for r in rows)
    assert all(r["ms_per_step"] for r in rows[:3])
    assert rows[3]["overhead_ms"]
    for variant, coreneuron in ((rows[1], rows[2]), (rows[5], rows[6])):
        assert variant["compared_with"] == "neuron, project build"
        assert [float(variant[k]) for k in DIFFERENCES] == [0.0, 0.0, 0.0]
        assert coreneuron["compared_with"] == "neuron, CoreNEURON variant"
        assert float(coreneuron["max_v_diff_mV"]) < 1e-5
    assert "| coreneuron, enter and leave | two | rest |" in text
