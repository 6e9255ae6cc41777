"""eca and ecal computed at initialization only where no mechanism reads them: the MSN's
results stay those of NEURON's own ion style to the bit, and a section holding a mechanism
that reads them (or one the project does not know) keeps NEURON's style."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.neuron

#: NEURON's ion_style bit for "compute the reversal potential at every step".
EADVANCE = 0o100


def _eadvance(h, ion: str, sec) -> bool:
    return bool(int(h.ion_style(f"{ion}_ion", sec=sec)) & EADVANCE)


def _run(cell, h) -> np.ndarray:
    head = cell.spine(1).head(0.5)
    traces = [h.Vector().record(ref) for ref in (cell.soma(0.5)._ref_v, head._ref_total_catotal)]
    h.finitialize(cell.settings.v_init_mV)
    h.continuerun(150.0)
    return np.array([np.array(v) for v in traces])


def test_an_msn_run_without_recomputing_eca_and_ecal_gives_the_same_bits() -> None:
    from timescales.models.neuron.msn import MSN

    cell = MSN(spines="two")
    cell.stimulate_train([1], start_ms=10.0, rate_hz=50.0, count=3)
    cell.apply_settings()
    h = cell.h
    sections = [sec for _, sec in cell.sections_by_region()] + cell.spine_sections()
    assert not any(_eadvance(h, ion, sec) for sec in sections for ion in ("ca", "cal"))
    skipped = _run(cell, h)
    for sec in sections:  # NEURON's style: both recomputed at every step
        for ion in ("ca", "cal"):
            h.ion_style(f"{ion}_ion", 3, 2, 1, 1, 1, sec=sec)
    recomputed = _run(cell, h)
    before = round(29.0 / cell.settings.dt_ms)  # the inputs arrive at 30, 50 and 70 ms
    assert skipped[1][before:].max() > 2 * skipped[1][before]  # the head's calcium rose
    np.testing.assert_array_equal(skipped, recomputed)


def test_ion_reads_gives_each_mechanisms_useion_read_lists(tmp_path: Path) -> None:
    from timescales.models.neuron.mechanisms import ion_reads

    (tmp_path / "reader.mod").write_text(
        "NEURON {\n  SUFFIX reader\n  USEION ca READ eca, cai WRITE ica\n"
        "  USEION k READ ek VALENCE 1\n}\n"
    )
    (tmp_path / "writer.mod").write_text(
        "NEURON {\n  POINT_PROCESS writer\n  USEION ca WRITE ica\n}\n"
    )
    (tmp_path / "shared.inc").write_text("FUNCTION f() { f = 1 }\n")
    reads = ion_reads(tmp_path)
    assert reads["reader"] == {"eca", "cai", "ek"}
    assert reads["writer"] == set()
    assert reads["pas"] == set()  # NEURON's own, used by the cells


@pytest.mark.parametrize(
    ("changed", "kept"),
    [
        ({"caL": frozenset({"cali", "ecal"})}, {("psd", "cal"), ("soma", "cal")}),
        ({"pas": None}, {("soma", "ca"), ("soma", "cal")}),  # a mechanism it does not know
    ],
    ids=["reads-ecal", "unknown"],
)
def test_sections_where_eca_or_ecal_may_be_read_keep_neurons_style(
    monkeypatch: pytest.MonkeyPatch, changed: dict, kept: set
) -> None:
    from timescales.models.neuron import mechanisms
    from timescales.models.neuron.msn import MSN

    reads = mechanisms.ion_reads()
    for name, listed in changed.items():
        if listed is None:
            del reads[name]
        else:
            reads[name] = listed
    monkeypatch.setattr(mechanisms, "ion_reads", lambda: reads)
    cell = MSN(spines=[1])
    cell.apply_settings()
    h, spine = cell.h, cell.spine(1)
    sections = {"soma": cell.soma, "neck": spine.neck, "head": spine.head, "psd": spine.psd}
    recomputed = {
        (part, ion)
        for part, sec in sections.items()
        for ion in ("ca", "cal")
        if _eadvance(h, ion, sec)
    }
    assert recomputed == kept
