TITLE kaf: fast A-type potassium current (Kv4.2) of the Wolf et al. 2005 MSN

COMMENT
i = gbar m^2 h (v - ek). Steady states tabulated (-200..200 mV, 201 points); mtau from the
measured table taum (data/tau_tables.csv, tau_table.inc) divided by qfact; htau a
constant / qfact.
ENDCOMMENT

NEURON {
    THREADSAFE
    SUFFIX kaf
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
    gbar = 0.21 (S/cm2)
    mvhalf = -10.0 (mV)
    mslope = -17.7 (mV)
    hvhalf = -75.6 (mV)
    hslope = 10 (mV)
    htau0 = 14 (ms)
    qfact = 3
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
    ik = gbar * m * m * h * (v - ek)
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
    htau = htau0 / qfact
}

PROCEDURE steady(v (mV)) {
    TABLE minf, hinf DEPEND mvhalf, mslope, hvhalf, hslope FROM -200 TO 200 WITH 201
    minf = 1 / (1 + exp((v - mvhalf) / mslope))
    hinf = 1 / (1 + exp((v - hvhalf) / hslope))
}
