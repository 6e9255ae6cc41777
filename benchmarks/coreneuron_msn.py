"""The MSN under CoreNEURON (the neuron wheel's CPU build) against NEURON's fixed step.

The mod files do not compile for CoreNEURON as they are, so this script writes a variant
that differs from mod/ only where CoreNEURON needs it, without changing the equations: each
measured tau table (mod/tau_table.inc's arrays) becomes a FUNCTION holding
data/tau_tables.csv's points, interpolated the same way; spineaxial.mod (VERBATIM on
NEURON's POINTER handles) becomes plain NMODL with one POINTER per node and shell and the D
coefficients as RANGE values; catrack and caltrack solve their shells one segment at a time
instead of with mod/shells.inc (VERBATIM on NEURON's data), every mechanism calls exp as
the translator writes it (without mod/libm_exp.inc), each calcium channel holds mod/ghk.inc's
functions without their memo (VERBATIM on NEURON's threads); vecstim.mod keeps its Vector
through a BBCOREPOINTER. It builds the variant once with `nrnivmodl -coreneuron` in a
temporary directory (removed at the end) and runs each case in a fresh process (NEURON loads
one set of mechanisms per process):

    python benchmarks/coreneuron_msn.py --out DIR [--layout all] [--steps 2000] [--syncs 100]

Every case builds MSN(spines=LAYOUT), calls apply_settings() and cache_efficient(1), and
runs 50 ms from finitialize(v_init) (dt 0.025 ms), under NEURON with h.fadvance(), under
CoreNEURON with one pc.psolve (which also warms it up: the first psolve transfers the model).
Rows (ms_per_step is CPU time):
- `neuron, project build`: the package's own build; ms_per_step over --steps fadvance()s.
- `neuron, CoreNEURON variant`: the variant under NEURON; ms_per_step as above (its
  SpineAxial resolves 40 POINTERs per step, which is why mod/ keeps the VERBATIM one); the
  differences are against the project build and should be exactly 0.
- `coreneuron`: the variant under CoreNEURON; ms_per_step over one psolve of --steps steps;
  the differences are against `neuron, CoreNEURON variant` (rounding: CoreNEURON orders its
  floating-point operations differently).
- `coreneuron, enter and leave`: overhead_ms, the cost of one entry into and exit from
  CoreNEURON: (--syncs psolve(+1 ms) - one psolve(+syncs ms)) / --syncs.
Differences are taken after the 50 ms: max_v_diff_mV over every segment's v, and the largest
relative difference of the spine heads' cai and cali. The `rest` rows run --layout without
input; the `stimulated` rows run spines="two" with 3 inputs at 100 Hz into both spines (the
first at 15 ms) and only compare states.

CORENEURONLIB must name the variant's libcorenrnmech.so: without it NEURON loads the wheel's
own CoreNEURON mechanisms and aborts on the first of ours.

Prints a table and writes DIR/coreneuron_msn.csv.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

NODES, SHELLS = 5, 4
POOLS = ("ca", "cl")

INCLUDE = 'INCLUDE "tau_table.inc"\n'
SHELLS_INCLUDE = 'INCLUDE "shells.inc"\n'
LIBM_EXP_INCLUDE = 'INCLUDE "libm_exp.inc"\n'  # VERBATIM on nocmodl's exp macro
GHK_INCLUDE = 'INCLUDE "ghk.inc"\n'
# mod/shells.inc solves the shells of many segments at once in VERBATIM on NEURON's data
# structures; the variant solves them one segment at a time with the same arithmetic.
SHELLS_PROCEDURE = """PROCEDURE shells() {{
    : mod/shells.inc's Newton iteration for one segment: buffer and pump eliminated, a
    : tridiagonal solve in the shell concentrations, stopped below `tolerance`.
    LOCAL c[NANN], cb[NANN], old[NANN], oldbound[NANN], sarea[NANN], face[NANN], lower[NANN], diag[NANN], upper[NANN], rhs[NANN], bfac[NANN], ibfac[NANN], idiag[NANN], rbound[NANN], pc, oldpc, bfree, rbuf, flux, influx, pumparea, pfree, jbind, jout, sbind, epump, iepump, rpump, dc, delta, iter, done
    pumparea = (1e10) * PI * diam
    influx = -(i{p} - i{p}_pmp_last) * PI * diam / (2 * FARADAY)
    FROM i = 0 TO NANN - 1 {{
        sarea[i] = diam * diam * shell_fraction(i)
        face[i] = DCa * face_factor(i)
        c[i] = {p}[i]
        cb[i] = {p}Buffer[i]
        old[i] = c[i]
        oldbound[i] = cb[i]
    }}
    pc = pump{p}
    oldpc = pc
    done = 0
    iter = 0
    while (done == 0) {{
        pfree = TotalPump - pc
        jbind = k1 * c[0] * pfree - k2 * pc
        jout = k3 * pc - k4 * pfree * {p}o
        sbind = k1 * c[0] + k2
        epump = 1 + dt * (sbind + k3 + k4 * {p}o)
        iepump = 1 / epump
        rpump = pc - oldpc - dt * (jbind - jout)
        FROM i = 0 TO NANN - 1 {{
            bfree = TotalBuffer - cb[i]
            rbuf = k1buf * c[i] * bfree - k2buf * cb[i]
            bfac[i] = 1 + dt * (k1buf * c[i] + k2buf)
            ibfac[i] = 1 / bfac[i]
            rbound[i] = cb[i] - oldbound[i] - dt * rbuf
            flux = -sarea[i] * rbuf
            lower[i] = 0
            upper[i] = 0
            diag[i] = sarea[i] + dt * sarea[i] * k1buf * bfree * ibfac[i]
            if (i > 0) {{
                flux = flux + face[i] * (c[i - 1] - c[i])
                lower[i] = -dt * face[i]
                diag[i] = diag[i] + dt * face[i]
            }}
            if (i < NANN - 1) {{
                flux = flux - face[i + 1] * (c[i] - c[i + 1])
                upper[i] = -dt * face[i + 1]
                diag[i] = diag[i] + dt * face[i + 1]
            }}
            rhs[i] = dt * flux - sarea[i] * (c[i] - old[i]) - dt * sarea[i] * (k1buf * c[i] + k2buf) * rbound[i] * ibfac[i]
        }}
        rhs[0] = rhs[0] + dt * influx - dt * pumparea * jbind - dt * pumparea * sbind * rpump * iepump
        diag[0] = diag[0] + dt * pumparea * k1 * pfree * (1 - dt * sbind * iepump)
        idiag[0] = 1 / diag[0]
        FROM i = 1 TO NANN - 1 {{
            delta = lower[i] * idiag[i - 1]
            diag[i] = diag[i] - delta * upper[i - 1]
            rhs[i] = rhs[i] - delta * rhs[i - 1]
            idiag[i] = 1 / diag[i]
        }}
        rhs[NANN - 1] = rhs[NANN - 1] * idiag[NANN - 1]
        FROM j = 2 TO NANN {{
            rhs[NANN - j] = (rhs[NANN - j] - upper[NANN - j] * rhs[NANN - j + 1]) * idiag[NANN - j]
        }}
        done = 1
        FROM i = 0 TO NANN - 1 {{
            dc = rhs[i]
            delta = (dt * k1buf * (TotalBuffer - cb[i]) * dc - rbound[i]) * ibfac[i]
            c[i] = c[i] + dc
            cb[i] = cb[i] + delta
            if (fabs(dc) > tolerance * fabs(c[i]) || fabs(delta) > tolerance * fabs(cb[i])) {{
                done = 0
            }}
        }}
        pc = pc + (dt * k1 * pfree * rhs[0] - rpump) * iepump
        iter = iter + 1
        if (iter >= max_iterations) {{
            done = 1
        }}
    }}
    FROM i = 0 TO NANN - 1 {{
        {p}[i] = c[i]
        {p}Buffer[i] = cb[i]
        Buffer[i] = TotalBuffer - cb[i]
    }}
    pump{p} = pc
    pump = TotalPump - pc
    i{p}_pmp = 2 * FARADAY * (1e10) * (k3 * pc - k4 * pump * {p}o)
    {p}i = c[0]
}}
"""  # noqa: E501 (NMODL lines as in mod/ before shells.inc)


def table_function(name: str, xs: list[float], ys: list[float]) -> str:
    """FUNCTION `name`(v): NEURON's hoc_func_table on the points (xs, ys), end values outside."""
    lines = [f"FUNCTION {name}(v (mV)) (ms) {{", "    LOCAL frac", f"    if (v <= {xs[0]!r}) {{"]
    lines.append(f"        {name} = {ys[0]!r}")
    for k in range(len(xs) - 1):
        lines.append(f"    }} else if (v < {xs[k + 1]!r}) {{")
        lines.append(f"        frac = (v - ({xs[k]!r})) / (({xs[k + 1]!r}) - ({xs[k]!r}))")
        lines.append(f"        {name} = (1 - frac) * ({ys[k]!r}) + frac * ({ys[k + 1]!r})")
    lines += ["    } else {", f"        {name} = {ys[-1]!r}", "    }", "}"]
    return "\n".join(lines)


