"""Run one SBML Test Suite case through the RoadRunner adapter, stopping at sync points.

At each of N irregularly placed sync points every species amount is read and written back,
which forces a full stop-and-go (integrator restart) there; the output is the case's CSV
(time column plus the requested amounts or concentrations), comparable with the reference.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from timescales.errors import ModelError

from .roadrunner import RoadRunnerAdapter, SBMLModel
from .sbml_model import AMOUNT_SUFFIX

#: Preferred SBML file of a case, best first.
LEVELS = ("l3v2", "l3v1", "l2v5", "l2v4", "l2v3", "l2v2", "l2v1", "l1v2")
#: Integrator tolerances (relative, absolute) for suite runs: tighter than the suite's own.
SUITE_TOLERANCES = (1e-9, 1e-14)


@dataclass(frozen=True, slots=True)
class CaseSettings:
    """The fields of an NNNNN-settings.txt file that a time course needs."""

    start: float
    duration: float
    steps: int
    variables: tuple[str, ...]
    absolute: float
    relative: float
    amount: frozenset[str]

    @classmethod
    def read(cls, path: Path) -> CaseSettings:
        fields: dict[str, str] = {}
        for line in path.read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()

        def names(key: str) -> tuple[str, ...]:
            return tuple(n.strip() for n in fields.get(key, "").split(",") if n.strip())

        try:
            return cls(
                start=float(fields["start"]),
                duration=float(fields["duration"]),
                steps=int(fields["steps"]),
                variables=names("variables"),
                absolute=float(fields["absolute"]),
                relative=float(fields["relative"]),
                amount=frozenset(names("amount")),
            )
        except (KeyError, ValueError) as exc:
            raise ModelError(f"{path}: not a time-course settings file ({exc})") from exc


def case_dir(cases_dir: Path | str, case_id: str | int) -> tuple[Path, str]:
    """The directory and five-digit id of a case (`case_id` may be 1, "1" or "00001")."""
    cid = f"{int(case_id):05d}"
    path = Path(cases_dir) / cid
    if not path.is_dir():
        raise ModelError(f"{path}: no such SBML Test Suite case")
    return path, cid


def sbml_file(path: Path, cid: str) -> Path:
    """The case's SBML file of the highest level and version present."""
    for level in LEVELS:
        candidate = path / f"{cid}-sbml-{level}.xml"
        if candidate.is_file():
            return candidate
    raise ModelError(f"{path}: case {cid} has no SBML file")


def sync_times(cid: str, t_end: float, n: int) -> np.ndarray:
    """`n` irregular, reproducible times in (0, t_end), seeded by the case id."""
    rng = np.random.default_rng(int(cid))
    return np.sort(rng.uniform(0.0, t_end, n)) if t_end > 0 else np.zeros(0)


def column(model: SBMLModel, name: str, settings: CaseSettings) -> str:
    """The adapter variable for a results column (species as amount when the case asks)."""
    if name in model.species_info and name in settings.amount:
        return name + AMOUNT_SUFFIX
    return name


def run_case(
    cases_dir: Path | str, case_id: str | int, out_dir: Path | str, sync_points: int = 7
) -> Path:
    """Simulate one case with `sync_points` stop-and-go points; write OUT_DIR/CASE_ID.csv."""
    path, cid = case_dir(cases_dir, case_id)
    settings = CaseSettings.read(path / f"{cid}-settings.txt")
    model = SBMLModel.load(sbml_file(path, cid))
    columns = [column(model, v, settings) for v in settings.variables]
    for name in columns:
        model.resolve(name)
    adapter = RoadRunnerAdapter(model, label=f"case {cid}", integrator_tolerances=SUITE_TOLERANCES)
    ms = model.ms_per_time_unit
    times = settings.start + np.linspace(0.0, settings.duration, settings.steps + 1)
    syncs = sync_times(cid, float(times[-1]), sync_points)
    settable = [
        f"{s}{AMOUNT_SUFFIX}" for s, info in model.species_info.items() if info.rule != "assignment"
    ]
    rows = []
    adapter.initialize(0.0)
    events = sorted([(float(t), 0) for t in times] + [(float(t), 1) for t in syncs])
    for t, is_sync in events:
        adapter.advance(t * ms)
        if is_sync:
            adapter.set_many(settable, adapter.get_many(settable))
        else:
            rows.append([t, *adapter.get_many(columns)])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{cid}.csv"
    with target.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time", *settings.variables])
        writer.writerows([[repr(float(v)) for v in row] for row in rows])
    return target


def _read_table(path: Path) -> tuple[list[str], np.ndarray]:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    header = [h.strip() for h in rows[0]]
    values = np.array([[float(x) for x in row] for row in rows[1:] if row], dtype=float)
    return header, values


def compare_case(cases_dir: Path | str, case_id: str | int, result: Path) -> str:
    """ "" when `result` matches the reference within the case's tolerances, else the reason."""
    path, cid = case_dir(cases_dir, case_id)
    settings = CaseSettings.read(path / f"{cid}-settings.txt")
    ref_header, expected = _read_table(path / f"{cid}-results.csv")
    header, got = _read_table(result)
    if expected.shape != got.shape:
        return f"shape {got.shape} != reference {expected.shape}"
    for j, name in enumerate(ref_header):
        if j >= len(header) or header[j] != name:
            return f"column {j} is {header[j] if j < len(header) else None!r}, expected {name!r}"
        c, u = expected[:, j], got[:, j]
        same = (c == u) | (np.isnan(c) & np.isnan(u))
        with np.errstate(invalid="ignore"):
            close = np.abs(c - u) <= settings.absolute + settings.relative * np.abs(c)
        bad = np.flatnonzero(~(same | close))
        if bad.size:
            i = int(bad[0])
            return (
                f"{name} at time {expected[i, 0]:g}: got {u[i]:.10g}, expected {c[i]:.10g} "
                f"(abs {settings.absolute:g}, rel {settings.relative:g}; {bad.size} bad points)"
            )
    return ""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cases_dir", type=Path, help="directory holding the NNNNN case folders")
    parser.add_argument("case_id", help="case number, e.g. 1 or 00001")
    parser.add_argument("out_dir", type=Path, help="where CASE_ID.csv is written")
    parser.add_argument(
        "--sync-points",
        type=int,
        default=7,
        help="irregular stop-and-go points, each reading and writing back every species",
    )


def run(args: argparse.Namespace) -> int:
    """CLI entry: 0 when the CSV is written and matches the reference (if present), else 1."""
    if args.sync_points < 0:
        print(f"--sync-points must be >= 0, got {args.sync_points}")
        return 2
    target = run_case(args.cases_dir, args.case_id, args.out_dir, args.sync_points)
    print(f"wrote {target}")
    path, cid = case_dir(args.cases_dir, args.case_id)
    if not (path / f"{cid}-results.csv").is_file():
        return 0
    reason = compare_case(args.cases_dir, args.case_id, target)
    print(
        "matches the reference results" if not reason else f"differs from the reference: {reason}"
    )
    return 0 if not reason else 1


__all__ = ["CaseSettings", "add_arguments", "compare_case", "run", "run_case"]
