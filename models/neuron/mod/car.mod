TITLE car: R-type calcium current, writes the ca pool

COMMENT
Wolf et al. 2005 MSN. GHK permeability form: i = pbar * gating * ghk(v, cai, cao).
Steady states tabulated (-100..100 mV, 201 points, linear interpolation); time
constants divided by qfact (22 -> 35 degC); tabulated ones from data/tau_tables.csv (tau_table.inc).
ENDCOMMENT

NEURON {
    THREADSAFE
    SUFFIX car
    USEION ca READ cai, cao WRITE ica
    RANGE pbar, minf, mtau, hinf, htau
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
    pbar = 2.6e-5 (cm/s)
    mvhalf = -10.3 (mV)
    mslope = -6.6 (mV)
    hvhalf = -33.3 (mV)
    hslope = 17.0 (mV)
    mtau0 = 5.1 (ms)
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
    hinf
    htau (ms)
}

STATE { m h }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ica = pbar * m * m * m * h * ghk(v, cai, cao)
}

INITIAL {
    rates(v)
    m = minf
    h = hinf
}

DERIVATIVE states {
    rates(v)
    m' = (minf - m) / mtau
    h' = (hinf - h) / htau
}

INCLUDE "tau_table.inc"

PROCEDURE rates(v (mV)) {
    steady(v)
    mtau = mtau0 / qfact
    htau = tau_of(v, TAUH) / qfact
}

PROCEDURE steady(v (mV)) {
    TABLE minf, hinf DEPEND mvhalf, mslope, hvhalf, hslope FROM -100 TO 100 WITH 201
    UNITSOFF
    minf = 1 / (1 + exp((v - mvhalf) / mslope))
    hinf = 1 / (1 + exp((v - hvhalf) / hslope))
    UNITSON
}

INCLUDE "ghk.inc"
