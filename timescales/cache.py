"""The one folder under which timescales keeps what it builds or downloads.

Compiled NEURON mechanisms and BioModels files live in subfolders of it, so moving the
cache (for a read-only home, a shared machine or CI) is one environment variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

#: Environment variable that moves the cache root.
CACHE_ENV = "TIMESCALES_CACHE"


def cache_root() -> Path:
    """$TIMESCALES_CACHE, else the user cache folder of timescales (platformdirs)."""
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else Path(platformdirs.user_cache_dir("timescales"))