def spineaxial_text(original: str) -> str:
    """spineaxial.mod without VERBATIM: one POINTER per node and shell, D as RANGE values."""
    ptrs = [
        f"{p}{n}" + (f"s{j}" if j else "")
        for p in POOLS
        for n in range(NODES)
        for j in range(SHELLS)
    ]
    out = []
    out.append(
        """TITLE SpineAxial: axial diffusion of the catrack and caltrack shells along one spine

COMMENT
The scheme of spineaxial.mod (see there), written without VERBATIM for CoreNEURON: one
POINTER per node and shell (ca<n> is shell 0 of node n, ca<n>s<j> shell j), and the
diffusion coefficients Dca, Dcl as RANGE values copied from DCa_catrack, DCa_caltrack.
ENDCOMMENT

NEURON {
    THREADSAFE
    POINT_PROCESS SpineAxial
"""
    )
    for k in range(0, len(ptrs), 10):
        out.append("    POINTER " + ", ".join(ptrs[k : k + 10]) + "\n")
    out.append("""    RANGE Dca, Dcl
    RANGE af1, af2, af3, af4, bf1, bf2, bf3, bf4, s0, s1, s2, s3, s4
}

UNITS {
    (mM) = (milli/liter)
    (um) = (micron)
}

PARAMETER {
    Dca = 0.6 (um2/ms)
    Dcl = 0.6 (um2/ms)
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
""")
    for k in range(0, len(ptrs), 10):
        out.append("    " + " ".join(ptrs[k : k + 10]) + " (mM)\n")
    out.append("""    lower[8]
    mult[8]
    pivot[10]
}

BREAKPOINT {
    SOLVE diffuse
}

PROCEDURE diffuse() {
    LOCAL x0, x1, x2, x3, x4
""")
    for k, (pool, D) in enumerate((("ca", "Dca"), ("cl", "Dcl"))):
        out.append(f"    factor({D}, {k})\n")
        m, p = 4 * k, 5 * k  # the pool's mult[m..m + 3], lower[m..m + 3], pivot[p..p + 4]
        for j in range(SHELLS):
            names = [f"{pool}{n}" + (f"s{j}" if j else "") for n in range(NODES)]
            for n in range(NODES):
                out.append(f"    x{n} = {names[n]}\n")
            out.append(f"""    x3 = x3 - mult[{m + 3}] * x4
    x2 = x2 - mult[{m + 2}] * x3
    x1 = x1 - mult[{m + 1}] * x2
    x0 = x0 - mult[{m}] * x1
    x0 = x0 * pivot[{p}]
    x1 = (x1 - lower[{m}] * x0) * pivot[{p + 1}]
    x2 = (x2 - lower[{m + 1}] * x1) * pivot[{p + 2}]
    x3 = (x3 - lower[{m + 2}] * x2) * pivot[{p + 3}]
    x4 = (x4 - lower[{m + 3}] * x3) * pivot[{p + 4}]
""")
            for n in range(NODES):
                out.append(f"    {names[n]} = x{n}\n")
    out.append("}\n\n")
    out.append(original[original.index("PROCEDURE factor(") :])
    return "".join(out)


