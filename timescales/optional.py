"""Optional dependencies, imported when a feature first needs them.

The core installs without the readers and writers of other tools' formats (COMBINE
archives, NWB, xarray, pandas); a feature that needs one imports it here, and its absence
is one line naming the package and the extra that installs it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import TimescalesError


class MissingDependency(TimescalesError):
    """A feature's optional package is not installed."""


def require(module: str, package: str, extra: str, feature: str) -> ModuleType:
    """`module`, imported; else MissingDependency saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependency(
            f"{feature} needs {package}, which is not installed "
            f"(pip install {package}, or pip install 'timescales[{extra}]')"
        ) from None
