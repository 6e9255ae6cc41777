"""Compare sync strategies on one experiment: cost, exchanges and error against lockstep.

Each strategy runs in a fresh process (NEURON cannot be reset inside one), which also
makes its peak memory its own. The child writes a JSON summary and an HDF5 results file;
the parent reads them back, computes errors against the lockstep run, and writes
`strategies.csv`, `strategies.md` and `error_vs_cost.png`.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from timescales.errors import ConfigError
from timescales.memory import PeakMemory

from .spec import ExperimentSpec

#: The strategies compared, by name: coupling mode plus overrides of the [coupling] table.
VARIANTS: dict[str, dict[str, Any]] = {
    "lockstep": {"mode": "lockstep"},
    "fixed-1ms": {"mode": "fixed", "interval_ms": 1.0, "hold": "constant"},
    "fixed-5ms": {"mode": "fixed", "interval_ms": 5.0, "hold": "constant"},
    "fixed-10ms": {"mode": "fixed", "interval_ms": 10.0, "hold": "constant"},
    "original": {"mode": "original"},
    "event-constant": {"mode": "event", "hold": "constant"},
    "event": {"mode": "event"},
    "event-0.25ms": {"mode": "event", "resolution_ms": 0.25},
    "event-2ms": {"mode": "event", "resolution_ms": 2.0},
    "event-4ms": {"mode": "event", "resolution_ms": 4.0},
    "event-low-threshold": {"mode": "event", "threshold_scale": 0.5},
    "event-high-threshold": {"mode": "event", "threshold_scale": 2.0},
}

COLUMNS = (
    "strategy",
    "wall_s",
    "electrical_s",
    "biochemical_s",
    "overhead_s",
    "exchanges",
    "adapter_calls",
    "early_stops",
    "peak_rss_mb",
    "max_weight_rel_error",
    "weight_rms_error",
    "calcium_delivered_fraction",
)


@dataclass
class Row:
    """One strategy's measurements."""

    strategy: str
    values: dict[str, float] = field(default_factory=dict)


def _override(spec: Any, variant: dict[str, Any]) -> Any:
    update = {k: v for k, v in variant.items() if k not in ("threshold_scale",)}
    if "threshold_scale" in variant:
        update["threshold_mM"] = spec.coupling.threshold_mM * variant["threshold_scale"]
        update["hysteresis_mM"] = spec.coupling.hysteresis_mM * variant["threshold_scale"]
    coupling = spec.coupling.model_copy(update=update)
    record = spec.record.model_copy(update={"interval_ms": min(spec.record.interval_ms, 0.1)})
    return spec.model_copy(update={"coupling": coupling, "record": record})


def run_child(experiment: str, variant: str, out_dir: Path, duration_ms: float | None) -> None:
    """Run one variant in this process; write `<variant>.json` and `<variant>.h5`."""
    from .runner import Experiment

    base = Experiment.from_file(experiment)
    exp = Experiment(_override(base.spec, VARIANTS[variant]), base.source)
    start = time.perf_counter()
    with PeakMemory() as memory:
        result = exp.run(duration_ms=duration_ms, output=out_dir / f"{variant}.h5", overwrite=True)
    wall = time.perf_counter() - start
    adapters = result.stats.adapters
    electrical = adapters["neuron"].wall_s if "neuron" in adapters else 0.0
    biochemical = adapters["roadrunner"].wall_s if "roadrunner" in adapters else 0.0
    summary = {
        "strategy": variant,
        "wall_s": wall,
        "electrical_s": electrical,
        "biochemical_s": biochemical,
        "overhead_s": max(result.stats.wall_s - electrical - biochemical, 0.0),
        "exchanges": result.stats.n_exchanges,
        "adapter_calls": sum(a.n_advance + a.n_get + a.n_set for a in adapters.values()),
        "early_stops": sum(a.n_early for a in adapters.values()),
        "peak_rss_mb": memory.peak_mb,
        "spines": result.spines.tolist(),
        "final_weights": result.weight[-1].tolist(),
        "influx_by_coupling": _influx(result.stats.windows),
    }
    (out_dir / f"{variant}.json").write_text(json.dumps(summary, indent=1))


