TITLE cadyn: single-shell ca pool of soma and dendrites (Wolf et al. 2005 MSN)

COMMENT
One submembrane shell of depth `depth`: inward ica fills it (outward current is not an
efflux), a Michaelis-Menten pump (scaled by `pump`) and relaxation toward cainf with
time constant taur empty it. F is this file's own constant 96489 C/mol, as in the original.
ENDCOMMENT

NEURON {
    THREADSAFE
    SUFFIX cadyn
    USEION ca READ ica, cai WRITE cai
    RANGE pump, cainf, taur, drive, depth
}

UNITS {
    (mM) = (milli/liter)
    (mA) = (milliamp)
    (um) = (micron)
}

PARAMETER {
    drive = 10000 (1)
    depth = 0.1 (um)
    cainf = 1e-5 (mM)
    taur = 43 (ms)
    kt = 1e-4 (mM/ms)
    kd = 1e-4 (mM)
    pump = 0.02
    F = 96489 (coulomb)
}

STATE { ca (mM) }

INITIAL {
    ca = cainf
    cai = ca
}

ASSIGNED {
    ica (mA/cm2)
    cai (mM)
}

BREAKPOINT {
    SOLVE state METHOD derivimplicit
}

DERIVATIVE state {
    LOCAL influx, efflux
    UNITSOFF
    influx = -drive * ica / (2 * F * depth)
    if (influx <= 0) {
        influx = 0
    }
    efflux = -kt * ca / (ca + kd)
    ca' = influx + pump * efflux + (cainf - ca) / taur
    cai = ca
    UNITSON
}
