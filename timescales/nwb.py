"""A results file as an NWB file (Neurodata Without Borders), written with pynwb.

The layout, in NWB's terms (times in seconds from the start of the electrical
equilibration, the session start):

- `acquisition/soma_voltage`: TimeSeries in volts (data in mV, conversion 1e-3);
- `acquisition/spine_head_calcium`: TimeSeries in mol/L (data in mM, conversion 1e-3), a
  column per recorded spine;
- `processing/biochemistry/synaptic_weight` and `.../<output variable>`: TimeSeries at the
  sync times, a column per spine with a model;
- `processing/cell/compartments`: the soma and each spine head, their section, position
  and volume (the columns of the series above are named after them);
- `events/inputs`: every synaptic input (spine, synapse); `events/exchanges`: every
  exchange (coupling, value in its target's unit);
- `intervals/sync_windows`: the coupled windows (spine, coupling, exchanges, delivered
  calcium; a window still open at the end stops there, `closed` false);
- the experiment (JSON) as `experiment_description`, the provenance (JSON) as `notes`, the
  packages that made the data in `was_generated_by`.

pynwb is optional (the `nwb` extra) and imported when an export runs.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .errors import ConfigError
from .optional import require
from .results import Results

MS = 1e-3
FEATURE = "NWB export"


def export_nwb(results: str | Path | Results, out: str | Path, overwrite: bool = False) -> Path:
    """Write the results as the NWB file `out` (refused if it exists, unless `overwrite`)."""
    pynwb = require("pynwb", "pynwb", "nwb", FEATURE)
    r = results if isinstance(results, Results) else Results.open(results)
    path = Path(out)
    if path.exists() and not overwrite:
        raise ConfigError("--nwb", "a path that does not exist yet (or --overwrite)", str(path))
    nwbfile = _file(pynwb, r)
    _compartments(pynwb, nwbfile, r)
    _samples(pynwb, nwbfile, r)
    _biochemistry(pynwb, nwbfile, r)
    _inputs(pynwb, nwbfile, r)
    _exchanges(pynwb, nwbfile, r)
    _windows(nwbfile, r)
    path.parent.mkdir(parents=True, exist_ok=True)
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    return path


def _file(pynwb: Any, r: Results) -> Any:
    name = str(r.experiment.get("experiment", {}).get("name") or r.path.stem)
    digest = hashlib.sha256(r.path.read_bytes()).hexdigest()[:16]
    date = r.provenance.get("date_utc")
    start = datetime.fromisoformat(date) if date else datetime.fromtimestamp(0, UTC)
    packages = r.provenance.get("packages", {})
    return pynwb.NWBFile(
        session_description=f"timescales simulation '{name}' (status {r.status})",
        identifier=f"timescales-{name}-{digest}",
        session_start_time=start,
        session_id=name,
        experiment_description=json.dumps(r.experiment),
        notes=json.dumps(r.provenance),
        data_collection=(
            f"simulated by timescales, strategy {r.stats.get('strategy', 'unknown')}; "
            "time 0 is the start of the electrical equilibration"
        ),
        keywords=["simulation", "multiscale", "NEURON", "SBML", "dendritic spine"],
        was_generated_by=[
            ["timescales", packages.get("timescales") or __version__],
            *[[p, v] for p, v in packages.items() if v and p != "timescales"],
        ],
    )


def _compartment_names(r: Results) -> dict[int, str]:
    return {int(s): f"spine {int(s)} head" for s in np.union1d(r.spines, r.biochem_spines)}


def _compartments(pynwb: Any, nwbfile: Any, r: Results) -> None:
    """The soma and the spine heads, by name, with where they sit on the cell."""
    from hdmf.common import DynamicTable

    table = DynamicTable(name="compartments", description="the soma and the spine heads")
    for column, doc in [
        ("compartment", "its name, as the columns of the series call it"),
        ("spine", "spine number (-1: the soma)"),
        ("section", "the section it belongs to or sits on, as the cell names it"),
        ("x", "position along that section (0..1; NaN: the soma)"),
        ("volume_l", "volume in litres (the spine head's; NaN: the soma)"),
    ]:
        table.add_column(column, doc)
    cell = r.cell
    where = {int(s): i for i, s in enumerate(cell.get("spine", []))}
    table.add_row(
        compartment="soma", spine=-1, section="the cell's soma", x=np.nan, volume_l=np.nan
    )
    for spine, name in _compartment_names(r).items():
        i = where.get(spine)
        table.add_row(
            compartment=name,
            spine=spine,
            section=str(cell["section"][i]) if i is not None else "",
            x=float(cell["x"][i]) if i is not None else np.nan,
            volume_l=float(cell["head_volume_l"][i]) if i is not None else np.nan,
        )
    module = nwbfile.create_processing_module("cell", f"the cell ({cell_model(r)})")
    module.add(table)


def cell_model(r: Results) -> str:
    return str(r.experiment.get("cell", {}).get("model", "unknown"))


def _timing(t_ms: np.ndarray) -> dict[str, Any]:
    """starting_time and rate for regular samples, else timestamps (seconds)."""
    step = np.diff(t_ms)
    if t_ms.size > 1 and np.allclose(step, step[0], rtol=1e-9, atol=0):
        return {"starting_time": float(t_ms[0]) * MS, "rate": 1.0 / (float(step[0]) * MS)}
    return {"timestamps": t_ms * MS}


def _samples(pynwb: Any, nwbfile: Any, r: Results) -> None:
    if r.time_ms.size == 0:
        return
    timing = _timing(r.time_ms)
    if not np.isnan(r.soma_v_mV).all():
        nwbfile.add_acquisition(
            pynwb.TimeSeries(
                name="soma_voltage",
                data=r.soma_v_mV,
                unit="volts",
                conversion=1e-3,
                description=f"membrane potential of the soma of the cell ({cell_model(r)})",
                comments="compartment: soma",
                **timing,
            )
        )
    if r.spines.size:
        names = [_compartment_names(r)[int(s)] for s in r.spines]
        nwbfile.add_acquisition(
            pynwb.TimeSeries(
                name="spine_head_calcium",
                data=r.calcium_mM,
                unit="mol/L",
                conversion=1e-3,
                description="free calcium concentration in the spine heads, a column each",
                comments=f"columns (compartments): {', '.join(names)}",
                **timing,
            )
        )


def _biochemistry(pynwb: Any, nwbfile: Any, r: Results) -> None:
    if r.biochem_time_ms.size == 0 or r.biochem_spines.size == 0:
        return
    bio = r.experiment.get("biochemistry") or {}
    variable = str(bio.get("output", {}).get("variable", "output"))
    names = ", ".join(_compartment_names(r)[int(s)] for s in r.biochem_spines)
    module = nwbfile.create_processing_module(
        "biochemistry", f"each spine's biochemical model ({bio.get('model', 'unknown')})"
    )
    stamps = r.biochem_time_ms * MS
    module.add(
        pynwb.TimeSeries(
            name="synaptic_weight",
            data=r.weight,
            unit="dimensionless",
            timestamps=stamps,
            description="each spine's AMPA weight, set from its model's output (after clipping)",
            comments=f"columns (compartments): {names}; at every sync",
        )
    )
    module.add(
        pynwb.TimeSeries(
            name=variable.replace("/", "_"),
            data=r.output,
            unit=r.output_unit,
            timestamps=stamps,
            description=f"the model variable {variable!r} that sets the weight (NaN before "
            "its first read)",
            comments=f"columns (compartments): {names}; at every sync",
        )
    )


def _inputs(pynwb: Any, nwbfile: Any, r: Results) -> None:
    rows = sorted(
        (t, spine, synapse)
        for spine, by_synapse in r.stimulus_times_ms().items()
        for synapse, times in by_synapse.items()
        for t in times
        if t <= r.reached_ms()
    )
    if not rows:
        return
    table = pynwb.event.EventsTable(name="inputs", description="synaptic inputs to the spines")
    table.add_column("spine", "spine number")
    table.add_column("synapse", "the synapse of the spine that received it")
    for t, spine, synapse in rows:
        table.add_event(timestamp=t * MS, spine=int(spine), synapse=str(synapse))
    nwbfile.add_events_table(table)


def _exchanges(pynwb: Any, nwbfile: Any, r: Results) -> None:
    ex = r.exchanges
    if "time_ms" not in ex or ex["time_ms"].size == 0:
        return
    units = ", ".join(f"{c}: {u}" for c, u in sorted(r.exchange_units.items()))
    table = pynwb.event.EventsTable(
        name="exchanges", description="every exchange of a value between the simulators"
    )
    table.add_column("coupling", "label of the coupling")
    table.add_column("value", f"the value sent, in its coupling's target unit ({units})")
    for t, coupling, value in zip(ex["time_ms"], ex["coupling"], ex["value"], strict=True):
        table.add_event(timestamp=float(t) * MS, coupling=str(coupling), value=float(value))
    nwbfile.add_events_table(table)


def _windows(nwbfile: Any, r: Results) -> None:
    w = r.windows
    if w["open_ms"].size == 0:
        return
    table = nwbfile.create_time_intervals(
        "sync_windows", "coupled windows: the simulators exchange values while one is open"
    )
    for column, doc in [
        ("spine", "spine of the window's coupling (-1: none)"),
        ("coupling", "label of the window's coupling"),
        ("exchanges", "exchanges inside the window"),
        ("delivered_mM", "net change of the source sent through a flux (mM)"),
        ("closed", "whether it closed before the end (else it stops at the end)"),
    ]:
        table.add_column(column, doc)
    end = r.reached_ms()
    for i in range(w["open_ms"].size):
        closed = bool(np.isfinite(w["close_ms"][i]))
        table.add_interval(
            start_time=float(w["open_ms"][i]) * MS,
            stop_time=(float(w["close_ms"][i]) if closed else end) * MS,
            spine=int(w["spine"][i]),
            coupling=str(w["coupling"][i]),
            exchanges=int(w["exchanges"][i]),
            delivered_mM=float(w["delivered"][i]),
            closed=closed,
        )