def _influx(windows: list[Any]) -> dict[str, float]:
    total: dict[str, float] = {}
    for w in windows:
        total[w.coupling] = total.get(w.coupling, 0.0) + w.influx
    return total


def _weights(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import h5py

    with h5py.File(path, "r") as f:
        return f["biochem/time_ms"][:], f["biochem/weight"][:], f["spines/calcium_mM"][:]


def _rising(calcium: np.ndarray) -> np.ndarray:
    """Sum of the rises of each recorded calcium trace (mM): what entered the heads."""
    steps = np.diff(calcium, axis=0)
    return np.where(steps > 0, steps, 0.0).sum(axis=0)


def compare(out_dir: Path, names: list[str]) -> list[Row]:
    """Rows of the comparison, errors taken against the lockstep run when it is present."""
    summaries = {n: json.loads((out_dir / f"{n}.json").read_text()) for n in names}
    ref = summaries.get("lockstep")
    ref_w = _weights(out_dir / "lockstep.h5") if ref else None
    rows = []
    for name in names:
        s = summaries[name]
        row = Row(name, {k: float(s[k]) for k in COLUMNS[1:9]})
        t, w, calcium = _weights(out_dir / f"{name}.h5")
        entered = _rising(calcium).sum() if calcium.size else float("nan")
        delivered = sum(s["influx_by_coupling"].values())
        row.values["calcium_delivered_fraction"] = delivered / entered if entered else float("nan")
        if ref is not None and ref_w is not None:
            final_ref = np.asarray(ref["final_weights"])
            final = np.asarray(s["final_weights"])
            row.values["max_weight_rel_error"] = float(
                np.max(np.abs(final - final_ref) / final_ref)
            )
            t_ref, w_ref, _ = ref_w
            on_ref = np.column_stack([np.interp(t_ref, t, w[:, i]) for i in range(w.shape[1])])
            row.values["weight_rms_error"] = float(np.sqrt(np.mean((on_ref - w_ref) ** 2)))
        rows.append(row)
    return rows


def write_outputs(rows: list[Row], out_dir: Path, header: str) -> None:
    """`strategies.csv`, `strategies.md` and a plot of error against cost."""
    with (out_dir / "strategies.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow(
                [r.strategy, *(f"{r.values.get(c, float('nan')):.6g}" for c in COLUMNS[1:])]
            )
    lines = [header, "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        cells = [f"{r.values.get(c, float('nan')):.4g}" for c in COLUMNS[1:]]
        lines.append("| " + " | ".join([r.strategy, *cells]) + " |")
    text = "\n".join(lines) + "\n"
    (out_dir / "strategies.md").write_text(text)
    print(text)
    _plot(rows, out_dir / "error_vs_cost.png")


def _plot(rows: list[Row], path: Path) -> None:
    """Error against exchanges; without a lockstep run (no errors), wall time against them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    errors = [r.values.get("max_weight_rel_error", float("nan")) for r in rows]
    with_errors = any(np.isfinite(e) for e in errors)
    fig, ax = plt.subplots(figsize=(6, 4))
    for r, err in zip(rows, errors, strict=True):
        x = max(r.values["exchanges"], 1.0)
        y = max(err, 1e-8) if with_errors else max(r.values["wall_s"], 1e-3)
        if np.isfinite(y):
            ax.scatter(x, y)
            ax.annotate(r.strategy, (x, y), fontsize=7)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("exchanges")
    ax.set_ylabel(
        "max relative error of final weights vs lockstep" if with_errors else "wall time (s)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def strategy_names(text: str | None, option: str) -> list[str]:
    """The strategies of a comma list, each one checked against `VARIANTS`."""
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    for name in names:
        if name not in VARIANTS:
            raise ConfigError(option, f"strategies among {', '.join(VARIANTS)}", name)
    return names


def check_reusable(
    base: ExperimentSpec, out_dir: Path, duration_ms: float | None, name: str
) -> None:
    """Refuse an earlier run of `name` in `out_dir` unless it is this comparison's run.

    It must be complete, run the experiment `base` (as today's schema reads both) under
    this strategy, and end where this comparison ends.
    """
    from timescales.results import Results

    for path in (out_dir / f"{name}.json", out_dir / f"{name}.h5"):
        if not path.exists():
            raise ConfigError(
                "--reuse", f"a file of an earlier {name} run", "no such file", str(path)
            )
    h5 = out_dir / f"{name}.h5"
    earlier = Results.open(h5)
    if earlier.status != "complete":
        raise ConfigError("status", "a complete run", earlier.status, str(h5))
    stored = {k: v for k, v in earlier.experiment.items() if k not in ("source", "overrides")}
    # where a run wrote and how long it ran are its own; the end time is checked below
    for key in ("output", "duration_ms"):
        stored["experiment"][key] = getattr(base.experiment, key)
    try:
        got = ExperimentSpec.model_validate(stored).model_dump(mode="json")
    except ValidationError as exc:
        expected = "an experiment this version of timescales reads"
        raise ConfigError("experiment", expected, str(exc).splitlines()[0], str(h5)) from exc
    for section, value in _override(base, VARIANTS[name]).model_dump(mode="json").items():
        if got[section] != value:
            raise ConfigError(
                f"experiment.{section}", f"the [{section}] of {base.source}", None, str(h5)
            )
    t_end = base.end_ms(duration_ms)
    if not np.isclose(earlier.biochem_time_ms[-1], t_end):
        ends = f"a run that ends at {t_end:g} ms"
        raise ConfigError("biochem/time_ms", ends, float(earlier.biochem_time_ms[-1]), str(h5))


def bench(
    experiment: str,
    out_dir: Path,
    duration_ms: float | None,
    names: list[str],
    reuse: list[str] | None = None,
) -> list[Row]:
    """Run every variant in its own process, then compare them with the `reuse`d ones.

    A reused strategy is not run again: its earlier files in `out_dir` are checked and
    read, so one new strategy can be compared against an expensive lockstep run.
    """
    reuse = reuse or []
    if reuse:
        from .runner import Experiment

        base = Experiment.from_file(experiment).spec
        for name in reuse:
            check_reusable(base, out_dir, duration_ms, name)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in [n for n in names if n not in reuse]:
        cmd = [sys.executable, "-m", "timescales.experiment.bench", experiment, "--child", name]
        cmd += ["--out", str(out_dir)] + (["--duration", str(duration_ms)] if duration_ms else [])
        print(f"bench: {name} ...", flush=True)
        subprocess.run(cmd, check=True)
    everything = [n for n in VARIANTS if n in names or n in reuse]
    rows = compare(out_dir, everything)
    header = f"# Strategies on {Path(experiment).name}" + (
        f" (first {duration_ms:g} ms)" if duration_ms else ""
    )
    if reuse:
        header += f"\n\nFrom an earlier run in {out_dir}: {', '.join(reuse)}."
    write_outputs(rows, out_dir, header)
    return rows


def cmd_bench(args: argparse.Namespace) -> int:
    names = strategy_names(args.strategies, "--strategies") or list(VARIANTS)
    reuse = strategy_names(args.reuse, "--reuse")
    bench(args.experiment, Path(args.out), args.duration, names, reuse)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`compare_strategies.py`: the `timescales bench` command, or one strategy's run."""
    argv = sys.argv[1:] if argv is None else argv
    if "--child" not in argv:
        from timescales.cli import main as cli_main

        return cli_main(["bench", *argv])
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("experiment")
    parser.add_argument("--out", required=True)
    parser.add_argument("--duration", type=float, default=None, metavar="MS")
    parser.add_argument("--child", required=True)
    args = parser.parse_args(argv)
    run_child(args.experiment, args.child, Path(args.out), args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(main())
