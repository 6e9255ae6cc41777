TITLE kir: inward rectifier potassium current of the Wolf et al. 2005 MSN

COMMENT
i = gbar m (v - ek), minf tabulated (-200..200 mV, 201 points); mtau from the
measured table taum (data/tau_tables.csv, tau_table.inc) divided by qfact = 0.5 (so doubled).
ENDCOMMENT

NEURON {
    THREADSAFE
    SUFFIX kir
    USEION k READ ek WRITE ik
    RANGE gbar, minf, mtau
}

INCLUDE "libm_exp.inc"

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gbar = 0.00015 (S/cm2)
    mvhalf = -52 (mV)
    mslope = 13 (mV)
    mshift = 30 (mV)
    qfact = 0.5
}

ASSIGNED {
    v (mV)
    ek (mV)
    ik (mA/cm2)
    minf
    mtau (ms)
}

STATE { m }

BREAKPOINT {
    SOLVE states METHOD cnexp
    ik = gbar * m * (v - ek)
}

INITIAL {
    rates(v)
    m = minf
}

DERIVATIVE states {
    rates(v)
    m' = (minf - m) / mtau
}

INCLUDE "tau_table.inc"

PROCEDURE rates(v (mV)) {
    steady(v)
    mtau = tau_of(v, TAUM) / qfact
}

PROCEDURE steady(v (mV)) {
    TABLE minf DEPEND mvhalf, mslope, mshift FROM -200 TO 200 WITH 201
    minf = 1 / (1 + exp((v - mvhalf + mshift) / mslope))
}
