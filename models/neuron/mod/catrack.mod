TITLE catrack: radial diffusion, buffering and pump of the ca pool in spines

COMMENT
NEURON's classic four-shell "cdp" scheme (NEURON book, chapter 9): in each segment the
cylinder is cut into NANN concentric shells; ca diffuses radially between shells and
axially between neighbouring segments of this mechanism (see `scheme`), binds a
buffer in every shell and is extruded by an electrogenic membrane pump whose current is
written back as ica.

The KINETIC block `scheme` states the equations and declares the compartments and the
axial diffusion. The original solved it with METHOD sparse (a generic sparse Newton solve
that dominated the run time). Here the same backward-Euler equations are solved by
`shells`, a hand-written Newton iteration: buffer and pump updates are eliminated
analytically, leaving a 4 x 4 tridiagonal system per iteration (Thomas algorithm). Axial
diffusion is applied afterwards, as NEURON's LONGITUDINAL_DIFFUSION would, by
timescales.models.neuron.axial (NEURON 9's own spends more than the rest of the MSN's
step in it). Fixed step only (no CVODE).
ENDCOMMENT

NEURON {
    THREADSAFE
    SUFFIX catrack
    USEION ca READ cao, cai, ica WRITE cai, ica
    RANGE ica_pmp, ica_pmp_last
    GLOBAL DCa, k1buf, k2buf, k1, k2, k3, k4, TotalBuffer, TotalPump
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
    ica (mA/cm2)
    cai (mM)
    cao (mM)
    ica_pmp (mA/cm2)
    ica_pmp_last (mA/cm2)
    parea (um)
}

STATE {
    ca[NANN] (mM) <1e-10>
    caBuffer[NANN] (mM)
    Buffer[NANN] (mM)
    pump (mol/cm2)
    pumpca (mol/cm2)
}

BREAKPOINT {
    SOLVE shells
    ica_pmp_last = ica_pmp
    ica = ica_pmp
}