VECSTIM = r"""TITLE VecStim: an artificial cell that emits one event at each time of a Vector

COMMENT
vecstim.mod with its Vector held through a BBCOREPOINTER, so that CoreNEURON can run it:
bbcore_write copies the times out of NEURON's Vector, bbcore_read into CoreNEURON's.
Usage and semantics as vecstim.mod (stim.play(h.Vector(times_ms)); sorted times).
ENDCOMMENT

NEURON {
    THREADSAFE
    ARTIFICIAL_CELL VecStim
    BBCOREPOINTER ptr
    RANGE next_index
}

ASSIGNED {
    next_index
    next_time (ms)
    ptr
}

INITIAL {
    next_index = 0
    advance()
    if (next_index > 0) {
        net_send(next_time - t, 1)
    }
}

NET_RECEIVE (w) {
    if (flag == 1) {
        net_event(t)
        advance()
        if (next_index > 0) {
            net_send(next_time - t, 1)
        }
    }
}

DESTRUCTOR {
VERBATIM
#if !NRNBBCORE
    {
        IvocVect* times = (IvocVect*) _p_ptr;
        if (times) {
            hoc_obj_unref(*vector_pobj(times));
        }
    }
#endif
ENDVERBATIM
}

PROCEDURE advance() {
    : load the next time into next_time; next_index = -1 once the vector is exhausted
VERBATIM
    {
        IvocVect* times = (IvocVect*) _p_ptr;
        int k = (int) next_index;
        if (k < 0 || !times || k >= vector_capacity(times)) {
            next_index = -1.;
        } else {
            next_time = vector_vec(times)[k];
            next_index = k + 1.;
        }
    }
ENDVERBATIM
}

PROCEDURE play() {
VERBATIM
#if !NRNBBCORE
    {
        IvocVect* times = NULL;
        IvocVect* previous = (IvocVect*) _p_ptr;
        if (ifarg(1)) {
            times = vector_arg(1);
            hoc_obj_ref(*vector_pobj(times));
        }
        if (previous) {
            hoc_obj_unref(*vector_pobj(previous));
        }
        _p_ptr = times;
    }
#endif
ENDVERBATIM
}

VERBATIM
/* One int (the number of times) and the times themselves per instance. */
static void bbcore_write(double* xarray, int* iarray, int* xoffset, int* ioffset,
                         _threadargsproto_) {
    IvocVect* times = (IvocVect*) _p_ptr;
    int n = times ? vector_capacity(times) : 0;
    if (iarray) {
        iarray[*ioffset] = n;
        if (n) {
            double* source = vector_vec(times);
            for (int k = 0; k < n; ++k) {
                xarray[*xoffset + k] = source[k];
            }
        }
    }
    *ioffset += 1;
    *xoffset += n;
}

static void bbcore_read(double* xarray, int* iarray, int* xoffset, int* ioffset,
                        _threadargsproto_) {
    int n = iarray[*ioffset];
    if (!_p_ptr) {
        _p_ptr = vector_new1(n);
    }
    assert(n == vector_capacity((IvocVect*) _p_ptr));
    double* target = vector_vec((IvocVect*) _p_ptr);
    for (int k = 0; k < n; ++k) {
        target[k] = xarray[*xoffset + k];
    }
    *ioffset += 1;
    *xoffset += n;
}
ENDVERBATIM
"""


