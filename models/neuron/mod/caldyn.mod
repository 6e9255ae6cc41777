TITLE caldyn: single-shell cal pool of soma and dendrites (Wolf et al. 2005 MSN)

COMMENT
One submembrane shell of depth `depth`: inward ical fills it (outward current is not an
efflux), a Michaelis-Menten pump (scaled by `pump`) and relaxation toward calinf with
time constant taur empty it. F is this file's own constant 96489 C/mol, as in the original.
ENDCOMMENT

NEURON {
    THREADSAFE
    SUFFIX caldyn
    USEION cal READ ical, cali WRITE cali VALENCE 2
    RANGE pump, calinf, taur, drive, depth
}

UNITS {
    (mM) = (milli/liter)
    (mA) = (milliamp)
    (um) = (micron)
}

PARAMETER {
    drive = 10000 (1)
    depth = 0.1 (um)
    calinf = 1e-5 (mM)
    taur = 43 (ms)
    kt = 1e-4 (mM/ms)
    kd = 1e-4 (mM)
    pump = 0.02
    F = 96489 (coulomb)
}

STATE { cal (mM) }

INITIAL {
    cal = calinf
    cali = cal
}

ASSIGNED {
    ical (mA/cm2)
    cali (mM)
}

BREAKPOINT {
    SOLVE state METHOD derivimplicit
}

DERIVATIVE state {
    LOCAL influx, efflux
    UNITSOFF
    influx = -drive * ical / (2 * F * depth)
    if (influx <= 0) {
        influx = 0
    }
    efflux = -kt * cal / (cal + kd)
    cal' = influx + pump * efflux + (calinf - cal) / taur
    cali = cal
    UNITSON
}
