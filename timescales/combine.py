"""COMBINE archives (OMEX) as biochemical models: `model = "model.omex"` in an experiment.

python-libcombine reads the archive. The model is its master SBML file (or its only SBML
file), or the entry named after `#` (`"model.omex#models/spine.xml"`); the model changes
the archive's SED-ML sets on that file are applied (`timescales.sedml`). Simulators read
files, so the resulting SBML is written once into the user cache under its content's
sha256 (the results file's provenance records that file's hash). A broken archive or a
missing entry is an ArchiveError: one line naming the archive, the entry and what was
expected.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import platformdirs

from .errors import ArchiveError
from .optional import require
from .sedml import Change, ModelChanges, apply, changes_for

SUFFIX = ".omex"
REFERENCE = re.compile(r"^(?P<archive>.*?\.omex)(?:#(?P<entry>.*))?$", re.IGNORECASE)
ARCHIVE = "a COMBINE archive (a zip file with manifest.xml)"


@dataclass(frozen=True, slots=True)
class Entry:
    """One file the archive's manifest lists: where, its format, whether it is the master."""

    location: str
    format: str
    master: bool

    @property
    def kind(self) -> str:
        """The format's short name: 'sbml', 'sed-ml', ... (the identifiers.org name's last part)."""
        return self.format.rsplit("/", 1)[-1].split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class ArchiveModel:
    """The SBML model of an archive, with the SED-ML changes applied to it."""

    archive: Path
    entry: str
    contents: tuple[Entry, ...]
    sedml: ModelChanges
    changes: tuple[Change, ...]
    sbml: str

    @property
    def reference(self) -> str:
        return f"{self.archive}#{self.entry}"

    def file(self) -> Path:
        """The SBML as a file in the user cache (written once; the name holds its sha256)."""
        digest = hashlib.sha256(self.sbml.encode("utf-8")).hexdigest()
        target = cache_dir() / digest[:16] / PurePosixPath(self.entry).name
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=target.parent, suffix=".part", delete=False
            ) as tmp:
                tmp.write(self.sbml)
            Path(tmp.name).replace(target)
        return target


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("timescales")) / "combine"


def is_archive(model: str) -> bool:
    """Whether a `biochemistry.model` names a COMBINE archive (`*.omex`, `*.omex#entry`)."""
    return REFERENCE.match(model) is not None


def split(model: str) -> tuple[Path, str | None]:
    """The archive's path and the entry named after `#` (None: the master SBML file)."""
    match = REFERENCE.match(model)
    if match is None:
        raise ArchiveError(model, "a COMBINE archive (a .omex file)", "another name")
    return Path(match["archive"]), _location(match["entry"]) if match["entry"] else None


def absolute(model: str, base_dir: Path) -> str:
    """`model` with the archive's path made absolute against `base_dir`."""
    archive, entry = split(model)
    path = str((base_dir / archive).resolve())
    return f"{path}#{entry}" if entry else path


def read(model: str) -> ArchiveModel:
    """The SBML model an archive reference names, SED-ML changes applied."""
    path, wanted = split(model)
    archive = _open(path)
    try:
        contents = _contents(archive)
        entry = wanted or _master(path, contents)
        sbml = _text(archive, path, entry, contents)
        if "<sbml" not in sbml[:4096]:
            raise ArchiveError(f"{path}#{entry}", "an SBML file", "another kind of file")
        documents = {
            e.location: _text(archive, path, e.location, contents)
            for e in sorted(contents, key=lambda e: not e.master)
            if e.kind == "sed-ml"
        }
    finally:
        archive.cleanUp()
    sedml = changes_for(entry, documents, str(path))
    text, changes = apply(sbml, f"{path}#{entry}", sedml.changes)
    return ArchiveModel(path, entry, contents, sedml, changes, text)


def describe(model: ArchiveModel) -> list[str]:
    """Lines for `timescales info`: the archive's entries, the model, the changes applied."""
    n = len(model.contents)
    lines = [f"archive {model.archive} ({n} {'entry' if n == 1 else 'entries'}):"]
    for e in model.contents:
        lines.append(f"  {e.location}  {e.kind}{'  (master)' if e.master else ''}")
    lines.append(f"model: {model.entry}")
    if model.sedml.model is None:
        lines.append("SED-ML changes: none (no SED-ML model of this file)")
    else:
        lines.append(
            f"SED-ML changes of model {model.sedml.model!r} in {model.sedml.sedml} "
            f"({len(model.changes)}):"
        )
        lines += [f"  {change.describe()}" for change in model.changes]
    if model.sedml.others:
        others = ", ".join(model.sedml.others)
        lines.append(f"other SED-ML models of this file, not applied: {others}")
    return lines


def _location(location: str) -> str:
    """An archive location without its leading './' or '/'."""
    text = location.strip()
    while text.startswith(("./", "/")):
        text = text[2:] if text.startswith("./") else text[1:]
    return text


def _open(path: Path) -> Any:
    if not path.is_file():
        raise ArchiveError(str(path), ARCHIVE, "no such file")
    if not zipfile.is_zipfile(path):
        raise ArchiveError(str(path), ARCHIVE, "a file that is not a zip archive")
    with zipfile.ZipFile(path) as z:
        if "manifest.xml" not in {_location(n) for n in z.namelist()}:
            raise ArchiveError(str(path), ARCHIVE, "a zip file without manifest.xml")
    libcombine = require("libcombine", "python-libcombine", "combine", "a COMBINE archive")
    archive = libcombine.CombineArchive()
    if not archive.initializeFromArchive(str(path)):
        raise ArchiveError(str(path), ARCHIVE, "a manifest.xml libcombine cannot read")
    return archive


def _contents(archive: Any) -> tuple[Entry, ...]:
    manifest = archive.getManifest()
    entries = []
    for i in range(manifest.getNumContents()):
        content = manifest.getContent(i)
        location = _location(content.getLocation())
        if location not in ("", ".", "manifest.xml"):
            entries.append(Entry(location, content.getFormat(), bool(content.getMaster())))
    return tuple(entries)


def _master(path: Path, contents: tuple[Entry, ...]) -> str:
    sbml = [e for e in contents if e.kind == "sbml"]
    masters = [e for e in sbml if e.master]
    if masters:
        return masters[0].location
    if len(sbml) == 1:
        return sbml[0].location
    found = ", ".join(e.location for e in sbml) if sbml else "none"
    raise ArchiveError(
        str(path),
        f"a master SBML file, or one named after '#' ({path.name}#<entry>)",
        f"SBML files: {found}",
    )


def _text(archive: Any, path: Path, entry: str, contents: tuple[Entry, ...]) -> str:
    listed = {e.location for e in contents}
    if entry not in listed:
        raise ArchiveError(
            f"{path}#{entry}",
            f"an entry of the archive ({', '.join(sorted(listed))})",
            "none of that name",
        )
    text = str(archive.extractEntryToString(entry))
    if not text:
        raise ArchiveError(
            f"{path}#{entry}", "the file manifest.xml lists", "none in the zip archive"
        )
    return text