def write_variant(target: Path) -> Path:
    """The CoreNEURON-compatible variant of mod/ in `target`."""
    from timescales.models.neuron.mechanisms import MOD_DIR, TABLE_INDEX, tau_tables

    target.mkdir(parents=True, exist_ok=True)
    tables = tau_tables()
    for path in sorted(MOD_DIR.glob("*.mod")):
        text = path.read_text()
        if path.stem == "spineaxial":
            text = spineaxial_text(text)
        elif path.stem == "vecstim":
            text = VECSTIM
        elif SHELLS_INCLUDE in text:
            text = shells_text(text)
        text = text.replace(LIBM_EXP_INCLUDE, "").replace(GHK_INCLUDE, ghk_functions())
        functions = [
            table_function(name, xs, ys)
            for (mechanism, name), (xs, ys) in tables.items()
            if mechanism == path.stem
        ]
        if functions:
            if INCLUDE not in text:
                raise SystemExit(f"{path}: no {INCLUDE.strip()!r}")
            text = text.replace(INCLUDE, "\n".join(functions) + "\n")
            for name in TABLE_INDEX:  # tau_of(v, TAUM) -> taum(v), as mod/ had it
                text = text.replace(f"tau_of(v, {name.upper()})", f"{name}(v)")
        (target / path.name).write_text(text)
    return target


def ghk_functions() -> str:
    """mod/ghk.inc's FUNCTIONs without its memo: each channel computes its own factors."""
    from timescales.models.neuron.mechanisms import MOD_DIR

    text = (MOD_DIR / "ghk.inc").read_text()
    text = re.sub(r"[ ]*(COMMENT|VERBATIM)\n.*?END\1\n", "", text, flags=re.S)
    return re.sub(r'INCLUDE ".*"\n', "", text).strip() + "\n"


