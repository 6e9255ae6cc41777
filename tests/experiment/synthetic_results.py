"""A results file with made-up traces, written with ResultsWriter for tests that read results
without running a simulator: the demo's experiment (spine 1 stimulated, spine 2 not),
calcium bumps at each input, a window per input whose exchanges grow apart, a weight that
rises at each window's last exchange."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from conftest import ROOT
from timescales.experiment import load_experiment
from timescales.results import ResultsWriter, provenance
from timescales.scheduler import WindowRecord

#: Exchange times after a window opens: the interval doubles from 1 ms.
EXCHANGE_OFFSETS_MS = (1.0, 2.0, 4.0, 8.0, 16.0)
OUTPUT_UNIT = "molecule"


def synthetic(path: Path, *, complete: bool = True) -> Path:
    """Write the file at `path` (status "complete", or "interrupted") and return `path`."""
    spec = load_experiment(ROOT / "examples" / "demo.toml")
    inputs = spec.stimulus_times_ms()[1]["ampa"]
    t = np.arange(0.0, spec.t_end_ms, 1.0)
    bumps = sum(np.where(t >= s, np.exp(-(t - s) / 20.0), 0.0) for s in inputs)
    calcium = np.column_stack([1e-4 + 1e-3 * bumps, np.full_like(t, 1e-4)])
    w = ResultsWriter(
        path,
        spec.to_dict(),
        provenance("timescales run demo.toml", [ROOT / "examples" / "demo.toml"]),
        spines=[1, 2],
        biochem_spines=[1],
        output_unit=OUTPUT_UNIT,
    )
    w.write_cell("msn", [1, 2], ["dend3_1[1]", "dend3_1[1]"], [0.3, 0.5], [1.08e-15, 1.08e-15])
    w.write_exchange_units({"ca1": "molecules/s", "w1": "1"})
    for block in np.array_split(np.arange(t.size), 4):
        w.append_samples(t[block], -85.0 + 10.0 * bumps[block], calcium[block])
    for k, s in enumerate(inputs):
        for offset in EXCHANGE_OFFSETS_MS:
            w.add_exchange(s + offset, "ca1", 1e5 / offset)
        last = s + EXCHANGE_OFFSETS_MS[-1]
        w.add_exchange(last, "w1", 1.0 + 0.01 * k)
        w.append_biochem(last, np.array([100.0 + k]), np.array([1.0 + 0.01 * k]))
    ends = [s + EXCHANGE_OFFSETS_MS[-1] for s in inputs]
    n = len(EXCHANGE_OFFSETS_MS)
    w.write_windows(
        [WindowRecord("ca1", s, e, n, 1e-4) for s, e in zip(inputs, ends, strict=True)],
        {"ca1": 1},
    )
    w.write_windows([WindowRecord("ca1", inputs[-1] + 100.0)], {"ca1": 1})
    w.close("complete" if complete else "interrupted")
    return path
