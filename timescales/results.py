"""Results files (HDF5): written incrementally so that a killed run leaves a valid file.

Every dataset is chunked and resizable; each appended block is followed by a flush, and
the root attribute `status` stays "running" until `close`. The layout is described in
docs/results-format.md and needs nothing but h5py to read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any

import h5py
import numpy as np
from filelock import FileLock, Timeout

from .errors import ConfigError, TimescalesError
from .stimuli import merged_times

FORMAT = "timescales-results/1"
STATUSES = ("running", "complete", "interrupted", "failed")
PACKAGES = (
    "timescales", "neuron", "libroadrunner", "python-libsbml", "antimony", "pint", "numpy", "h5py"
)  # fmt: skip
WINDOW_FIELDS = ("spine", "open_ms", "close_ms", "exchanges", "delivered")
#: Every dataset of a results file: its units (a pint string) and what it holds. The units
#: of /biochem/output are the output variable's in the model (OUTPUT_UNIT here).
OUTPUT_UNIT = "the model's"
LAYOUT: dict[str, tuple[str, str]] = {
    "time_ms": ("ms", "time of the regular samples (0 = start of the electrical equilibration)"),
    "soma_v_mV": ("mV", "the soma's membrane potential; NaN when it is not recorded"),
    "spines/numbers": ("dimensionless", "spine numbers of the calcium columns"),
    "spines/calcium_mM": ("mM", "spine-head calcium, a column per spine, at /time_ms"),
    "biochem/spines": ("dimensionless", "spine numbers of the columns (spines with a model)"),
    "biochem/time_ms": ("ms", "times at which the outputs and weights were read"),
    "biochem/output": (OUTPUT_UNIT, "the output variable of each spine's model; NaN before it"),
    "biochem/weight": ("dimensionless", "each spine's synaptic weight, after clipping"),
    "windows/spine": ("dimensionless", "spine of the window's coupling (-1: none)"),
    "windows/coupling": ("dimensionless", "label of the window's coupling"),
    "windows/open_ms": ("ms", "when the window opened"),
    "windows/close_ms": ("ms", "when it closed (NaN: open at the end)"),
    "windows/exchanges": ("dimensionless", "exchanges inside the window"),
    "windows/delivered": ("mM", "source change sent through a flux, last exchange - opening"),
    "exchanges/time_ms": ("ms", "time of each exchange"),
    "exchanges/coupling": ("dimensionless", "label of its coupling"),
    "exchanges/value": (
        "dimensionless",
        "the value sent, in its coupling's target unit (the group's units_by_coupling)",
    ),
    "stats/clipped_weights": ("dimensionless", "weights clipped into the bounds, per spine"),
    "cell/spine": ("dimensionless", "spine number"),
    "cell/section": ("dimensionless", "the section the spine sits on"),
    "cell/x": ("dimensionless", "its position along the section (0..1)"),
    "cell/head_volume_l": ("L", "the spine head's volume"),
}
_CHUNK_ROWS = 1024
_BIOCHEM_FLUSH_ROWS = 256
_BIOCHEM_FLUSH_S = 2.0


def provenance(
    command: str | Sequence[str] | None = None, files: Sequence[Path] = ()
) -> dict[str, Any]:
    """Where a result came from: package versions, the git commit of a timescales checkout,
    sha256 of the model `files`, command line (default sys.argv), UTC date, host."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "packages": versions,
        "git_commit": _git_commit(),
        "files": {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files},
        "python": platform.python_version(),
        "command": command if isinstance(command, str) else " ".join(command or sys.argv),
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
    }


def writer_lock(path: Path) -> FileLock:
    """The lock a writer of `path` holds (a file beside it), so a second run cannot truncate
    a file the first is writing."""
    return FileLock(path.with_name(f".{path.name}.lock"))


