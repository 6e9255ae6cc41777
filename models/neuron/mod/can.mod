TITLE can: N-type calcium current, writes the ca pool

COMMENT
Wolf et al. 2005 MSN. GHK permeability form: i = pbar * gating * ghk(v, cai, cao).
Steady states and the Kasai activation time constant mtaukasai are tabulated
(-100..100 mV, 201 points, linear interpolation); time
constants divided by qfact (22 -> 35 degC).
ENDCOMMENT

NEURON {
    THREADSAFE
    SUFFIX can
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
    pbar = 1.0e-5 (cm/s)
    a = 0.21
    mvhalf = -8.7 (mV)
    mslope = -7.4 (mV)
    hvhalf = -74.8 (mV)
    hslope = 6.5 (mV)
    c = 0.03856 (/ms-mV)
    vm = -17.19 (mV)
    k = 15.22 (mV)
    cpr = 0.3842 (/ms)
    kpr = 23.82 (mV)
    htau0 = 70.0 (ms)
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
    mtaukasai (ms)
    hinf
    htau (ms)
}

STATE { m h }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ica = pbar * m * m * (a * h + (1 - a)) * ghk(v, cai, cao)
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