def shells_text(original: str) -> str:
    """catrack/caltrack with the one-segment shells PROCEDURE instead of mod/shells.inc."""
    head, _ = original.split(": This pool's names for shells.inc.\n", 1)
    pool = original.split("#define SH_STATE ", 1)[1].split()[0]
    return head + SHELLS_PROCEDURE.format(p=pool)


def build_variant(target: Path) -> Path:
    """Write the variant into `target` and compile it with `nrnivmodl -coreneuron`."""
    write_variant(target)
    nrnivmodl = Path(sys.executable).parent / "nrnivmodl"
    done = subprocess.run(
        [str(nrnivmodl), "-coreneuron", "."], cwd=target, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"nrnivmodl -coreneuron failed:\n{done.stdout[-3000:]}{done.stderr}")
    return target


def spine_axial_all_shells(h: Any, sections: Sequence[Any]) -> Any:
    """axial.spine_axial for the variant's SpineAxial (a POINTER per node and shell)."""
    from timescales.models.neuron import axial as axial_mod

    axial_mod._check_chain(h, sections)
    nodes = [(seg, k == 0) for sec in sections for k, seg in enumerate(sec)]
    ax = h.SpineAxial(sections[-1](0.5))
    for k, (seg, first) in enumerate(nodes):
        setattr(ax, f"s{k}", seg.diam**2)
        if k == 0:
            continue
        parent = nodes[k - 1][0]
        dxc, dxp = seg.sec.L / seg.sec.nseg, parent.sec.L / parent.sec.nseg
        rall = seg.sec.rallbranch if first else 1.0
        setattr(ax, f"af{k}", 2 * rall / dxp / (dxc + dxp))
        setattr(ax, f"bf{k}", 2 / dxc / (dxc + dxp))
    for mechanism, state, prefix, diffusion in axial_mod.POOLS:
        setattr(ax, f"D{prefix}", getattr(h, diffusion))
        for k, (seg, _) in enumerate(nodes):
            shells = getattr(getattr(seg, mechanism), f"_ref_{state}")
            for j in range(SHELLS):
                h.setpointer(shells[j], f"{prefix}{k}" + (f"s{j}" if j else ""), ax)
    return ax


COMPARE_MS = 50.0
STIMULUS = {"start_ms": 5.0, "rate_hz": 100.0, "count": 3}  # into the first two spines
FIELDS = (
    "case", "layout", "state", "ms_per_step", "overhead_ms", "compared_with",
    "max_v_diff_mV", "max_cai_rel_diff", "max_cali_rel_diff",
)  # fmt: skip


def _load_variant(mod_dir: Path) -> None:
    """Load the variant's NEURON build and have the MSN use it as its mechanisms."""
    import timescales.models.neuron.mechanisms as mechanisms
    import timescales.models.neuron.spine as spine
    from timescales.adapters._imports import import_neuron

    os.environ["CORENEURONLIB"] = str(mod_dir / "x86_64" / "libcorenrnmech.so")
    if not import_neuron().load_mechanisms(str(mod_dir), warn_if_already_loaded=False):
        raise RuntimeError(f"NEURON could not load the variant built in {mod_dir}")
    mechanisms._state["mod_dir"] = mod_dir  # its tables are FUNCTIONs: nothing to fill
    spine.spine_axial = spine_axial_all_shells


