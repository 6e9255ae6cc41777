TITLE NMDA: saturating beta-function synapse with a calcium share (Hake 2004, Wolf 2005)

COMMENT
Point process in the spine PSD. On each event the local memory y1_loc of the connection
decays, `add = 1 - y1_loc / saturation` is added to y1_loc and to y1, and `scale` takes the
event's weight: the weight of the latest event scales the whole conductance. Time
constants are divided by qfact (22 -> 35 degC). The fraction ca_ratio of the current is
carried by the cal ion (valence 2), the rest is non-specific.
Magnesium block B(v) of Jahr & Stevens, tabulated -100..100 mV with 201 points.
ENDCOMMENT

NEURON {
    THREADSAFE
    POINT_PROCESS NMDA
    NONSPECIFIC_CURRENT i
    USEION cal WRITE ical VALENCE 2
    RANGE gbar, tau_r, tau_d, Erev, saturation, ca_ratio, g, itmp, scale, y1, y2, t1, B, mg
}

INCLUDE "libm_exp.inc"

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
    (uS) = (microsiemens)
    (mM) = (milli/liter)
}

PARAMETER {
    gbar = 12.2e-5 (uS)
    tau_r = 5.63 (ms)
    tau_d = 320 (ms)
    Erev = 0 (mV)
    saturation = 7.0
    ca_ratio = 0.1
    qfact = 2
    mg = 1 (mM)
}

ASSIGNED {
    v (mV)
    i (nA)
    ical (nA)
    itmp (nA)
    g (uS)
    scale
    t1 (ms)
    B
}

STATE {
    y1 (/ms)
    y2
}

INITIAL {
    y1 = 0
    y2 = 0
    t1 = 0
    scale = 1
}

BREAKPOINT {
    SOLVE betadyn METHOD cnexp
    mgblock(v)
    g = gbar * y2
    itmp = scale * g * B * (v - Erev)
    i = (1 - ca_ratio) * itmp
    ical = ca_ratio * itmp
}

DERIVATIVE betadyn {
    y1' = -y1 / (tau_d / qfact)
    y2' = y1 - y2 / (tau_r / qfact)
}

NET_RECEIVE(weight, y1_loc (/ms)) {
    LOCAL add
    y1_loc = y1_loc * exp(-(t - t1) / (tau_d / qfact))
    add = 1 - y1_loc / saturation
    y1_loc = y1_loc + add
    y1 = y1 + add
    t1 = t
    scale = weight
}

PROCEDURE mgblock(v (mV)) {
    TABLE B DEPEND mg FROM -100 TO 100 WITH 201
    UNITSOFF
    B = 1 / (1 + exp(-0.062 * v) * mg / 3.57)
    UNITSON
}
