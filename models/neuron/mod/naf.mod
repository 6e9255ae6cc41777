TITLE naf: fast sodium current of the Wolf et al. 2005 MSN

COMMENT
i = gbar m^3 h (v - ena). Steady states are tabulated (TABLE, -200..200 mV, 201 points,
linear interpolation, end values outside) like the original file; the time constants come
from the measured (v, tau) tables taum and tauh of models/neuron/data/tau_tables.csv
(interpolated by tau_table.inc) and are divided by the fixed factor qfact (22 -> 35 degC).
ENDCOMMENT

NEURON {
    THREADSAFE
    SUFFIX naf
    USEION na READ ena WRITE ina
    RANGE gbar, minf, hinf, mtau, htau
}

INCLUDE "libm_exp.inc"

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gbar = 1.5 (S/cm2)
    mvhalf = -23.9 (mV)
    mslope = -11.8 (mV)
    hvhalf = -62.9 (mV)
    hslope = 10.7 (mV)
    mshift = 0 (mV)
    hshift = 0 (mV)
    qfact = 3
}

ASSIGNED {
    v (mV)
    ena (mV)
    ina (mA/cm2)
    minf
    hinf
    mtau (ms)
    htau (ms)
}

STATE { m h }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ina = gbar * m * m * m * h * (v - ena)
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
    TABLE minf, hinf DEPEND mvhalf, mslope, hvhalf, hslope, mshift, hshift
        FROM -200 TO 200 WITH 201
    minf = 1 / (1 + exp((v - mvhalf - mshift) / mslope))
    hinf = 1 / (1 + exp((v - hvhalf - hshift) / hslope))
}