INITIAL {
    parea = PI * diam
    FROM i = 0 TO NANN - 1 {
        ca[i] = cai
        Buffer[i] = (k2buf * TotalBuffer) / (k2buf + k1buf * ca[i])
        caBuffer[i] = TotalBuffer - Buffer[i]
    }
    pump = TotalPump / (1 + (cai * k1 / k2))
    pumpca = TotalPump - pump
    ica_pmp = 0
    ica_pmp_last = 0
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
    COMPARTMENT i, diam * diam * shell_fraction(i) { ca caBuffer Buffer }
    COMPARTMENT (1e10) * parea { pump pumpca }
    : Axial diffusion is solved outside this file, by timescales.models.neuron.axial (the
    : same staggered scheme as NEURON's, much faster); NEURON would solve this statement:
    : LONGITUDINAL_DIFFUSION i, DCa * diam * diam * shell_fraction(i) { ca }

    ~ ca[0] + pump <-> pumpca (k1 * parea * (1e10), k2 * parea * (1e10))
    ~ pumpca <-> pump ((k3 * parea * (1e10)), (k4 * cao * parea * (1e10)))
    CONSERVE pump + pumpca = TotalPump * parea * (1e10)
    ica_pmp = 2 * FARADAY * (f_flux - b_flux) / parea

    ~ ca[0] << (-(ica - ica_pmp_last) * PI * diam / (2 * FARADAY))

    FROM i = 0 TO NANN - 2 {
        ~ ca[i] <-> ca[i + 1] (DCa * face_factor(i + 1), DCa * face_factor(i + 1))
    }
    FROM i = 0 TO NANN - 1 {
        ~ ca[i] + Buffer[i] <-> caBuffer[i] (k1buf * diam * diam * shell_fraction(i), k2buf * diam * diam * shell_fraction(i))
    }
    cai = ca[0]
}

PROCEDURE shells() {
    : Backward Euler on the equations of `scheme`, solved by Newton iteration. Per
    : iteration the bound buffer (per shell) and the bound pump are eliminated
    : analytically, leaving a tridiagonal system in the shell concentrations. Newton
    : converges quadratically: once every correction is below `tolerance` (relative),
    : the error left is of order tolerance^2, and the iteration stops.
    : Each divisor is inverted once per iteration and multiplied by after: the step's
    : time went to chains of divisions, of which the Thomas solve keeps four.
    LOCAL c[NANN], cb[NANN], old[NANN], oldbound[NANN], sarea[NANN], face[NANN], lower[NANN], diag[NANN], upper[NANN], rhs[NANN], bfac[NANN], ibfac[NANN], idiag[NANN], rbound[NANN], pc, oldpc, bfree, rbuf, flux, influx, pumparea, pfree, jbind, jout, sbind, epump, iepump, rpump, dc, delta, iter, done
    pumparea = (1e10) * PI * diam
    influx = -(ica - ica_pmp_last) * PI * diam / (2 * FARADAY)
    FROM i = 0 TO NANN - 1 {
        sarea[i] = diam * diam * shell_fraction(i)
        face[i] = DCa * face_factor(i)
        c[i] = ca[i]
        cb[i] = caBuffer[i]
        old[i] = c[i]
        oldbound[i] = cb[i]
    }
    pc = pumpca
    oldpc = pc
    done = 0
    iter = 0
    while (done == 0) {
        pfree = TotalPump - pc
        jbind = k1 * c[0] * pfree - k2 * pc
        jout = k3 * pc - k4 * pfree * cao
        sbind = k1 * c[0] + k2
        epump = 1 + dt * (sbind + k3 + k4 * cao)
        iepump = 1 / epump
        rpump = pc - oldpc - dt * (jbind - jout)
        FROM i = 0 TO NANN - 1 {
            bfree = TotalBuffer - cb[i]
            rbuf = k1buf * c[i] * bfree - k2buf * cb[i]
            bfac[i] = 1 + dt * (k1buf * c[i] + k2buf)
            ibfac[i] = 1 / bfac[i]
            rbound[i] = cb[i] - oldbound[i] - dt * rbuf
            flux = -sarea[i] * rbuf
            lower[i] = 0
            upper[i] = 0
            diag[i] = sarea[i] + dt * sarea[i] * k1buf * bfree * ibfac[i]
            if (i > 0) {
                flux = flux + face[i] * (c[i - 1] - c[i])
                lower[i] = -dt * face[i]
                diag[i] = diag[i] + dt * face[i]
            }
            if (i < NANN - 1) {
                flux = flux - face[i + 1] * (c[i] - c[i + 1])
                upper[i] = -dt * face[i + 1]
                diag[i] = diag[i] + dt * face[i + 1]
            }
            rhs[i] = dt * flux - sarea[i] * (c[i] - old[i]) - dt * sarea[i] * (k1buf * c[i] + k2buf) * rbound[i] * ibfac[i]
        }
        rhs[0] = rhs[0] + dt * influx - dt * pumparea * jbind - dt * pumparea * sbind * rpump * iepump
        diag[0] = diag[0] + dt * pumparea * k1 * pfree * (1 - dt * sbind * iepump)
        idiag[0] = 1 / diag[0]
        FROM i = 1 TO NANN - 1 {
            delta = lower[i] * idiag[i - 1]
            diag[i] = diag[i] - delta * upper[i - 1]
            rhs[i] = rhs[i] - delta * rhs[i - 1]
            idiag[i] = 1 / diag[i]
        }
        rhs[NANN - 1] = rhs[NANN - 1] * idiag[NANN - 1]
        FROM j = 2 TO NANN {
            rhs[NANN - j] = (rhs[NANN - j] - upper[NANN - j] * rhs[NANN - j + 1]) * idiag[NANN - j]
        }
        done = 1
        FROM i = 0 TO NANN - 1 {
            dc = rhs[i]
            delta = (dt * k1buf * (TotalBuffer - cb[i]) * dc - rbound[i]) * ibfac[i]
            c[i] = c[i] + dc
            cb[i] = cb[i] + delta
            if (fabs(dc) > tolerance * fabs(c[i]) || fabs(delta) > tolerance * fabs(cb[i])) {
                done = 0
            }
        }
        pc = pc + (dt * k1 * pfree * rhs[0] - rpump) * iepump
        iter = iter + 1
        if (iter >= max_iterations) {
            done = 1
        }
    }
    FROM i = 0 TO NANN - 1 {
        ca[i] = c[i]
        caBuffer[i] = cb[i]
        Buffer[i] = TotalBuffer - cb[i]
    }
    pumpca = pc
    pump = TotalPump - pc
    ica_pmp = 2 * FARADAY * (1e10) * (k3 * pc - k4 * pump * cao)
    cai = c[0]
}
