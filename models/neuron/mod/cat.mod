TITLE cat: T-type calcium current, writes the cal pool

COMMENT
Wolf et al. 2005 MSN. GHK permeability form: i = pbar * gating * ghk(v, cali, calo).
Steady states tabulated (-100..100 mV, 201 points, linear interpolation); time
constants divided by qfact (22 -> 35 degC); tabulated ones from data/tau_tables.csv (tau_table.inc).
ENDCOMMENT

NEURON {
    THREADSAFE
    SUFFIX cat
    USEION cal READ cali, calo WRITE ical VALENCE 2
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
    pbar = 7.6e-7 (cm/s)
    mvhalf = -51.73 (mV)
    mslope = -6.53 (mV)
    hvhalf = -80 (mV)
    hslope = 6.7 (mV)
    qfact = 3
}

ASSIGNED {
    v (mV)
    ical (mA/cm2)
    cali (mM)
    calo (mM)
    celsius (degC)
    minf
    mtau (ms)
    hinf
    htau (ms)
}

STATE { m h }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ical = pbar * m * m * m * h * ghk(v, cali, calo)
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
    mtau = tau_of(v, TAUM) / qfact
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
