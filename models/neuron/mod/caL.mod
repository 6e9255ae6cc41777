TITLE caL: high-voltage-activated L-type calcium current (Cav1.2), writes the cal pool

COMMENT
Wolf et al. 2005 MSN. GHK permeability form: i = pbar * gating * ghk(v, cali, calo).
Steady states and the Kasai activation time constant mtaukasai are tabulated
(-100..100 mV, 201 points, linear interpolation); time
constants divided by qfact (22 -> 35 degC).
ENDCOMMENT

NEURON {
    THREADSAFE
    SUFFIX caL
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
    pbar = 6.7e-6 (cm/s)
    a = 0.17
    mvhalf = -8.9 (mV)
    mslope = -6.7 (mV)
    hvhalf = -13.4 (mV)
    hslope = 11.9 (mV)
    c = 0.0398 (/ms-mV)
    vm = -8.124 (mV)
    k = 9.005 (mV)
    cpr = 0.99 (/ms)
    kpr = 31.4 (mV)
    htau0 = 44.3 (ms)
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
    mtaukasai (ms)
    hinf
    htau (ms)
}

STATE { m h }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ical = pbar * m * m * (a * h + (1 - a)) * ghk(v, cali, calo)
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

PROCEDURE rates(v (mV)) {
    steady(v)
    mtau = mtaukasai / qfact
    htau = htau0 / qfact
}

PROCEDURE steady(v (mV)) {
    LOCAL malpha, mbeta
    TABLE minf, hinf, mtaukasai DEPEND mvhalf, mslope, hvhalf, hslope, c, vm, k, cpr, kpr FROM -100 TO 100 WITH 201
    UNITSOFF
    minf = 1 / (1 + exp((v - mvhalf) / mslope))
    hinf = 1 / (1 + exp((v - hvhalf) / hslope))
    malpha = c * (v - vm) / (exp((v - vm) / k) - 1)
    mbeta = cpr * exp(v / kpr)
    mtaukasai = 1 / (malpha + mbeta)
    UNITSON
}

INCLUDE "ghk.inc"
