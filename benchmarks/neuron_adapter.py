"""Costs of the NEURON adapter on a cell with 1504 spines: bulk access, watches, quiet periods.

Usage: python benchmarks/neuron_adapter.py --out DIR [--spines 1504] [--advance-ms 20]
       [--quiet-ms 1000] [--rest-tol 1e-7]

The quiet-period rows settle a cell without input for 600 ms (the jump allowed from the
start for the jump row) and time reaching the end of the quiet period after it.

Prints a table and writes DIR/neuron_adapter.csv (one row per measurement).
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from timescales.adapter import Watch
from timescales.adapters._imports import import_neuron
from timescales.adapters.neuron import NeuronAdapter, Stepping

h = import_neuron().h
DT_MS = 0.025


class SpinyCell:
    """Soma (hh), 4 passive dendrites, `n` passive two-section spines spread over them."""

    def __init__(self, n_spines: int, amp_nA: float = 0.2) -> None:
        self.soma = h.Section(name="soma")
        self.soma.L = self.soma.diam = 16.0
        self.soma.insert("hh")
        self.dends = []
        for i in range(4):
            dend = h.Section(name=f"dend{i}")
            dend.L, dend.diam, dend.nseg = 200.0, 1.0, 21
            dend.insert("pas")
            dend.connect(self.soma(1))
            self.dends.append(dend)
        self.heads = []
        self._necks = []
        for k in range(n_spines):
            neck = h.Section(name=f"spine{k}_neck")
            head = h.Section(name=f"spine{k}_head")
            neck.L, neck.diam = 1.5, 0.1
            head.L, head.diam = 1.0, 1.175
            for sec in (neck, head):
                sec.insert("pas")
            head.connect(neck(1))
            neck.connect(self.dends[k % 4]((k // 4 + 0.5) / (n_spines // 4 + 1)))
            self._necks.append(neck)
            self.heads.append(head)
        self.stim = h.IClamp(self.soma(0.5))
        self.stim.delay, self.stim.dur, self.stim.amp = 0.0, 1e9, amp_nA


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Best-of-3 mean seconds per call over `repeat` calls."""
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def bulk_rows(adapter: NeuronAdapter, names: list[str]) -> list[dict[str, object]]:
    heads = [head(0.5) for head in adapter.model.heads]
    values = np.full(len(names), -70.0)
    adapter.get_many(names)
    n = len(names)
    cases = [
        (f"get_many {n} (PtrVector)", lambda: adapter.get_many(names), 200),
        (f"set_many {n} (PtrVector)", lambda: adapter.set_many(names, values), 200),
        (f"get x{n} (Python loop)", lambda: [adapter.get(name) for name in names], 10),
        (f"seg.v x{n} (raw NEURON loop)", lambda: [seg.v for seg in heads], 20),
    ]
    return [{"case": case, "us_per_call": timed(fn, k) * 1e6} for case, fn, k in cases]


def advance_rows(
    adapter: NeuronAdapter, names: list[str], span_ms: float
) -> list[dict[str, object]]:
    rows = []
    cases = [
        ("no watches", []),
        ("18 rising (native NetCon)", [Watch(n, 100.0) for n in names[:18]]),
        (f"{len(names)} rising (native NetCon)", [Watch(n, 100.0) for n in names]),
        ("18 falling (per-step numpy)", [Watch(n, -200.0, "falling") for n in names[:18]]),
        (f"{len(names)} falling (per-step numpy)", [Watch(n, -200.0, "falling") for n in names]),
    ]
    for label, watches in cases:
        adapter.advance(adapter.t_ms + 1.0, watches)  # creates the NetCons outside the timing
        wall = np.inf
        for _ in range(3):
            start = time.perf_counter()
            reached = adapter.advance(adapter.t_ms + span_ms, watches)
            wall = min(wall, time.perf_counter() - start)
            assert not reached.fired
        rows.append(
            {"case": f"advance {span_ms:g} ms, {label}", "ms_per_model_ms": wall / span_ms * 1e3}
        )
    return rows  # fmt: skip


def quiet_rows(n_spines: int, quiet_ms: float, rest_tol: float) -> list[dict[str, object]]:
    """Reaching the end of a quiet period from rest: fixed step, the adapter's jump, CVode."""
    rows = []
    names = ["soma(0.5).v", "soma(0.5).m_hh", *(f"spine{k}_head(0.5).v" for k in range(n_spines))]
    finals = {}
    for label in ("fixed step", "jump", "CVode"):
        adapter = NeuronAdapter(
            lambda: SpinyCell(n_spines, amp_nA=0.0),
            dt_ms=DT_MS,
            stepping=Stepping(rest_tol_per_ms=rest_tol if label == "jump" else None),
            v_init_mV=-65.0,
            celsius=6.3,
        )
        adapter.initialize()
        adapter.advance(600.0)
        t0, jumped_before = adapter.t_ms, adapter.jumped_ms
        rate = adapter.max_rate_per_ms()
        start = time.perf_counter()
        if label == "CVode":
            h.cvode.active(1)
            h.cvode.re_init()
            h.ParallelContext().psolve(t0 + quiet_ms)
            h.cvode.active(0)
        else:
            adapter.advance(t0 + quiet_ms)
        wall = time.perf_counter() - start
        finals[label] = adapter.get_many(names)
        error = np.max(np.abs(finals[label] - finals["fixed step"]))
        case = f"quiet {quiet_ms:g} ms: {label}"
        if label == "jump":
            jumped = adapter.jumped_ms - jumped_before
            case += f" ({jumped:g} ms jumped, max|dy/dt| {rate:.1e})"
        rows.append({"case": case, "wall_ms": wall * 1e3, "max_abs_error_vs_fixed": error})
        adapter.close()
    return rows  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for the CSV")
    parser.add_argument("--spines", type=int, default=1504)
    parser.add_argument("--advance-ms", type=float, default=20.0)
    parser.add_argument("--quiet-ms", type=float, default=1000.0)
    parser.add_argument(
        "--rest-tol",
        type=float,
        default=Stepping().rest_tol_per_ms,
        help="rest_tol_per_ms of the jump (default: the adapter's)",
    )
    args = parser.parse_args(argv)

    adapter = NeuronAdapter(
        lambda: SpinyCell(args.spines),
        dt_ms=DT_MS,
        stepping=Stepping(rest_tol_per_ms=None),
        v_init_mV=-65.0,
        celsius=6.3,
    )
    adapter.initialize()
    names = [f"spine{k}_head(0.5).v" for k in range(args.spines)]
    rows = bulk_rows(adapter, names) + advance_rows(adapter, names, args.advance_ms)
    adapter.close()
    rows += quiet_rows(args.spines, args.quiet_ms, args.rest_tol)

    columns = ["case", "us_per_call", "ms_per_model_ms", "wall_ms", "max_abs_error_vs_fixed"]
    print(f"{'case':<62} {'us/call':>10} {'ms/model ms':>12} {'wall ms':>9} {'max err':>9}")
    for row in rows:
        cells = [row.get(c) for c in columns[1:]]
        text = [f"{c:>10.1f}" if c is not None else f"{'':>10}" for c in cells[:1]]
        text += [f"{cells[1]:>12.2f}" if cells[1] is not None else f"{'':>12}"]
        text += [f"{cells[2]:>9.1f}" if cells[2] is not None else f"{'':>9}"]
        text += [f"{cells[3]:>9.2e}" if cells[3] is not None else f"{'':>9}"]
        print(f"{row['case']:<62} {' '.join(text)}")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "neuron_adapter.csv"
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
