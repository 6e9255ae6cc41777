TITLE krp: persistent potassium current of the Wolf et al. 2005 MSN (soma only)

COMMENT
i = gbar m (a h + 1 - a) (v - ek). Steady states tabulated (-200..200 mV, 201 points);
time constants from the measured tables taum, tauh (data/tau_tables.csv,
tau_table.inc) / qfact.
ENDCOMMENT

NEURON {
    THREADSAFE
    SUFFIX krp
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
    gbar = 0.002 (S/cm2)
    a = 0.7
    mvhalf = -13.5 (mV)
    mslope = -11.8 (mV)
    hvhalf = -54.7 (mV)
    hslope = 18.6 (mV)
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
    ik = gbar * m * (a * h + (1 - a)) * (v - ek)
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
    TABLE minf, hinf DEPEND mvhalf, mslope, hvhalf, hslope FROM -200 TO 200 WITH 201
    minf = 1 / (1 + exp((v - mvhalf) / mslope))
    hinf = 1 / (1 + exp((v - hvhalf) / hslope))
}