def _git_commit() -> str | None:
    """The commit of the checkout timescales runs from, or None (an installed copy)."""
    here = Path(__file__).resolve().parent
    if not any((folder / ".git").exists() for folder in (here, *here.parents)):
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def jsonable(value: Any) -> Any:
    """Dataclasses, numpy scalars and arrays as plain JSON data; NaN/inf as None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _growing(group: h5py.Group, name: str, width: int | None, dtype: Any) -> h5py.Dataset:
    """An empty chunked dataset that grows along its first axis (width None: 1-D)."""
    if width is None:
        return group.create_dataset(name, (0,), dtype, maxshape=(None,), chunks=(_CHUNK_ROWS,))
    return group.create_dataset(
        name,
        (0, width),
        dtype,
        maxshape=(None, width),
        chunks=(_CHUNK_ROWS, max(width, 1)) if width else None,
        fillvalue=np.nan,
    )


def _strings(group: h5py.Group, name: str) -> h5py.Dataset:
    """An empty growing dataset of UTF-8 strings."""
    return group.create_dataset(
        name, (0,), h5py.string_dtype(), maxshape=(None,), chunks=(_CHUNK_ROWS,)
    )


def _describe(f: h5py.File, output_unit: str) -> None:
    """Give every dataset of LAYOUT present in `f` its `units` and `description`."""
    for path, (units, description) in LAYOUT.items():
        if path in f:
            f[path].attrs["units"] = output_unit if units == OUTPUT_UNIT else units
            f[path].attrs["description"] = description


def _columns(f: h5py.File, group: str) -> dict[str, np.ndarray]:
    """The datasets of a group as arrays, strings as `str` ({} for a group the file lacks)."""
    if group not in f:
        return {}
    out = {}
    for key, ds in f[group].items():
        text = h5py.check_string_dtype(ds.dtype) is not None
        out[key] = np.array(ds.asstr()[()], dtype=object) if text else ds[()]
    return out


def _append(dataset: h5py.Dataset, rows: np.ndarray) -> None:
    n = dataset.shape[0]
    dataset.resize(n + rows.shape[0], axis=0)
    dataset[n:] = rows


def ending_status(exc: BaseException | None) -> str:
    """The status a run ends with: complete (no exception), interrupted (Ctrl-C or a stop
    signal, both KeyboardInterrupt) or failed (any other exception)."""
    if exc is None:
        return "complete"
    return "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"


def _acquire(path: Path) -> FileLock:
    """The writer's lock of `path`, held (a run writing it already: ConfigError)."""
    lock = writer_lock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise ConfigError("output", "a file no other run is writing", str(path)) from None
    return lock


def _spine(record: Mapping[str, Any], spine_of: Mapping[str, int]) -> int:
    if "spine" in record:
        return int(record["spine"])
    return int(spine_of.get(str(record.get("coupling", "")), -1))