def child(spec: dict) -> dict:
    """Run one case in this process: the state after COMPARE_MS, then the timings asked for."""
    if spec["mod_dir"]:
        _load_variant(Path(spec["mod_dir"]))
    from timescales.models.neuron.msn import MSN

    cell = MSN(spines=spec["layout"])
    cell.apply_settings()
    h = cell.h
    if spec["state"] == "stimulated":
        cell.stimulate_train([s.number for s in cell.spines][:2], **STIMULUS)
    h.cvode.cache_efficient(1)
    pc = h.ParallelContext()
    if spec["engine"] == "coreneuron":
        from neuron import coreneuron

        coreneuron.enable = True
        coreneuron.verbose = 0
        pc.set_maxstep(10)

    def advance(tstop: float) -> float:
        """Run to `tstop`; the CPU seconds it took."""
        start = time.process_time()
        if spec["engine"] == "coreneuron":
            pc.psolve(tstop)
        else:
            while h.t < tstop - 0.5 * h.dt:
                h.fadvance()
        return time.process_time() - start

    h.finitialize(cell.settings.v_init_mV)
    advance(COMPARE_MS)
    heads = [s.head(0.5) for s in cell.spines]
    result: dict[str, Any] = {
        "v_mV": [seg.v for sec in h.allsec() for seg in sec],
        "cai_mM": [seg.cai for seg in heads],
        "cali_mM": [seg.cali for seg in heads],
    }
    if spec["steps"]:
        cpu = advance(h.t + spec["steps"] * h.dt)
        result["ms_per_step"] = cpu / spec["steps"] * 1e3
    if spec["syncs"]:
        start = h.t
        one = advance(start + spec["syncs"])
        many = sum(advance(start + spec["syncs"] + k) for k in range(1, spec["syncs"] + 1))
        result["overhead_ms"] = (many - one) / spec["syncs"] * 1e3
    return result


def run(spec: dict, work: Path) -> dict:
    """Run one case in a fresh process, in `work` (NEURON loads ./x86_64 of its directory)."""
    result = work / "result.json"
    spec = spec | {"result": str(result)}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)],
        capture_output=True, text=True, check=False, cwd=work,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"case {spec} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    return json.loads(result.read_text())


def differences(result: dict, reference: dict) -> dict[str, float]:
    """Largest |Δv| over all segments and largest relative head cai, cali differences."""

    def largest(key: str, relative: bool) -> float:
        pairs = zip(result[key], reference[key], strict=True)
        return max(abs(a - b) / (abs(b) if relative else 1.0) for a, b in pairs)

    return {
        "max_v_diff_mV": largest("v_mV", False),
        "max_cai_rel_diff": largest("cai_mM", True),
        "max_cali_rel_diff": largest("cali_mM", True),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--layout", default="all")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--syncs", type=int, default=100)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="coreneuron-msn-"))
    rows: list[dict] = []
    try:
        variant = str(build_variant(work / "variant"))
        cases = [  # (case, engine, mod_dir, layout, state, steps, syncs, compared_with)
            ("neuron, project build", "neuron", None, args.layout, "rest", args.steps, 0, None),
            ("neuron, CoreNEURON variant", "neuron", variant, args.layout, "rest", args.steps, 0,
             "neuron, project build"),
            ("coreneuron", "coreneuron", variant, args.layout, "rest", args.steps, 0,
             "neuron, CoreNEURON variant"),
            ("coreneuron, enter and leave", "coreneuron", variant, args.layout, "rest", 0,
             args.syncs, None),
            ("neuron, project build", "neuron", None, "two", "stimulated", 0, 0, None),
            ("neuron, CoreNEURON variant", "neuron", variant, "two", "stimulated", 0, 0,
             "neuron, project build"),
            ("coreneuron", "coreneuron", variant, "two", "stimulated", 0, 0,
             "neuron, CoreNEURON variant"),
        ]  # fmt: skip
        results: dict[tuple[str, str], dict] = {}
        for name, engine, mod_dir, layout, state, steps, syncs, compared_with in cases:
            spec = {
                "engine": engine, "mod_dir": mod_dir, "layout": layout, "state": state,
                "steps": steps, "syncs": syncs,
            }  # fmt: skip
            result = results[(name, state)] = run(spec, work)
            row = {"case": name, "layout": layout, "state": state}
            row |= {k: result[k] for k in ("ms_per_step", "overhead_ms") if k in result}
            if compared_with:
                row["compared_with"] = compared_with
                row |= differences(result, results[(compared_with, state)])
            rows.append(row)
            print(" | ".join(_text(row.get(k, "")) for k in FIELDS), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with open(args.out / "coreneuron_msn.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    _table(rows)
    return 0


def _text(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _table(rows: list[dict]) -> None:
    print("\n| " + " | ".join(FIELDS) + " |")
    print("|" + "---|" * len(FIELDS))
    for row in rows:
        print("| " + " | ".join(_text(row.get(k, "")) for k in FIELDS) + " |")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        spec = json.loads(sys.argv[2])
        Path(spec["result"]).write_text(json.dumps(child(spec)))
        sys.exit(0)
    sys.exit(main())
