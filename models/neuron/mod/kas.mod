TITLE kas: slow A-type potassium current (Kv1.2) of the Wolf et al. 2005 MSN

COMMENT
i = gbar m^2 (a h + 1 - a) (v - ek). Steady states and the formula time constants
(divided by qfact = 9) are tabulated together (-200..200 mV, 201 points).
ENDCOMMENT

NEURON {
    THREADSAFE
    SUFFIX kas
    USEION k READ ek WRITE ik
    RANGE gbar, minf, hinf, mtau, htau
}

INCLUDE "libm_exp.inc"

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gbar = 0.01 (S/cm2)
    a = 0.996
    mvhalf = -27.0 (mV)
    mslope = -16 (mV)
    hvhalf = -33.5 (mV)
    hslope = 21.5 (mV)
    hshift = 0 (mV)
    vth1 = -0.96 (mV)
    vth2 = -0.96 (mV)
    htaushift = -90 (mV)
    vtc1 = 29.01 (mV)
    vtc2 = 100 (mV)
    Ch = 9876.6 (ms)
    qfact = 9
}

ASSIGNED {
    v (mV)
    ek (mV)
    ik (mA/cm2)
    minf
    hinf
    mtau (ms)
    htau (ms)
}

STATE { m h }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ik = gbar * m * m * (a * h + (1 - a)) * (v - ek)
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
    TABLE minf, hinf, mtau, htau
        DEPEND mvhalf, mslope, hvhalf, hslope, hshift, vth1, vth2, htaushift, vtc1, vtc2, Ch, qfact
        FROM -200 TO 200 WITH 201
    UNITSOFF
    minf = 1 / (1 + exp((v - mvhalf) / mslope))
    hinf = 1 / (1 + exp((v - hvhalf - hshift) / hslope))
    mtau = (3.4 + 89.2 * exp(-((v + 34.3) / 30.1) ^ 2)) / qfact
    htau = Ch / (exp(-(v - vth1 - htaushift) / vtc1) + exp((v - vth2 - htaushift) / vtc2)) / qfact
    UNITSON
}
