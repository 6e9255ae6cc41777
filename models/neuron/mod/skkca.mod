TITLE skkca: calcium- and voltage-dependent potassium current of the Wolf et al. 2005 MSN

COMMENT
Moczydlowski & Latorre 1983 scheme used by the Wolf model as its "SK" current; reads cai
of the ca pool. Its own temperature celsius_sk enters the voltage-dependent affinities.
ENDCOMMENT

NEURON {
    THREADSAFE
    SUFFIX skkca
    USEION k READ ek WRITE ik
    USEION ca READ cai
    RANGE gbar, oinf, otau
}

INCLUDE "libm_exp.inc"

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
    (mM) = (milli/liter)
    FARADAY = (faraday) (kilocoulombs)
    R = (k-mole) (joule/degC)
}

PARAMETER {
    gbar = 0.175 (S/cm2)
    celsius_sk = 35 (degC)
    d1 = 0.84
    d2 = 1.0
    k1 = 0.18 (mM)
    k2 = 0.011 (mM)
    abar = 0.48 (/ms)
    bbar = 0.28 (/ms)
    stau = 1
    qfact = 1
}

ASSIGNED {
    v (mV)
    ek (mV)
    ik (mA/cm2)
    cai (mM)
    oinf
    otau (ms)
}

STATE { o }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ik = gbar * o * (v - ek)
}

INITIAL {
    rates(v, cai)
    o = oinf
}

DERIVATIVE states {
    rates(v, cai)
    o' = (oinf - o) / (otau / qfact)
}

FUNCTION affinity(k (mM), d, v (mV)) (mM) {
    affinity = k * exp(-2 * d * FARADAY * v / R / (273.15 + celsius_sk))
}

PROCEDURE rates(v (mV), ca (mM)) {
    LOCAL a, b
    UNITSOFF
    a = abar / (1 + affinity(k1, d1, v) / ca)
    b = bbar / (1 + ca / affinity(k2, d2, v))
    otau = stau / (a + b)
    oinf = a * otau
    UNITSON
}
