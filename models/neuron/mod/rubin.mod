TITLE rubin: calcium-detector plasticity readout (Rubin, Gerken, Bi & Chow 2005)

COMMENT
Observer only: reads cai + cali of the segment (both pools), writes no current and no
ion. The values in force are those the original's scale_it() set at every
initialization (scale = 1), written here directly as the parameters. The three sigmoids of
calcium are tabulated over cai + cali from 0.0005 to 0.1 mM with 200 points.
Fixed step only (the states are advanced by the PROCEDURE detectors, not by CVODE).
ENDCOMMENT

NEURON {
    THREADSAFE
    SUFFIX rubin
    USEION ca READ cai
    USEION cal READ cali VALENCE 2
    RANGE detA, detV, detB, detD, detP, W, asig, vsig, psig
}

INCLUDE "libm_exp.inc"

UNITS {
    (mM) = (milli/liter)
    (uM) = (micro/liter)
}

PARAMETER {
    aHC = 0.6 (uM)
    aHN = 3
    av = 2
    vtheta = 2 (uM)
    sigmav = -0.05 (uM)
    pHC = 4 (uM)
    pHN = 100
    ta = 2 (ms)
    tv = 10 (ms)
    ab = 5
    btheta = 0.55
    sigmab = -0.02
    cd = 500
    tb = 20 (ms)
    ad = 1
    dtheta = 2.6
    sigmad = -0.01
    td = 250 (ms)
    cp = 1
    tp = 50 (ms)
    aw = 0.8
    wp = 0.3
    kp = -0.1
    bw = 0.6
    wd = 0.01
    kd = -0.002
    tw = 500 (ms)
}

ASSIGNED {
    dt (ms)
    cai (mM)
    cali (mM)
    asig
    vsig
    psig
}

STATE { detA detV detB detD detP W }

INITIAL {
    detA = 0
    detV = 0
    detB = 0
    detD = 0
    detP = 0
    W = 0
}

BREAKPOINT {
    SOLVE detectors
}

DERIVATIVE equations {
    : the detector equations; the original solved them with METHOD derivimplicit
    LOCAL bsig, dsig, w1, w2
    sigmoids(cai + cali)
    bsig = ab / (1 + exp((detA - btheta) / sigmab))
    dsig = ad / (1 + exp((detB - dtheta) / sigmad))
    w1 = aw / (1 + exp((detP - wp) / kp))
    w2 = bw / (1 + exp((detD - wd) / kd))
    detA' = (asig - detA) / ta
    detV' = (vsig - detV) / tv
    detB' = (bsig - detB - cd * detB * detV) / tb
    detD' = (dsig - detD) / td
    detP' = (psig - cp * detA * detP) / tp
    W' = (w1 - w2 - W) / tw
}

PROCEDURE detectors() {
    : One backward-Euler step of `equations`, solved exactly. derivimplicit iterates
    : Newton on this implicit system; because each state depends only on itself and on
    : states earlier in the order A, V -> B -> D, P -> W, forward substitution solves it.
    LOCAL bsig, dsig, w1, w2
    sigmoids(cai + cali)
    detA = (detA + dt * asig / ta) / (1 + dt / ta)
    detV = (detV + dt * vsig / tv) / (1 + dt / tv)
    bsig = ab / (1 + exp((detA - btheta) / sigmab))
    detB = (detB + dt * bsig / tb) / (1 + dt * (1 + cd * detV) / tb)
    dsig = ad / (1 + exp((detB - dtheta) / sigmad))
    detD = (detD + dt * dsig / td) / (1 + dt / td)
    detP = (detP + dt * psig / tp) / (1 + dt * cp * detA / tp)
    w1 = aw / (1 + exp((detP - wp) / kp))
    w2 = bw / (1 + exp((detD - wd) / kd))
    W = (W + dt * (w1 - w2) / tw) / (1 + dt / tw)
}

PROCEDURE sigmoids(ca (mM)) {
    LOCAL c, ra, rp
    TABLE asig, vsig, psig DEPEND aHC, aHN, av, vtheta, sigmav, pHC, pHN
        FROM 0.0005 TO 0.1 WITH 200
    UNITSOFF
    c = 1000 * ca
    ra = (c / aHC) ^ aHN
    asig = ra / (1 + ra)
    vsig = av / (1 + exp((c - vtheta) / sigmav))
    rp = (c / pHC) ^ pHN
    psig = 10 * rp / (1 + rp)
    UNITSON
}
