"""Input times of stimulus tables, as plain data: what both experiment files and results
files (which store the experiment) read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np


def input_times(stim: Mapping[str, Any], spine: int | None = None) -> list[float]:
    """Sorted unique input times (ms) of one stimulus table: its `times_ms`; a train as the
    study specified it, start + k * 1000/rate for k = 1..count; or, for `process =
    "poisson"`, `spine`'s own Poisson train (without a spine: every spine's together)."""
    if stim.get("process") == "poisson":
        spines = stim["spines"] if spine is None else [spine]
        return sorted({t for j in spines for t in poisson_times(stim, j)})
    if stim.get("times_ms") is not None:
        return sorted({round(t, 9) for t in stim["times_ms"]})
    start_ms, rate_hz = stim.get("start_ms") or 0.0, stim.get("rate_hz") or 1.0
    period_ms = 1000.0 / rate_hz
    return sorted(
        {round(start_ms + k * period_ms, 9) for k in range(1, (stim.get("count") or 0) + 1)}
    )


def poisson_times(stim: Mapping[str, Any], spine: int) -> list[float]:
    """A spine's inputs of a Poisson stimulus: rate `rate_hz` in (start_ms, stop_ms], from
    a random stream of its own, seeded by the stimulus' `seed` and the spine's number (the
    same wherever and in whatever order spines are computed)."""
    rng = np.random.default_rng([int(stim["seed"]), int(spine)])
    start_ms, stop_ms = float(stim["start_ms"]), float(stim["stop_ms"])
    mean_isi_ms = 1000.0 / float(stim["rate_hz"])
    expected = (stop_ms - start_ms) / mean_isi_ms
    n = int(expected + 10.0 * np.sqrt(expected) + 10.0)  # enough intervals, almost surely
    times = start_ms + np.cumsum(rng.exponential(mean_isi_ms, n))
    while times[-1] <= stop_ms:
        times = np.concatenate([times, times[-1] + np.cumsum(rng.exponential(mean_isi_ms, n))])
    return [round(float(t), 9) for t in times[times <= stop_ms]]


def merged_times(stimuli: Iterable[Mapping[str, Any]]) -> dict[int, dict[str, list[float]]]:
    """Spine -> synapse -> sorted unique input times (ms) of all `stimuli` together."""
    merged: dict[int, dict[str, set[float]]] = {}
    for stim in stimuli:
        shared = None if stim.get("process") == "poisson" else input_times(stim)
        for spine in stim["spines"]:
            times = input_times(stim, spine) if shared is None else shared
            for syn in stim["synapses"]:
                merged.setdefault(spine, {}).setdefault(syn, set()).update(times)
    return {
        spine: {syn: sorted(ts) for syn, ts in sorted(by_syn.items())}
        for spine, by_syn in sorted(merged.items())
    }
