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
from .coupling import Copy, Coupling, Deadband, Endpoint, Flux, Ratio, Window
from .errors import (
    AdapterError,
    ConfigError,
    ModelError,
    TimescalesError,
    UnitError,
    UnknownNameError,
)
from .registry import available_adapters, load_adapter
from .runstats import RunStats, WindowRecord
from .scheduler import Scheduler
from .strategies import EventDriven, FixedInterval, Lockstep, ScheduledWindows, Strategy

__version__ = "0.1.0"

#: Loaded on first use: experiments bring in h5py and pydantic, which the core does not need.
_LAZY = {"Experiment", "RunResult"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from .experiment import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'timescales' has no attribute {name!r}")


__all__ = [
    "Adapter",
    "AdapterError",
    "AdapterStats",
    "Capabilities",
    "ConfigError",
    "Copy",
    "Coupling",
    "Deadband",
    "Endpoint",
    "EventDriven",
    "Experiment",
    "FixedInterval",
    "Flux",
    "Lockstep",
    "ModelError",
    "Ratio",
    "Reached",
    "RunResult",
    "RunStats",
    "Samples",
    "ScheduledWindows",
    "Scheduler",
    "Series",
    "Strategy",
    "TimescalesError",
    "UnitError",
    "UnknownNameError",
    "Variable",
    "Watch",
    "Window",
    "WindowRecord",
    "__version__",
    "available_adapters",
    "gather",
    "load_adapter",
    "scatter",
]
