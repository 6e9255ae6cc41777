"""Published models by BioModels id: `model = "biomodels:BIOMD0000000183"` in an experiment.

The file is looked up in the folders of `TIMESCALES_MODEL_PATH` (os.pathsep-separated),
then in the BioModels folder of the timescales cache, and otherwise downloaded from
BioModels into that folder (written to a temporary file and renamed, so a broken download
leaves nothing behind). A model is thus named once and found in any clone or install,
without a copy in the repository.
"""

from __future__ import annotations

import http.client
import os
import re
import tempfile
import urllib.request
from pathlib import Path

from .cache import CACHE_ENV, cache_root
from .errors import ModelError

PREFIX = "biomodels:"
PATH_VAR = "TIMESCALES_MODEL_PATH"
#: Curated BioModels ids, whose main file is `<id>_url.xml`.
ID = re.compile(r"^BIOMD\d{10}$")
#: BioModels' download service for a model's main SBML file.
URL = "https://www.ebi.ac.uk/biomodels/model/download/{id}?filename={id}_url.xml"
TIMEOUT_S = 60.0


def is_biomodels(model: str) -> bool:
    """Whether a model name is a BioModels id (`biomodels:<id>`)."""
    return model.startswith(PREFIX)


def model_id(model: str) -> str:
    """The id in `biomodels:<id>`; a malformed id raises ModelError."""
    ident = model[len(PREFIX) :]
    if not ID.match(ident):
        raise ModelError(f"{model!r}: expected biomodels:BIOMD followed by 10 digits")
    return ident


def cache_dir() -> Path:
    """Where downloaded BioModels files are kept: `biomodels` in the timescales cache."""
    return cache_root() / "biomodels"


def search_path() -> list[Path]:
    """The folders searched before the cache: those of TIMESCALES_MODEL_PATH, in order."""
    return [Path(p) for p in os.environ.get(PATH_VAR, "").split(os.pathsep) if p]


def find(ident: str) -> Path | None:
    """The model's file in TIMESCALES_MODEL_PATH or the cache, if there."""
    for folder in [*search_path(), cache_dir()]:
        for name in (f"{ident}.xml", f"{ident}_url.xml"):
            if (folder / name).is_file():
                return folder / name
    return None


def fetch(ident: str) -> Path:
    """Download the model into the cache; errors name the id, the URL and the way out."""
    url = URL.format(id=ident)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            data = response.read()
    except (OSError, http.client.HTTPException) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ModelError(
            f"biomodels:{ident}: not in {PATH_VAR} or {cache_dir()}, and the download from "
            f"{url} failed ({reason}); put {ident}.xml in a folder listed in {PATH_VAR}"
        ) from None
    if b"<sbml" not in data[:4096]:
        raise ModelError(f"biomodels:{ident}: {url} did not return an SBML file")
    return _store(cache_dir() / f"{ident}.xml", data)


def _store(target: Path, data: bytes) -> Path:
    """Write `data` to `target` through a temporary file beside it, renamed into place, so
    no reader ever sees a partial file."""
    part: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False
        ) as tmp:
            part = Path(tmp.name)
            tmp.write(data)
        part.replace(target)
    except OSError as exc:
        if part is not None:
            part.unlink(missing_ok=True)
        raise ModelError(
            f"{target}: the downloaded model cannot be written ({exc.strerror or exc}); "
            f"set {CACHE_ENV} to a writable folder"
        ) from None
    return target


def resolve(model: str) -> Path:
    """The local file of `biomodels:<id>`, downloading it once if needed."""
    ident = model_id(model)
    return find(ident) or fetch(ident)
