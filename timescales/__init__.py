"""timescales: event-driven co-simulation of electrical and biochemical neuron models."""

from .adapter import (
    Adapter,
    AdapterStats,
    Capabilities,
    Reached,
    Samples,
    Series,
    Variable,
    Watch,
    gather,
    scatter,
)
from .errors import (
    AdapterError,
    ConfigError,
    ModelError,
    TimescalesError,
    UnitError,
    UnknownNameError,
)
from .registry import available_adapters, load_adapter

__version__ = "0.1.0"

__all__ = [
    "Adapter",
    "AdapterError",
    "AdapterStats",
    "Capabilities",
    "ConfigError",
    "ModelError",
    "Reached",
    "Samples",
    "Series",
    "TimescalesError",
    "UnitError",
    "UnknownNameError",
    "Variable",
    "Watch",
    "__version__",
    "available_adapters",
    "gather",
    "load_adapter",
    "scatter",
]
