TITLE caq: Q-type calcium current, writes the ca pool

COMMENT
Wolf et al. 2005 MSN. GHK permeability form: i = pbar * gating * ghk(v, cai, cao).
Steady states tabulated (-100..100 mV, 201 points, linear interpolation); time
constants divided by qfact (22 -> 35 degC).
ENDCOMMENT

NEURON {
    THREADSAFE
    SUFFIX caq
    USEION ca READ cai, cao WRITE ica
    RANGE pbar, minf, mtau
}

INCLUDE "libm_exp.inc"

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (mM) = (milli/liter)
    FARADAY = (faraday) (coulomb)
    R = (k-mole) (joule/degC)
}

PARAMETER {
    pbar = 6.0e-6 (cm/s)
    mvhalf = -9.0 (mV)
    mslope = -6.6 (mV)
    mtau0 = 1.13 (ms)
    qfact = 3
}

ASSIGNED {
    v (mV)
    ica (mA/cm2)
    cai (mM)
    cao (mM)
    celsius (degC)
    minf
    mtau (ms)
}

STATE { m }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ica = pbar * m * m * ghk(v, cai, cao)
}

INITIAL {
    rates(v)
    m = minf
}

DERIVATIVE states {
    rates(v)
    m' = (minf - m) / mtau
}

PROCEDURE rates(v (mV)) {
    steady(v)
    mtau = mtau0 / qfact
}

PROCEDURE steady(v (mV)) {
    TABLE minf DEPEND mvhalf, mslope FROM -100 TO 100 WITH 201
    UNITSOFF
    minf = 1 / (1 + exp((v - mvhalf) / mslope))
    UNITSON
}

INCLUDE "ghk.inc"
