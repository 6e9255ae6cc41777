"""The MSN under CoreNEURON (the neuron wheel's CPU build), against NEURON's fixed step.

An experiment, not part of the package: writes a CoreNEURON-compatible variant of the mod
files, compiles it with `nrnivmodl -coreneuron`, builds the MSN on it and runs one task:

    python benchmarks/coreneuron_msn.py build DIR           # variant + nrnivmodl -coreneuron
    python benchmarks/coreneuron_msn.py run DIR --engine coreneuron --task step
    python benchmarks/coreneuron_msn.py run DIR --engine neuron --task compare --out x.json
    python benchmarks/coreneuron_msn.py run orig --engine neuron --task compare --out y.json

The variant differs from mod/ where CoreNEURON needs it, without changing the equations:
each FUNCTION_TABLE becomes a FUNCTION interpolating data/tau_tables.csv's points as
NEURON's hoc_func_table does; spineaxial.mod (VERBATIM on NEURON's POINTER handles) becomes
plain NMODL with one POINTER per node and shell and the D coefficients as RANGE values;
vecstim.mod keeps its Vector through a BBCOREPOINTER. Under NEURON the variant gives
bit-identical results to mod/ (all v, spine cai, cali, rubin W after 50 ms).
Tasks: step (ms per step at rest, MSN(spines="all")), sync1 (cost of entering and leaving
CoreNEURON: psolve of one step), compare / stim (state after 50 ms, as JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

NODES, SHELLS = 5, 4
POOLS = ("ca", "cl")


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
    out.append("""    lo1 lo2 lo3 lo4
    m1 m2 m3 m4
    p0 p1 p2 p3 p4
}

BREAKPOINT {
    SOLVE diffuse
}

