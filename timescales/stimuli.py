"""Input times of stimulus tables, as plain data: what both experiment files and results
files (which store the experiment) read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def input_times(stim: Mapping[str, Any]) -> list[float]:
    """Sorted unique input times (ms) of one stimulus table: its `times_ms`, or a train
    as the study specified it, start + k * 1000/rate for k = 1..count."""
    if stim.get("times_ms") is not None:
        return sorted({round(t, 9) for t in stim["times_ms"]})
    start_ms, rate_hz = stim.get("start_ms") or 0.0, stim.get("rate_hz") or 1.0
    period_ms = 1000.0 / rate_hz
    return sorted(
        {round(start_ms + k * period_ms, 9) for k in range(1, (stim.get("count") or 0) + 1)}
    )


def merged_times(stimuli: Iterable[Mapping[str, Any]]) -> dict[int, dict[str, list[float]]]:
    """Spine -> synapse -> sorted unique input times (ms) of all `stimuli` together."""
    merged: dict[int, dict[str, set[float]]] = {}
    for stim in stimuli:
        times = input_times(stim)
        for spine in stim["spines"]:
            for syn in stim["synapses"]:
                merged.setdefault(spine, {}).setdefault(syn, set()).update(times)
    return {
        spine: {syn: sorted(ts) for syn, ts in sorted(by_syn.items())}
        for spine, by_syn in sorted(merged.items())
    }
