"""Axial diffusion of a spine's calcium shells: a SpineAxial point process per spine.

catrack's `ca[4]` and caltrack's `cal[4]` diffuse along the spine's chain of segments
(neck, head, PSD). NEURON's LONGITUDINAL_DIFFUSION would solve it, but in NEURON 9 it costs
more than the rest of the MSN's step (10 of 18 ms per step with 1504 spines). SpineAxial
(mod/spineaxial.mod) solves NEURON's scheme in compiled code; this module gives it the
chain's POINTERs and the coefficients NEURON would derive from the geometry (nrnoc ldifus):
between a node and its parent, af = 2 rall / dx_p / (dx_c + dx_p) in the parent's row and
bf = 2 / dx_c / (dx_c + dx_p) in the node's, dx = L / nseg of each node's section, rall the
node section's rallbranch at its first node (1 elsewhere).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from timescales.errors import ModelError

__all__ = ["CHAIN_NODES", "spine_axial"]

CHAIN_NODES = 5  # SpineAxial's chain: node 0 (the neck's first segment) to node 4
POOLS = (("catrack", "ca", "ca", "DCa_catrack"), ("caltrack", "cal", "cl", "DCa_caltrack"))


def spine_axial(h: Any, sections: Sequence[Any]) -> Any:
    """A SpineAxial on the chain of `sections` (root first, each at its parent's x=1 end).

    The root section's parent must not carry the pools (the chain starts there, as in
    NEURON's own solve); the chain must have CHAIN_NODES segments.
    """
    _check_chain(h, sections)
    nodes = [(seg, k == 0) for sec in sections for k, seg in enumerate(sec)]
    if len(nodes) != CHAIN_NODES:
        names = ", ".join(f"{sec.name()} (nseg {sec.nseg})" for sec in sections)
        raise ModelError(
            f"SpineAxial needs {CHAIN_NODES} segments; the chain {names} has {len(nodes)}"
        )
    axial = h.SpineAxial(sections[-1](0.5))
    for k, (seg, first) in enumerate(nodes):
        setattr(axial, f"s{k}", seg.diam**2)
        if k == 0:
            continue
        parent = nodes[k - 1][0]
        dxc, dxp = seg.sec.L / seg.sec.nseg, parent.sec.L / parent.sec.nseg
        rall = seg.sec.rallbranch if first else 1.0
        setattr(axial, f"af{k}", 2 * rall / dxp / (dxc + dxp))
        setattr(axial, f"bf{k}", 2 / dxc / (dxc + dxp))
    for mechanism, state, prefix, diffusion in POOLS:
        h.setpointer(getattr(h, f"_ref_{diffusion}"), f"D{prefix}", axial)
        for k, (seg, _) in enumerate(nodes):
            shells = getattr(getattr(seg, mechanism), f"_ref_{state}")
            h.setpointer(shells[0], f"{prefix}{k}", axial)
    return axial


def _check_chain(h: Any, sections: Sequence[Any]) -> None:
    for sec in sections:
        for mechanism, *_ in POOLS:
            if not h.ismembrane(mechanism, sec=sec):
                raise ModelError(f"SpineAxial: {sec.name()} has no {mechanism}")
    root = sections[0].parentseg()
    if root is not None and any(h.ismembrane(m, sec=root.sec) for m, *_ in POOLS):
        raise ModelError(f"SpineAxial: the chain's root {sections[0].name()} joins a pool section")
    for parent, child in itertools.pairwise(sections):
        ref = child.parentseg()
        if ref is None or ref.sec != parent or not math.isclose(ref.x, 1.0):
            raise ModelError(f"SpineAxial: {child.name()} must join {parent.name()}(1)")
        if child.orientation() != 0.0:
            raise ModelError(f"SpineAxial: {child.name()} must be oriented 0 -> 1")