PROCEDURE diffuse() {
    LOCAL x0, x1, x2, x3, x4
""")
    for pool, D in (("ca", "Dca"), ("cl", "Dcl")):
        out.append(f"    factor({D})\n")
        for j in range(SHELLS):
            names = [f"{pool}{n}" + (f"s{j}" if j else "") for n in range(NODES)]
            for n in range(NODES):
                out.append(f"    x{n} = {names[n]}\n")
            out.append("""    x3 = x3 - m4 * x4
    x2 = x2 - m3 * x3
    x1 = x1 - m2 * x2
    x0 = x0 - m1 * x1
    x0 = x0 * p0
    x1 = (x1 - lo1 * x0) * p1
    x2 = (x2 - lo2 * x1) * p2
    x3 = (x3 - lo3 * x2) * p3
    x4 = (x4 - lo4 * x3) * p4
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
    from timescales.models.neuron.mechanisms import MOD_DIR, tau_tables

    target.mkdir(parents=True, exist_ok=True)
    tables = tau_tables()
    for path in sorted(MOD_DIR.glob("*.mod")):
        text = path.read_text()
        if path.stem == "spineaxial":
            text = spineaxial_text(text)
        elif path.stem == "vecstim":
            text = VECSTIM
        for (mechanism, name), (xs, ys) in tables.items():
            if mechanism == path.stem:
                declaration = f"FUNCTION_TABLE {name}(v (mV)) (ms)\n"
                if declaration not in text:
                    raise SystemExit(f"{path}: no {declaration.strip()!r}")
                text = text.replace(declaration, table_function(name, xs, ys) + "\n")
        (target / path.name).write_text(text)
    return target


def build(target: Path) -> None:
    write_variant(target)
    nrnivmodl = Path(sys.executable).parent / "nrnivmodl"
    subprocess.run([str(nrnivmodl), "-coreneuron", "."], cwd=target, check=True)


def spine_axial_all_shells(h, sections):
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


def run(a: argparse.Namespace) -> None:  # noqa: C901
    import neuron
    from neuron import h

    import timescales.models.neuron.mechanisms as mech
    import timescales.models.neuron.spine as spine_mod

    if a.mods != "orig":
        d = Path(a.mods).resolve()
        os.environ.setdefault("CORENEURONLIB", str(d / "x86_64" / "libcorenrnmech.so"))
        assert neuron.load_mechanisms(str(d), warn_if_already_loaded=False)
        mech._state["mod_dir"] = d  # the variant has no FUNCTION_TABLEs to fill
        spine_mod.spine_axial = spine_axial_all_shells

    from timescales.models.neuron.msn import MSN

    spines = a.spines
    cell = MSN(spines=spines)
    cell.apply_settings()
    h.dt = 0.025
    pc = h.ParallelContext()
    if a.engine == "coreneuron":
        from neuron import coreneuron

        h.cvode.cache_efficient(1)
        coreneuron.enable = True
        coreneuron.verbose = 0
        pc.set_maxstep(10)
    else:
        h.cvode.cache_efficient(1)

    def advance_to(tstop):
        if a.engine == "coreneuron":
            pc.psolve(tstop)
        else:
            while h.t < tstop - h.dt / 2:
                h.fadvance()

    res = {"mods": a.mods, "engine": a.engine, "task": a.task, "spines": a.spines}
    if a.task == "stim":
        cell.stimulate_train([s.number for s in cell.spines][:2], start_ms=5, rate_hz=100, count=3)

    h.finitialize(-87.75)
    if a.task == "step":
        advance_to(10.0)  # warm-up (includes the first transfer for CoreNEURON)
        n = a.steps
        t0c, t0w = time.process_time(), time.perf_counter()
        advance_to(h.t + n * h.dt)
        cpu, wall = time.process_time() - t0c, time.perf_counter() - t0w
        res.update(steps=n, ms_per_step_cpu=cpu / n * 1e3, ms_per_step_wall=wall / n * 1e3)
    elif a.task == "sync1":
        t0c, t0w = time.process_time(), time.perf_counter()
        advance_to(h.dt)
        first = (time.process_time() - t0c, time.perf_counter() - t0w)
        advance_to(1.0)
        t0c = time.process_time()
        advance_to(h.t + 200 * h.dt)
        per_step = (time.process_time() - t0c) / 200
        t0c, t0w = time.process_time(), time.perf_counter()
        for _ in range(50):
            advance_to(h.t + h.dt)
        one_step_psolve = ((time.process_time() - t0c) / 50, (time.perf_counter() - t0w) / 50)
        res.update(
            first_psolve_ms=[x * 1e3 for x in first],
            step_ms_in_long_psolve=per_step * 1e3,
            one_step_psolve_ms_cpu=one_step_psolve[0] * 1e3,
            one_step_psolve_ms_wall=one_step_psolve[1] * 1e3,
            sync_overhead_ms=(one_step_psolve[0] - per_step) * 1e3,
        )
    elif a.task == "total":
        cell.stimulate_train([s.number for s in cell.spines][:2], start_ms=5, rate_hz=100, count=3)
        seg = cell.spines[0].head(0.5)
        vt, vc, vl = (
            h.Vector().record(seg._ref_total_catotal),
            h.Vector().record(seg._ref_cai),
            h.Vector().record(seg._ref_cali),
        )
        h.finitialize(-87.75)
        advance_to(50.0)
        import numpy as np

        T, C = np.array(vt), np.array(vc) + np.array(vl)
        res.update(
            n=len(T),
            total_first=T[0],
            total_last=T[-1],
            total_max=T.max(),
            sum_max=C.max(),
            max_abs_total_minus_sum=float(np.abs(T - C).max()),
            max_abs_total_minus_prev_sum=float(np.abs(T[1:] - C[:-1]).max()),
        )
    elif a.task == "sync":
        # 100 x psolve(+1 ms) against one psolve(+100 ms), after a warm-up psolve
        advance_to(1.0)
        t0c, t0w = time.process_time(), time.perf_counter()
        advance_to(101.0)
        one = (time.process_time() - t0c, time.perf_counter() - t0w)
        t0c, t0w = time.process_time(), time.perf_counter()
        for k in range(100):
            advance_to(101.0 + (k + 1) * 1.0)
        many = (time.process_time() - t0c, time.perf_counter() - t0w)
        res.update(
            one_psolve_100ms_cpu_s=one[0],
            one_wall=one[1],
            hundred_psolve_1ms_cpu_s=many[0],
            hundred_wall=many[1],
            per_sync_ms_cpu=(many[0] - one[0]) / 100 * 1e3,
            per_sync_ms_wall=(many[1] - one[1]) / 100 * 1e3,
            t_end=h.t,
        )
    else:  # compare / stim: state after 50 ms
        advance_to(50.0)
        vals = {"t": h.t, "soma_v": cell.soma(0.5).v}
        heads = []
        for sp in cell.spines:
            seg = sp.head(0.5)
            psd = sp.psd(0.5)
            heads.append(
                (seg.v, seg.cai, seg.cali, seg.catotal.total, psd.rubin.W, psd.cai, psd.rubin.detA)
            )
        vals["heads"] = heads
        vs = [seg.v for sec in h.allsec() for seg in sec]
        vals["all_v"] = vs
        with open(a.out, "w") as handle:
            json.dump(vals, handle)
        res["t"] = h.t
    print(json.dumps(res))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build").add_argument("dir", type=Path)
    r = sub.add_parser("run")
    r.add_argument("mods", help="a directory from build, or orig for the project's own build")
    r.add_argument("--engine", default="neuron", choices=["neuron", "coreneuron"])
    r.add_argument(
        "--task", default="step", choices=["step", "sync1", "sync", "compare", "stim", "total"]
    )
    r.add_argument("--spines", default="all")
    r.add_argument("--steps", type=int, default=2000)
    r.add_argument("--out", default=None)
    a = parser.parse_args()
    if a.command == "build":
        build(a.dir)
    else:
        run(a)


if __name__ == "__main__":
    main()
