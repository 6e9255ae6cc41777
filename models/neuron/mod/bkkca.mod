TITLE bkkca: BK calcium-activated potassium current of the Wolf et al. 2005 MSN

COMMENT
Three-state scheme C <-> O (k3 forward, k4 back), O -> I (k1), I -> C (k2), after
Lazarewicz/Shao 1999; k3 grows with cai^3 of the ca pool. i = gbar O (v - ek).
Starts at the steady state of the scheme for the initial v and cai.
ENDCOMMENT

NEURON {
    THREADSAFE
    SUFFIX bkkca
    USEION k READ ek WRITE ik
    USEION ca READ cai
    RANGE gbar
}

INCLUDE "libm_exp.inc"

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
    (mM) = (milli/liter)
}

PARAMETER {
    gbar = 0.001 (S/cm2)
    q = 1
}

ASSIGNED {
    v (mV)
    ek (mV)
    ik (mA/cm2)
    cai (mM)
    k1 (/ms)
    k2 (/ms)
    k3 (/ms)
    k4 (/ms)
}

STATE { C O I }

BREAKPOINT {
    SOLVE kin METHOD sparse
    ik = gbar * O * (v - ek)
}

INITIAL {
    rates(v, cai)
    O = 1 / (1 + (k4 + k1) / k3 + k1 / k2)
    C = O * (k4 + k1) / k3
    I = O * k1 / k2
}

KINETIC kin {
    rates(v, cai)
    ~ C <-> O (k3, k4)
    ~ O <-> I (k1, 0)
    ~ I <-> C (k2, 0)
    CONSERVE C + O + I = 1
}

FUNCTION alp(tmin, v (mV), vhalf (mV), k (mV)) (/ms) {
    UNITSOFF
    alp = q / (tmin + exp((v - vhalf) / k))
    UNITSON
}

FUNCTION alpha(tmin, tmax, v (mV), vhalf (mV), k (mV)) (/ms) {
    UNITSOFF
    alpha = q / (tmin + 1 / (1 / (tmax - tmin) + exp((v - vhalf) / k)))
    UNITSON
}

PROCEDURE rates(v (mV), ca (mM)) {
    UNITSOFF
    k1 = alp(0.1, v, -10, 1)
    k2 = alp(0.1, v, -120, -10)
    k3 = alpha(0.001, 1, v, -20, 7) * 1e8 * ca * ca * ca
    k4 = alp(0.01, v, -44, -5)
    UNITSON
}
