TITLE nap: persistent sodium current of the Wolf et al. 2005 MSN

COMMENT
i = gbar m h (v - ena). minf, hinf and the formula time constant mtau (not divided by
qfact) are tabulated (-200..200 mV, 201 points); htau comes from the measured table tauh
(data/tau_tables.csv, tau_table.inc) divided by qfact.
ENDCOMMENT

NEURON {
    THREADSAFE
    SUFFIX nap
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
    gbar = 4e-5 (S/cm2)
    mvhalf = -52.6 (mV)
    mslope = -4.6 (mV)
    hvhalf = -48.8 (mV)
    hslope = 10.0 (mV)
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
    ina = gbar * m * h * (v - ena)
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
    htau = tau_of(v, TAUH) / qfact
}

PROCEDURE steady(v (mV)) {
    TABLE minf, hinf, mtau DEPEND mvhalf, mslope, hvhalf, hslope
        FROM -200 TO 200 WITH 201
    UNITSOFF
    minf = 1 / (1 + exp((v - mvhalf) / mslope))
    hinf = 1 / (1 + exp((v - hvhalf) / hslope))
    if (v < -40) {
        mtau = 0.025 + 0.14 * exp((v + 40) / 10)
    } else {
        mtau = 0.02 + 0.145 * exp((-v - 40) / 10)
    }
    UNITSON
}
