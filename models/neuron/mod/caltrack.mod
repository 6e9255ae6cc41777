TITLE caltrack: radial diffusion, buffering and pump of the cal pool in spines

COMMENT
NEURON's classic four-shell "cdp" scheme (NEURON book, chapter 9): in each segment the
cylinder is cut into NANN concentric shells; cal diffuses radially between shells and
axially between neighbouring segments of this mechanism (see `scheme`), binds a
buffer in every shell and is extruded by an electrogenic membrane pump whose current is
written back as ical.

The KINETIC block `scheme` states the equations and declares the compartments and the
axial diffusion. The original solved it with METHOD sparse (a generic sparse Newton solve
that dominated the run time). Here the same backward-Euler equations are solved by
`shells` (shells.inc), a hand-written Newton iteration: buffer and pump updates are
eliminated analytically, leaving a 4 x 4 tridiagonal system per iteration (Thomas
algorithm), for many segments side by side. Axial
diffusion is applied afterwards, as NEURON's LONGITUDINAL_DIFFUSION would, by
timescales.models.neuron.axial (NEURON 9's own spends more than the rest of the MSN's
step in it). Fixed step only (no CVODE).
ENDCOMMENT

NEURON {
    THREADSAFE
    SUFFIX caltrack
    USEION cal READ calo, cali, ical WRITE cali, ical VALENCE 2
    RANGE ical_pmp, ical_pmp_last, TotalBuffer, TotalPump
    GLOBAL DCa, k1buf, k2buf, k1, k2, k3, k4
}

DEFINE NANN 4

UNITS {
    (mol) = (1)
    (molar) = (1/liter)
    (mM) = (millimolar)
    (um) = (micron)
    (mA) = (milliamp)
    FARADAY = (faraday) (10000 coulomb)
    PI = (pi) (1)
}

PARAMETER {
    DCa = 0.6 (um2/ms)
    k1buf = 100 (/mM-ms)
    k2buf = 0.1 (/ms)
    TotalBuffer = 0.003 (mM)
    k1 = 1 (/mM-ms)
    k2 = 0.005 (/ms)
    k3 = 1 (/ms)
    k4 = 0.005 (/mM-ms)
    TotalPump = 1e-11 (mol/cm2)
    tolerance = 1e-6 (1)
    max_iterations = 50 (1)
}

ASSIGNED {
    diam (um)
    dt (ms)
    ical (mA/cm2)
    cali (mM)
    calo (mM)
    ical_pmp (mA/cm2)
    ical_pmp_last (mA/cm2)
    g_pmp (S/cm2)
    parea (um)
}

STATE {
    cal[NANN] (mM) <1e-10>
    calBuffer[NANN] (mM)
    Buffer[NANN] (mM)
    pump (mol/cm2)
    pumpcal (mol/cm2)
}

BREAKPOINT {
    SOLVE shells
    : The pump current does not depend on v: its conductance is 0, and saying so spares
    : NEURON the second evaluation of the current it would make to find it.
    CONDUCTANCE g_pmp USEION cal
    ical_pmp_last = ical_pmp
    ical = ical_pmp
}

INITIAL {
    parea = PI * diam
    FROM i = 0 TO NANN - 1 {
        cal[i] = cali
        Buffer[i] = (k2buf * TotalBuffer) / (k2buf + k1buf * cal[i])
        calBuffer[i] = TotalBuffer - Buffer[i]
    }
    pump = TotalPump / (1 + (cali * k1 / k2))
    pumpcal = TotalPump - pump
    ical_pmp = 0
    ical_pmp_last = 0
}

FUNCTION shell_fraction(i) {
    : cross-section of shell i per diam^2; shells 0 and NANN-1 are half thickness
    if (i == 0) {
        shell_fraction = 11 * PI / 144
    } else if (i == 1) {
        shell_fraction = 16 * PI / 144
    } else if (i == 2) {
        shell_fraction = 8 * PI / 144
    } else {
        shell_fraction = PI / 144
    }
}

FUNCTION face_factor(i) {
    : surface between shells i-1 and i over the distance between their centres
    if (i == 1) {
        face_factor = 5 * PI
    } else if (i == 2) {
        face_factor = 3 * PI
    } else if (i == 3) {
        face_factor = PI
    } else {
        face_factor = 0
    }
}

KINETIC scheme {
    COMPARTMENT i, diam * diam * shell_fraction(i) { cal calBuffer Buffer }
    COMPARTMENT (1e10) * parea { pump pumpcal }
    : Axial diffusion is solved outside this file, by timescales.models.neuron.axial (the
    : same staggered scheme as NEURON's, much faster); NEURON would solve this statement:
    : LONGITUDINAL_DIFFUSION i, DCa * diam * diam * shell_fraction(i) { cal }

    ~ cal[0] + pump <-> pumpcal (k1 * parea * (1e10), k2 * parea * (1e10))
    ~ pumpcal <-> pump ((k3 * parea * (1e10)), (k4 * calo * parea * (1e10)))
    CONSERVE pump + pumpcal = TotalPump * parea * (1e10)
    ical_pmp = 2 * FARADAY * (f_flux - b_flux) / parea

    ~ cal[0] << (-(ical - ical_pmp_last) * PI * diam / (2 * FARADAY))

    FROM i = 0 TO NANN - 2 {
        ~ cal[i] <-> cal[i + 1] (DCa * face_factor(i + 1), DCa * face_factor(i + 1))
    }
    FROM i = 0 TO NANN - 1 {
        ~ cal[i] + Buffer[i] <-> calBuffer[i] (k1buf * diam * diam * shell_fraction(i), k2buf * diam * diam * shell_fraction(i))
    }
    cali = cal[0]
}

: This pool's names for shells.inc.
VERBATIM
#define SH_STATE cal
#define SH_BOUND calBuffer
#define SH_PUMPED pumpcal
#define SH_CONC cali
#define SH_ION_CONC _ion_cali
#define SH_ION_OUT _ion_calo
#define SH_ION_CUR _ion_ical
#define SH_PMP ical_pmp
#define SH_PMP_LAST ical_pmp_last
ENDVERBATIM

INCLUDE "shells.inc"
