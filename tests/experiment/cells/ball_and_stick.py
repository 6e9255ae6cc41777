"""A ball-and-stick cell: a soma with Hodgkin-Huxley channels and a passive dendrite."""

from neuron import h


def build():
    soma = h.Section(name="soma")
    soma.L = soma.diam = 20.0
    soma.insert("hh")
    dend = h.Section(name="dend")
    dend.L, dend.diam, dend.nseg = 200.0, 1.0, 11
    dend.insert("pas")
    for seg in dend:
        seg.pas.g, seg.pas.e = 1e-4, -65.0
    dend.connect(soma(1))
    return [soma, dend]
