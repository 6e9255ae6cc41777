TITLE SpineAxial: axial diffusion of the catrack and caltrack shells along one spine

COMMENT
Written for this project. The shell calcium of catrack (ca[4]) and caltrack (cal[4])
diffuses along the spine's five segments: neck (3), head, PSD. NEURON's
LONGITUDINAL_DIFFUSION would solve this, but in NEURON 9 it costs more than the rest of
the MSN's step (per-node data-handle lookups). This point process solves the same scheme
for one spine, as NEURON's staggered step does: after the mechanism states, per shell,
backward Euler of pure diffusion on the chain,
    (1 - dt L) x_new = x_old,
with NEURON's coefficients: between node k and its parent k-1, flux coefficient
D (s_k + s_(k-1)) / 2 (s = diam^2; the shell's cross-section factor cancels), divided by
the volume (s) of the row's node and by af_k (parent row) or bf_k (own row), the
half-distance factors NEURON derives from the segment lengths. Only the shell states
change; cai and cali keep the values the states set, as under NEURON's own solve.
The POINTERs (ca<n>, cl<n>: shell 0 of node n = 0..4, from the neck's first segment to
the PSD) and the coefficients are set by timescales.models.neuron.axial. Fixed step only.

`diffuse` runs in NEURON's state pass, after catrack's and caltrack's
states because NEURON steps mechanisms in registration order, which nrnivmodl takes from
the sorted file names. The test against NEURON's LONGITUDINAL_DIFFUSION guards that order.
ENDCOMMENT

NEURON {
    THREADSAFE
    POINT_PROCESS SpineAxial
    POINTER ca0, ca1, ca2, ca3, ca4, cl0, cl1, cl2, cl3, cl4
    POINTER Dca, Dcl
    RANGE af1, af2, af3, af4, bf1, bf2, bf3, bf4, s0, s1, s2, s3, s4
}

: After the NEURON block: nocmodl takes a VERBATIM block met before THREADSAFE as not
: thread safe.
VERBATIM
#include <cstring>
#define FIRST_POINTER 2 /* after the point process's area and Point_process */
static_assert(sizeof(double*) == sizeof(double), "slot[] holds the POINTERs' addresses");
ENDVERBATIM

UNITS {
    (mM) = (milli/liter)
    (um) = (micron)
}

PARAMETER {
    af1 = 0 (/um2)
    af2 = 0 (/um2)
    af3 = 0 (/um2)
    af4 = 0 (/um2)
    bf1 = 0 (/um2)
    bf2 = 0 (/um2)
    bf3 = 0 (/um2)
    bf4 = 0 (/um2)
    s0 = 1 (um2)
    s1 = 1 (um2)
    s2 = 1 (um2)
    s3 = 1 (um2)
    s4 = 1 (um2)
}

ASSIGNED {
    dt (ms)
    Dca (um2/ms)
    Dcl (um2/ms)
    ca0 ca1 ca2 ca3 ca4 (mM)
    cl0 cl1 cl2 cl3 cl4 (mM)
    lower[8]
    mult[8]
    pivot[10]
    factored_dt (ms)
    factored_Dca (um2/ms)
    factored_Dcl (um2/ms)
    slot[12]
    stamp
}

BREAKPOINT {
    SOLVE diffuse
}

PROCEDURE diffuse() {
    : NEURON 9 resolves a POINTER on every access (its cache covers ions only): the twelve
    : addresses are kept in slot[] and fetched again whenever NEURON's structure changes
    : (mechanism data move only then) and at every INITIAL.
    LOCAL dca, dcl
VERBATIM
    if (stamp != (double) structure_change_cnt) {
        int k;
        for (k = 0; k < 12; ++k) {
            double* address = _ppvar[FIRST_POINTER + k].get<double*>();
            std::memcpy(&slot[k], &address, sizeof address);
        }
        stamp = (double) structure_change_cnt;
    }
    double* coefficient[2]; /* Dca, Dcl */
    std::memcpy(coefficient, &slot[10], sizeof coefficient);
    _ldca = *coefficient[0];
    _ldcl = *coefficient[1];
ENDVERBATIM
    : The factors depend on dt, the diffusion coefficients and the geometry only: they are
    : computed again when one of the first two changes, and at every INITIAL.
    if (dt != factored_dt || dca != factored_Dca || dcl != factored_Dcl) {
        factor(dca, 0)
        factor(dcl, 1)
        factored_dt = dt
        factored_Dca = dca
        factored_Dcl = dcl
    }
    shells(0)
    shells(1)
}

PROCEDURE shells(pool) {
    : x <- (1 - dt L)^-1 x for the 4 shells of the pool, with the pool's factors.
VERBATIM
    /* POINTER ca<n> (cl<n>) is shell 0 of node n; NEURON stores an array STATE's elements
       contiguously per instance, so shell j is at offset j. */
    int shell, node;
    double* c[5];
    double x[5];
    double const* lo = &lower[4 * (int) _lpool]; /* lo1..lo4 */
    double const* m = &mult[4 * (int) _lpool];   /* m1..m4 */
    double const* p = &pivot[5 * (int) _lpool];  /* p0..p4 */
    for (node = 0; node < 5; ++node) {
        std::memcpy(&c[node], &slot[5 * (int) _lpool + node], sizeof c[node]);
    }
    for (shell = 0; shell < 4; ++shell) {
        for (node = 0; node < 5; ++node) {
            x[node] = c[node][shell];
        }
        x[3] -= m[3] * x[4];
        x[2] -= m[2] * x[3];
        x[1] -= m[1] * x[2];
        x[0] -= m[0] * x[1];
        x[0] *= p[0];
        x[1] = (x[1] - lo[0] * x[0]) * p[1];
        x[2] = (x[2] - lo[1] * x[1]) * p[2];
        x[3] = (x[3] - lo[2] * x[2]) * p[3];
        x[4] = (x[4] - lo[3] * x[3]) * p[4];
        for (node = 0; node < 5; ++node) {
            c[node][shell] = x[node];
        }
    }
ENDVERBATIM
}

INITIAL {
VERBATIM
    /* diffuse() indexes the POINTERs ca0..ca4, cl0..cl4, Dca, Dcl as declared, from ca0 */
    if (&ca0 != _ppvar[FIRST_POINTER].get<double*>() || &Dcl != _ppvar[FIRST_POINTER + 11].get<double*>()) {
        hoc_execerror("SpineAxial: unexpected POINTER layout", 0);
    }
ENDVERBATIM
    stamp = -1
    factored_dt = -1
}

PROCEDURE factor(D (um2/ms), pool) {
    : Eliminate the chain from the PSD (node 4) to the root: multipliers mult, pivots
    : 1/pivot, and the lower diagonal, stored from index 4 * pool (pivots 5 * pool).
    LOCAL up1, up2, up3, up4, lo1, lo2, lo3, lo4, c, d0, d1, d2, d3, d4, k
    c = D * (s1 + s0) / 2
    up1 = -dt * af1 * c / s0
    lo1 = -dt * bf1 * c / s1
    c = D * (s2 + s1) / 2
    up2 = -dt * af2 * c / s1
    lo2 = -dt * bf2 * c / s2
    c = D * (s3 + s2) / 2
    up3 = -dt * af3 * c / s2
    lo3 = -dt * bf3 * c / s3
    c = D * (s4 + s3) / 2
    up4 = -dt * af4 * c / s3
    lo4 = -dt * bf4 * c / s4
    d0 = 1 - up1
    d1 = 1 - lo1 - up2
    d2 = 1 - lo2 - up3
    d3 = 1 - lo3 - up4
    d4 = 1 - lo4
    k = 4 * pool
    mult[k + 3] = up4 / d4
    d3 = d3 - mult[k + 3] * lo4
    mult[k + 2] = up3 / d3
    d2 = d2 - mult[k + 2] * lo3
    mult[k + 1] = up2 / d2
    d1 = d1 - mult[k + 1] * lo2
    mult[k] = up1 / d1
    d0 = d0 - mult[k] * lo1
    lower[k] = lo1
    lower[k + 1] = lo2
    lower[k + 2] = lo3
    lower[k + 3] = lo4
    k = 5 * pool
    pivot[k] = 1 / d0
    pivot[k + 1] = 1 / d1
    pivot[k + 2] = 1 / d2
    pivot[k + 3] = 1 / d3
    pivot[k + 4] = 1 / d4
}
