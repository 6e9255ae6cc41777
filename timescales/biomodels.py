"""Published models by BioModels id: `model = "biomodels:BIOMD0000000183"` in an experiment.

The file is looked up in the folders of `TIMESCALES_MODEL_PATH` (os.pathsep-separated),
then in the user cache, and otherwise downloaded from BioModels into the cache (written
to a temporary file and renamed, so a broken download leaves nothing behind). A model is
thus named once and found in any clone or install, without a copy in the repository.
"""

from __future__ import annotations

import os
import re
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import platformdirs

from .errors import ModelError

PREFIX = "biomodels:"
PATH_VAR = "TIMESCALES_MODEL_PATH"
ID = re.compile(r"^(BIOMD|MODEL)\d{10}$")
URL = "https://www.ebi.ac.uk/biomodels/model/download/{id}?filename={id}_url.xml"
TIMEOUT_S = 60.0


def is_biomodels(model: str) -> bool:
    return model.startswith(PREFIX)


def model_id(model: str) -> str:
    """The id in `biomodels:<id>`; a malformed id raises ModelError."""
    ident = model[len(PREFIX) :]
    if not ID.match(ident):
        raise ModelError(f"{model!r}: expected biomodels:BIOMD followed by 10 digits")
    return ident


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("timescales")) / "biomodels"


def find(ident: str) -> Path | None:
    """The model's file in TIMESCALES_MODEL_PATH or the cache, if there."""
    folders = [Path(p) for p in os.environ.get(PATH_VAR, "").split(os.pathsep) if p]
    for folder in [*folders, cache_dir()]:
        for name in (f"{ident}.xml", f"{ident}_url.xml"):
            if (folder / name).is_file():
                return folder / name
    return None


def fetch(ident: str) -> Path:
    """Download the model into the cache (atomically); errors name the id and the way out."""
    url = URL.format(id=ident)
    target = cache_dir() / f"{ident}.xml"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            data = response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise ModelError(
            f"biomodels:{ident}: not in {PATH_VAR} or {cache_dir()}, and the download from "
            f"{url} failed ({exc}); put {ident}.xml in a folder listed in {PATH_VAR}"
        ) from None
    if b"<sbml" not in data[:4096]:
        raise ModelError(f"biomodels:{ident}: {url} did not return an SBML file")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part", delete=False) as tmp:
        tmp.write(data)
    Path(tmp.name).replace(target)
    return target


def resolve(model: str) -> Path:
    """The local file of `biomodels:<id>`, downloading it once if needed."""
    ident = model_id(model)
    return find(ident) or fetch(ident)
