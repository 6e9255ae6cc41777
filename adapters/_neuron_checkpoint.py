"""What a NEURON checkpoint holds besides SaveState, and SaveState itself as bytes.

SaveState keeps the STATE variables, membrane potentials, ion concentrations, t and the
event queue. It misses values that are not states but still carry the past into the
future: ASSIGNED variables a mechanism updates from one step to the next (catrack's
`ica_pmp_last`), PARAMETERs changed during a run, and NetCon weights. A checkpoint
keeps every range PARAMETER and ASSIGNED of every mechanism and point process, and every
NetCon weight, and puts them back after SaveState's restore.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

#: MechanismStandard's variable kinds: PARAMETER and ASSIGNED.
_KINDS = (1, 2)


def savestate_bytes(state: Any, h: Any) -> bytes:
    """A SaveState (already `save()`d) as bytes, through NEURON's own file format."""
    fd, name = tempfile.mkstemp(prefix="timescales-savestate-")
    os.close(fd)
    try:
        f = h.File(name)
        f.wopen(name)
        state.fwrite(f, 1)
        with open(name, "rb") as stream:
            return stream.read()
    finally:
        os.unlink(name)


def savestate_from_bytes(data: bytes, h: Any) -> Any:
    """A SaveState read from `savestate_bytes`' output, ready to `restore()`."""
    fd, name = tempfile.mkstemp(prefix="timescales-savestate-")
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        state = h.SaveState()
        f = h.File(name)
        f.ropen(name)
        state.fread(f, 1)
        return state
    finally:
        os.unlink(name)


class RangeValues:
    """Every scalar range PARAMETER and ASSIGNED of every mechanism and point process, read
    and written through one PtrVector (built on first use, in the cell's section order)."""

    def __init__(self, h: Any) -> None:
        self._h = h
        self._pointers: Any = None
        self._buffer: Any = None
        self._names: dict[tuple[str, int], list[str]] = {}

    def values(self) -> np.ndarray:
        if self._pointers is None:
            self._build()
        self._pointers.gather(self._buffer)
        return self._buffer.as_numpy().copy()

    def restore(self, values: np.ndarray) -> None:
        if self._pointers is None:
            self._build()
        if len(values) != int(self._buffer.size()):
            raise ValueError(
                f"checkpoint holds {len(values)} mechanism values, the model has "
                f"{int(self._buffer.size())}: not the model that was saved"
            )
        self._buffer.from_python(values)
        self._pointers.scatter(self._buffer)

    def forget(self) -> None:
        self._pointers = self._buffer = None

    def _build(self) -> None:
        refs = []
        for sec in self._h.allsec():
            for seg in sec:
                for mech in seg:
                    if not mech.is_ion():
                        refs += [getattr(mech, f"_ref_{v}") for v in self._scalars(mech.name())]
        for name in self._point_processes():
            for obj in self._h.List(name):
                refs += [getattr(obj, f"_ref_{v}") for v in self._scalars(name, suffix=False)]
        self._pointers = self._h.PtrVector(max(1, len(refs)))
        for i, ref in enumerate(refs):
            self._pointers.pset(i, ref)
        self._buffer = self._h.Vector(max(1, len(refs)))

    def _scalars(self, mech: str, suffix: bool = True) -> list[str]:
        """The scalar PARAMETER and ASSIGNED range variables of `mech`, as its objects
        name them (without the `_mech` suffix of a density mechanism)."""
        key = (mech, int(suffix))
        if key not in self._names:
            text = self._h.ref("")
            names = []
            for kind in _KINDS:
                standard = self._h.MechanismStandard(mech, kind)
                for i in range(int(standard.count())):
                    if int(standard.name(text, i)) == 1:
                        name = str(text[0])
                        names.append(name.removesuffix(f"_{mech}") if suffix else name)
            self._names[key] = names
        return self._names[key]

    def _point_processes(self) -> list[str]:
        kinds = self._h.MechanismType(1)
        text = self._h.ref("")
        names = []
        for i in range(int(kinds.count())):
            kinds.select(i)
            kinds.selected(text)
            names.append(str(text[0]))
        return names


def netcon_weights(h: Any) -> list[list[float]]:
    """Every NetCon's weights, in NEURON's order of NetCons."""
    return [[nc.weight[k] for k in range(int(nc.wcnt()))] for nc in h.List("NetCon")]


def set_netcon_weights(h: Any, weights: list[list[float]]) -> None:
    netcons = list(h.List("NetCon"))
    if len(netcons) != len(weights):
        raise ValueError(
            f"checkpoint holds {len(weights)} NetCons, the model has {len(netcons)}: "
            "not the model that was saved"
        )
    for nc, values in zip(netcons, weights, strict=True):
        for k, w in enumerate(values):
            nc.weight[k] = w