class ResultsWriter:
    """Writes one results file as a run goes; use as a context manager.

    `spines` are the spines of the columns of `append_samples(calcium=...)`,
    `biochem_spines` those of `append_biochem`. On leaving the `with` block the status
    becomes "complete", "interrupted" (Ctrl-C) or "failed" (another exception escaped).
    """

    def __init__(
        self,
        path: str | Path,
        spec_dict: Mapping[str, Any],
        provenance: Mapping[str, Any],
        *,
        spines: Sequence[int] = (),
        biochem_spines: Sequence[int] = (),
        output_unit: str = "dimensionless",
        overwrite: bool = False,
    ) -> None:
        self.path = Path(path)
        if self.path.exists() and not overwrite:
            raise ConfigError(
                "output", "a path that does not exist yet (or overwrite=True)", str(self.path)
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = _acquire(self.path)
        self._file = None
        try:
            self._create(spec_dict, provenance, spines, biochem_spines, output_unit)
        except BaseException as exc:
            self._abandon(exc)
            raise

    def _create(
        self,
        spec_dict: Mapping[str, Any],
        provenance: Mapping[str, Any],
        spines: Sequence[int],
        biochem_spines: Sequence[int],
        output_unit: str,
    ) -> None:
        self._file = f = h5py.File(self.path, "w")
        f.attrs["format"] = FORMAT
        f.attrs["experiment"] = json.dumps(jsonable(spec_dict))
        f.attrs["provenance"] = json.dumps(jsonable(provenance))
        f.attrs["status"] = self.status = "running"
        self._create_samples(spines)
        self._create_biochem(biochem_spines)
        self._create_windows()
        self._create_exchanges()
        self._output_unit = output_unit or "dimensionless"
        self._recorded_biochem: dict[str, h5py.Dataset] = {}
        self._samples: dict[str, h5py.Dataset] = {}
        _describe(f, self._output_unit)
        self._last_flush = time.monotonic()
        f.flush()

    def _abandon(self, exc: BaseException) -> None:
        """The file as far as it got, marked with how `exc` ended it (a stop signal can come
        at any point of a run, setting up its file included), and the lock released."""
        try:
            if self._file:
                self._file.attrs["status"] = self.status = ending_status(exc)
                self._file.close()
        finally:
            self._lock.release()

    def _create_samples(self, spines: Sequence[int]) -> None:
        f = self._file
        self._time = _growing(f, "time_ms", None, "f8")
        self._soma = _growing(f, "soma_v_mV", None, "f8")
        group = f.create_group("spines")
        group.create_dataset("numbers", data=np.asarray(spines, dtype="i8"))
        self._calcium = _growing(group, "calcium_mM", len(spines), "f8")

    def _create_biochem(self, spines: Sequence[int]) -> None:
        bio = self._file.create_group("biochem")
        bio.create_dataset("spines", data=np.asarray(spines, dtype="i8"))
        self._bio_time = _growing(bio, "time_ms", None, "f8")
        self._output = _growing(bio, "output", len(spines), "f8")
        self._weight = _growing(bio, "weight", len(spines), "f8")
        self._bio_rows: list[tuple[float, np.ndarray, np.ndarray, dict]] = []
        stats = self._file.create_group("stats")
        stats.attrs["json"] = "{}"
        self._clipped = np.zeros(len(spines), dtype="i8")
        self._clipped_ds = stats.create_dataset("clipped_weights", data=self._clipped)

    def _create_windows(self) -> None:
        windows = self._file.create_group("windows")
        self._windows = {
            "spine": _growing(windows, "spine", None, "i8"),
            "coupling": _strings(windows, "coupling"),
            "open_ms": _growing(windows, "open_ms", None, "f8"),
            "close_ms": _growing(windows, "close_ms", None, "f8"),
            "exchanges": _growing(windows, "exchanges", None, "i8"),
            "delivered": _growing(windows, "delivered", None, "f8"),
        }

    def _create_exchanges(self) -> None:
        exchanges = self._file.create_group("exchanges")
        self._exchanges = {
            "time_ms": _growing(exchanges, "time_ms", None, "f8"),
            "coupling": _strings(exchanges, "coupling"),
            "value": _growing(exchanges, "value", None, "f8"),
        }
        self._exchange_rows: list[tuple[float, str, float]] = []

    @classmethod
    def reopen(cls, path: str | Path, rows: Mapping[str, int]) -> ResultsWriter:
        """Continue writing a results file from an earlier point: every growing dataset is
        cut back to its length in `rows` (as `rows()` gave it then), status `running`."""
        self = cls.__new__(cls)
        self.path = Path(path)
        self._lock = _acquire(self.path)
        try:
            self._file = h5py.File(self.path, "r+")
            self._bind()
            for name, n in rows.items():
                self._file[name].resize(n, axis=0)
        except BaseException:
            if getattr(self, "_file", None):
                self._file.close()
            self._lock.release()
            raise
        self._file.attrs["status"] = self.status = "running"
        self.flush()
        return self

    def _bind(self) -> None:
        """Take the datasets of an existing file (`reopen`)."""
        f = self._file
        self._time, self._soma = f["time_ms"], f["soma_v_mV"]
        self._calcium = f["spines/calcium_mM"]
        self._bio_time, self._output = f["biochem/time_ms"], f["biochem/output"]
        self._weight = f["biochem/weight"]
        self._bio_rows = []
        self._clipped_ds = f["stats/clipped_weights"]
        self._clipped = self._clipped_ds[()]
        self._windows = dict(f["windows"].items())
        self._exchanges = dict(f["exchanges"].items())
        self._exchange_rows = []
        self._output_unit = str(self._output.attrs["units"])
        self._recorded_biochem = (
            dict(f["biochem/recorded"].items()) if "biochem/recorded" in f else {}
        )
        self._samples = dict(f["samples"].items()) if "samples" in f else {}
        self._last_flush = time.monotonic()

    def rows(self) -> dict[str, int]:
        """The length of every growing dataset, once buffered rows are written."""
        self.flush()
        lengths: dict[str, int] = {}

        def visit(name: str, item: object) -> None:
            if isinstance(item, h5py.Dataset) and item.maxshape and item.maxshape[0] is None:
                lengths[name] = item.shape[0]

        self._file.visititems(visit)
        return lengths

    def set_attrs(self, **attrs: Any) -> None:
        """File attributes describing the run (JSON for anything but strings and numbers)."""
        for key, value in attrs.items():
            plain = isinstance(value, str | int | float)
            self._file.attrs[key] = value if plain else json.dumps(jsonable(value))

    def set_clipped(self, counts: Sequence[int]) -> None:
        """Per biochemical spine, how many weights sent were clipped into the bounds so far."""
        self._clipped = np.asarray(counts, dtype="i8").reshape(self._clipped.shape)

    # ------------------------------------------------------------------ appends
    def append_samples(
        self, t_ms: np.ndarray, soma_v: np.ndarray | None, calcium: np.ndarray | None
    ) -> None:
        """A block of regular samples: times, soma voltage (mV), spine calcium (n x spines, mM).

        `soma_v` None stores NaN (soma not recorded); `calcium` None is allowed only
        when no spine calcium is recorded.
        """
        self._check_open()
        t = np.atleast_1d(np.asarray(t_ms, dtype="f8"))
        n, k = t.shape[0], self._calcium.shape[1]
        v = np.full(n, np.nan) if soma_v is None else np.asarray(soma_v, dtype="f8")
        ca = np.empty((n, 0)) if calcium is None else np.asarray(calcium, dtype="f8")
        if ca.ndim == 1 and n == 1:
            ca = ca.reshape(1, -1)
        if v.shape != (n,) or ca.shape != (n, k):
            raise TimescalesError(
                f"append_samples: expected soma_v of shape ({n},) and calcium of shape "
                f"({n}, {k}), got {v.shape} and {ca.shape}"
            )
        _append(self._time, t)
        _append(self._soma, v)
        if k:
            _append(self._calcium, ca)
        else:
            self._calcium.resize(self._time.shape[0], axis=0)
        self._write_biochem()
        self.flush()

    def append_biochem(
        self,
        t_ms: float,
        output: np.ndarray,
        weight: np.ndarray,
        recorded: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """One sync point: biochemical output and weight per spine (NaN: no instance yet).

        `recorded`: the values of the model variables `record_biochem` named, per spine
        (NaN rows where not read).
        """
        self._check_open()
        j = self._output.shape[1]
        out = np.asarray(output, dtype="f8").reshape(-1)
        w = np.asarray(weight, dtype="f8").reshape(-1)
        if out.shape != (j,) or w.shape != (j,):
            raise TimescalesError(
                f"append_biochem: expected output and weight of shape ({j},), "
                f"got {out.shape} and {w.shape}"
            )
        nan = np.full(j, np.nan)
        extra = {name: (recorded or {}).get(name, nan) for name in self._recorded_biochem}
        self._bio_rows.append((float(t_ms), out, w, extra))
        waited = time.monotonic() - self._last_flush
        if len(self._bio_rows) >= _BIOCHEM_FLUSH_ROWS or waited > _BIOCHEM_FLUSH_S:
            self._write_biochem()
            self.flush()

    def write_cell(
        self,
        model: str,
        spines: Sequence[int],
        sections: Sequence[str],
        x: Sequence[float],
        head_volume_l: Sequence[float],
    ) -> None:
        """Where the spines of the run sit, as the cell names them (one row per spine)."""
        self._check_open()
        group = self._file.create_group("cell")
        group.attrs["model"] = model
        group.create_dataset("spine", data=np.asarray(spines, dtype="i8"))
        group.create_dataset("section", data=list(sections), dtype=h5py.string_dtype())
        group.create_dataset("x", data=np.asarray(x, dtype="f8"))
        group.create_dataset("head_volume_l", data=np.asarray(head_volume_l, dtype="f8"))
        _describe(self._file, self._output_unit)
        self._file.flush()

    def record_biochem(self, units: Mapping[str, str]) -> None:
        """Model variables (name -> unit) stored per spine at /biochem/recorded/<name>."""
        j = self._output.shape[1]
        for name, unit in units.items():
            ds = _growing(self._file.require_group("biochem/recorded"), name, j, "f8")
            ds.attrs["units"] = unit or "dimensionless"
            ds.attrs["description"] = f"{name} of each spine's model, at /biochem/time_ms"
            self._recorded_biochem[name] = ds

    def record_samples(self, units: Mapping[str, str]) -> None:
        """Cell variables (name -> unit) stored at /time_ms in /samples/<name>."""
        for name, unit in units.items():
            ds = _growing(self._file.require_group("samples"), name, None, "f8")
            ds.attrs["units"] = unit or "dimensionless"
            ds.attrs["description"] = f"{name} of the cell, at /time_ms"
            self._samples[name] = ds

    def append_recorded_samples(self, columns: Mapping[str, np.ndarray]) -> None:
        """Values of the recorded cell variables for the rows `append_samples` just wrote."""
        for name, values in columns.items():
            _append(self._samples[name], np.asarray(values, dtype="f8"))

    def write_exchange_units(self, units: Mapping[str, str]) -> None:
        """The unit of each coupling's exchanged values (/exchanges attribute, JSON)."""
        self._file["exchanges"].attrs["units_by_coupling"] = json.dumps(dict(units))

    def add_exchange(self, t_ms: float, coupling: str, value: float) -> None:
        """One exchange (buffered; written with the next flush)."""
        self._exchange_rows.append((t_ms, coupling, value))

    def write_windows(
        self, windows: Sequence[Any], spine_of: Mapping[str, int] | None = None
    ) -> None:
        """Append windows (WindowRecord-like objects or dicts).

        A record without `spine` gets `spine_of[its coupling label]`, else -1. `delivered`
        is stored as given, declared in mM: the source unit of an experiment's calcium
        couplings (docs/results-format.md).
        """
        self._check_open()
        if not windows:
            return
        rows = [w if isinstance(w, Mapping) else dataclasses.asdict(w) for w in windows]
        spine_of = spine_of or {}
        columns = {
            "spine": [_spine(r, spine_of) for r in rows],
            "coupling": [str(r.get("coupling", "")) for r in rows],
            "open_ms": [float(r["open_ms"]) for r in rows],
            "close_ms": [float(r.get("close_ms", math.nan)) for r in rows],
            "exchanges": [int(r.get("exchanges", 0)) for r in rows],
            "delivered": [float(r.get("delivered", 0.0)) for r in rows],
        }
        for key, values in columns.items():
            dtype = object if key == "coupling" else self._windows[key].dtype
            _append(self._windows[key], np.asarray(values, dtype=dtype))
        self.flush()

    def write_stats(self, stats: Any) -> None:
        """Store run statistics (a RunStats or a dict) as JSON, without windows and trace."""
        self._check_open()
        data = jsonable(stats)
        for bulky in ("windows", "trace"):
            data.pop(bulky, None)
        self._file["stats"].attrs["json"] = json.dumps(data)
        self.flush()

    # ------------------------------------------------------------------ lifecycle
    def flush(self) -> None:
        """Write buffered rows and push everything to disk (the file is valid afterwards)."""
        self._write_biochem()
        self._write_exchanges()
        self._clipped_ds[...] = self._clipped
        self._file.flush()
        self._last_flush = time.monotonic()

    def close(self, status: str = "complete") -> None:
        """Mark the run `status` ("complete", "interrupted" or "failed") and close the file."""
        if status not in STATUSES:
            raise ConfigError("status", f"one of {STATUSES}", status)
        if not self._file:
            return
        self.flush()
        self._file.attrs["status"] = status
        self.status = status
        self._file.close()
        self._lock.release()

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(ending_status(exc))

    def _check_open(self) -> None:
        if not self._file:
            raise TimescalesError(f"results file {self.path} is closed")

    def _write_exchanges(self) -> None:
        if not self._exchange_rows:
            return
        times, couplings, values = zip(*self._exchange_rows, strict=True)
        _append(self._exchanges["time_ms"], np.asarray(times, dtype="f8"))
        _append(self._exchanges["coupling"], np.asarray(couplings, dtype=object))
        _append(self._exchanges["value"], np.asarray(values, dtype="f8"))
        self._exchange_rows.clear()

    def _write_biochem(self) -> None:
        if not self._bio_rows:
            return
        _append(self._bio_time, np.array([r[0] for r in self._bio_rows]))
        _append(self._output, np.vstack([r[1] for r in self._bio_rows]))
        _append(self._weight, np.vstack([r[2] for r in self._bio_rows]))
        for name, dataset in self._recorded_biochem.items():
            _append(dataset, np.vstack([r[3][name] for r in self._bio_rows]))
        self._bio_rows.clear()


@dataclass
class Results:
    """A results file read into memory (numpy arrays and dicts)."""

    path: Path
    status: str
    experiment: dict[str, Any]
    provenance: dict[str, Any]
    time_ms: np.ndarray
    soma_v_mV: np.ndarray
    spines: np.ndarray
    calcium_mM: np.ndarray
    biochem_time_ms: np.ndarray
    biochem_spines: np.ndarray
    output: np.ndarray
    weight: np.ndarray
    windows: dict[str, np.ndarray]
    stats: dict[str, Any]
    clipped_weights: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="i8"))
    exchanges: dict[str, np.ndarray] = field(default_factory=dict)
    cell: dict[str, np.ndarray] = field(default_factory=dict)
    output_unit: str = "dimensionless"
    exchange_units: dict[str, str] = field(default_factory=dict)

    @classmethod
    def open(cls, path: str | Path) -> Results:
        """Read a results file (also one a killed run left with status "running")."""
        try:
            with h5py.File(path, "r") as f:
                return cls._read(Path(path), f)
        except OSError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise TimescalesError(f"{path}: not a readable results file ({first})") from None
        except KeyError as exc:
            raise TimescalesError(f"{path}: an incomplete results file (no {exc})") from None

    @classmethod
    def _read(cls, path: Path, f: h5py.File) -> Results:
        """The contents of an open results file."""
        fmt = f.attrs.get("format")
        if fmt != FORMAT:
            raise TimescalesError(f"{path}: not a {FORMAT} file (format {fmt!r})")
        return cls(
            path=path,
            status=str(f.attrs["status"]),
            experiment=json.loads(f.attrs["experiment"]),
            provenance=json.loads(f.attrs["provenance"]),
            time_ms=f["time_ms"][()],
            soma_v_mV=f["soma_v_mV"][()],
            spines=f["spines/numbers"][()],
            calcium_mM=f["spines/calcium_mM"][()],
            biochem_time_ms=f["biochem/time_ms"][()],
            biochem_spines=f["biochem/spines"][()],
            output=f["biochem/output"][()],
            weight=f["biochem/weight"][()],
            windows=_columns(f, "windows"),
            stats=json.loads(f["stats"].attrs["json"]),
            exchanges=_columns(f, "exchanges"),
            cell=_columns(f, "cell"),
            clipped_weights=f["stats/clipped_weights"][()],
            output_unit=str(f["biochem/output"].attrs.get("units", "dimensionless")),
            exchange_units=json.loads(f["exchanges"].attrs.get("units_by_coupling", "{}"))
            if "exchanges" in f
            else {},
        )

    def stimulus_times_ms(self) -> dict[int, dict[str, list[float]]]:
        """Spine -> synapse -> input times, from the experiment stored in the file."""
        return merged_times(self.experiment.get("stimulus", []))

    def reached_ms(self) -> float:
        """The last time the file reached (ms): its last sample, sync or window opening (NaN
        for a file with none); a window still open at the end is open until then."""
        times = [float(a[-1]) for a in (self.time_ms, self.biochem_time_ms) if a.size]
        opened = self.windows.get("open_ms", np.zeros(0))
        times += [float(np.nanmax(opened))] if opened.size else []
        return max(times) if times else math.nan

    def final_weights(self) -> dict[int, float]:
        """The last recorded weight of every spine that has a biochemical model."""
        if self.weight.shape[0] == 0:
            return {}
        return {int(s): float(self.weight[-1, i]) for i, s in enumerate(self.biochem_spines)}

    def to_xarray(self) -> Any:
        """One xarray Dataset with coordinates time, sync_time and spine, units as attributes
        (needs xarray; `timescales.notebook.to_xarray`)."""
        from .notebook import to_xarray

        return to_xarray(self)

    def windows_frame(self) -> Any:
        """The coupled windows as a pandas DataFrame, one row each (needs pandas)."""
        from .notebook import windows_frame

        return windows_frame(self)

    def _repr_html_(self) -> str:
        """Jupyter's view: experiment, status, spines, windows, exchanges, final weights."""
        from .notebook import html_summary

        return html_summary(self)
