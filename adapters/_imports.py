"""Import libRoadRunner and NEURON in an order that cannot crash, whatever the user imported first.

Both libraries export the whole SUNDIALS CVODE API. When a system MPI library is present, NEURON
makes its copy global, and a RoadRunner loaded afterwards binds to it and segfaults at the first
model load. Loading RoadRunner's shared libraries with RTLD_DEEPBIND makes them resolve their own
symbols first, which is safe in both orders; and `import_neuron` loads RoadRunner before NEURON.
Code that does `import roadrunner` itself after `import neuron` is beyond our reach: import
through these functions (or import `roadrunner` first).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType

#: Where SUNDIALS (6 and later, RoadRunner's integrators) writes its warnings and errors.
SUNDIALS_LOGS = ("SUNLOGGER_WARNING_FILENAME", "SUNLOGGER_ERROR_FILENAME")


@contextlib.contextmanager
def _deepbind() -> Iterator[None]:
    """Load extension modules with RTLD_NOW | RTLD_DEEPBIND for the duration of the block."""
    old_flags = sys.getdlopenflags()
    sys.setdlopenflags(os.RTLD_NOW | os.RTLD_DEEPBIND)
    try:
        yield
    finally:
        sys.setdlopenflags(old_flags)


def import_roadrunner() -> ModuleType:
    """The `roadrunner` module, loaded so that it uses its own SUNDIALS even after NEURON.

    Also turns off RoadRunner's per-model Python properties: they are set on the class, so a
    model with an id such as `reset` replaces that method, and the next load deletes it for
    the whole process (SBML Test Suite cases 00952 and others do this). Values are read
    with `getValue` and selections instead, which is also faster to load.

    When this call loads RoadRunner, it also turns RoadRunner's log down to critical messages
    and sends SUNDIALS' warnings and errors to os.devnull (SUNLOGGER_WARNING_FILENAME and
    SUNLOGGER_ERROR_FILENAME set by the user are kept): the adapter raises every integrator
    failure with the integrator's message, which the command line prints as one line.
    """
    if "roadrunner" not in sys.modules:
        for variable in SUNDIALS_LOGS:
            os.environ.setdefault(variable, os.devnull)
        with _deepbind():
            import roadrunner
        roadrunner.Logger.setLevel(roadrunner.Logger.LOG_CRITICAL)
    roadrunner = sys.modules["roadrunner"]
    config = roadrunner.Config
    config.setValue(config.ROADRUNNER_DISABLE_PYTHON_DYNAMIC_PROPERTIES, True)
    return roadrunner


def import_neuron() -> ModuleType:
    """The `neuron` module (`neuron.h` ready), with RoadRunner loaded first when installed.

    Sets NEURON_MODULE_OPTIONS=-nogui unless the user set it, to silence the DISPLAY warning.
    """
    os.environ.setdefault("NEURON_MODULE_OPTIONS", "-nogui")
    if "neuron" not in sys.modules:
        with contextlib.suppress(ImportError):
            import_roadrunner()
    import neuron

    return neuron
