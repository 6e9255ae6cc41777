"""Structure of the MSN against the fact sheets (msn-electrical.md 2 and 4, spines.md 1 and 3)."""

from __future__ import annotations

import csv
import math

import pytest

from conftest import shared_path
from timescales.errors import ConfigError

pytestmark = pytest.mark.neuron

# msn-electrical.md section 4, written out from the fact sheet: mechanism -> parameter and
# value per region (None: not inserted). Regions: soma, proximal, mid, distal, neck, head, psd.
EXPECTED_DENSITIES = {
    ("pas", "g"): (1.15e-5, 1.15e-5, 1.15e-5, 1.15e-5, None, None, None),
    ("naf", "gbar"): (1.5, 0.0195, 0.0195, 0.0195, None, None, None),
    ("nap", "gbar"): (4e-5, 1.3802e-7, 1.3802e-7, 1.3802e-7, None, None, None),
    ("kir", "gbar"): (0.00016, 0.00016, 0.00016, 0.00016, 0.00016, 0.00016, None),
    ("kas", "gbar"): (0.0104, 0.0104, 0.00095142, 0.00095142, None, None, None),
    ("kaf", "gbar"): (0.225, 0.225, 0.020584, 0.020584, None, None, None),
    ("krp", "gbar"): (0.001, None, None, None, None, None, None),
    ("bkkca", "gbar"): (0.001, 0.001, 0.001, 0.001, None, None, None),
    ("skkca", "gbar"): (0.145, 0.145, 0.145, 0.145, None, 0.175, None),
    ("caL", "pbar"): (6.7e-6, 6.7e-6, 6.7e-6, 6.7e-6, None, None, 6.7e-6),
    ("caL13", "pbar"): (4.25e-7, 4.25e-7, 4.25e-7, 4.25e-7, None, None, 1.7e-6),
    ("can", "pbar"): (1.0e-5, 1.0e-5, 1.0e-5, 1.0e-5, None, 1.0e-5, None),
    ("caq", "pbar"): (6.0e-6, 6.0e-6, 6.0e-6, 6.0e-6, None, 6.0e-6, None),
    ("car", "pbar"): (2.6e-5, 2.6e-5, 2.6e-5, 2.6e-5, None, 2.6e-5, None),
    ("cat", "pbar"): (4e-7, 4e-7, 4e-7, 4e-7, None, None, None),
}
REGIONS = ("soma", "proximal", "mid", "distal", "neck", "head", "psd")
POOLS = {"cadyn": "msn", "caldyn": "msn", "catrack": "spine", "caltrack": "spine"}


@pytest.fixture(scope="module")
def cells():
    from timescales.models.neuron.msn import MSN

    return {layout: MSN(spines=layout) for layout in ("zero", "two", "onebranch", "all")}


def short_name(section) -> str:
    return section.name().split(".", 1)[1]


def test_sections_and_segments_without_spines(cells) -> None:
    sections = [section for _, section in cells["zero"].sections_by_region()]
    assert len(sections) == 29
    assert sum(section.nseg for section in sections) == 221
    area = sum(seg.area() for section in sections for seg in section)
    assert area == pytest.approx(6647.6, abs=0.1)


def test_geometry_and_connections(cells) -> None:
    cell = cells["zero"]
    expected = {"soma": (16, 16, 1), "proximal": (20, 2.25, 1), "mid": (20, 1, 5)}
    expected["distal"] = (190, 0.5, 11)
    for name, section in cell.sections_by_region():
        region = cell.region_of(name)
        assert (section.L, section.diam, section.nseg) == pytest.approx(expected[region])
        assert (section.Ra, section.cm) == (100, 1)
        assert section.ek == -90
        parent = section.parentseg()
        if region == "proximal":
            assert short_name(parent.sec) == "soma"
            assert parent.x == (1 if name in ("dend1", "dend2") else 0)
        elif region == "mid":
            assert short_name(parent.sec) == name.split("_")[0]
            assert parent.x == 1
        elif region == "distal":
            assert short_name(parent.sec) == name[:-3] + "[0]"
            assert parent.x == 1


def test_wolf_nseg_rule_gives_the_distal_quirk() -> None:
    from timescales.models.neuron.msn import wolf_nseg

    assert wolf_nseg(395.2, 0.72) == 11
    assert wolf_nseg(24.23, 1.10) == 1
    assert wolf_nseg(16, 16) == 1


@pytest.mark.parametrize(("layout", "count"), [("zero", 0), ("two", 2), ("onebranch", 103)])
def test_spine_counts(cells, layout: str, count: int) -> None:
    assert len(cells[layout].spines) == count


def test_all_layout_count(cells) -> None:
    cell = cells["all"]
    assert len(cell.spines) == 1504
    assert [s.number for s in cell.spines] == list(range(1, 1505))


def test_spines_match_reference_table(cells) -> None:
    path = shared_path("reference", "data", "spines_by_distribution.csv")
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_layout: dict[str, list[dict]] = {}
    for row in rows:
        by_layout.setdefault(row["distribution"], []).append(row)
    assert set(by_layout) <= {"two", "onebranch", "all"}
    for layout, expected in by_layout.items():
        spines = cells[layout].spines
        assert len(spines) == len(expected), layout
        for spine, row in zip(spines, expected, strict=True):
            assert spine.number == int(row["spine_number"])
            assert short_name(spine.neck) == f"{row['spine_name']}_neck"
            parent = spine.neck.parentseg()
            assert short_name(parent.sec) == row["parent_section"]
            assert parent.x == float(row["x_fraction_of_section"])


def test_explicit_spine_numbers_use_the_all_layout(cells) -> None:
    from timescales.models.neuron.msn import MSN

    cell = MSN(spines=[1468, 2, 531])
    assert [s.number for s in cell.spines] == [2, 531, 1468]
    reference = {s.number: s for s in cells["all"].spines}
    for spine in cell.spines:
        assert spine.site == reference[spine.number].site


def _value(section, mechanism: str, parameter: str) -> float | None:
    if not section.has_membrane(mechanism):
        return None
    values = {getattr(getattr(seg, mechanism), parameter) for seg in section}
    assert len(values) == 1
    return values.pop()


def test_densities_per_region(cells) -> None:
    cell = cells["two"]
    by_region: dict[str, list] = {region: [] for region in REGIONS}
    for name, section in cell.sections_by_region():
        by_region[cell.region_of(name)].append(section)
    for spine in cell.spines:
        by_region["neck"].append(spine.neck)
        by_region["head"].append(spine.head)
        by_region["psd"].append(spine.psd)
    for (mechanism, parameter), values in EXPECTED_DENSITIES.items():
        for region, expected in zip(REGIONS, values, strict=True):
            for section in by_region[region]:
                got = _value(section, mechanism, parameter)
                assert got == (None if expected is None else pytest.approx(expected)), (
                    mechanism,
                    region,
                    short_name(section),
                )
    for pool, where in POOLS.items():
        for region, sections in by_region.items():
            inserted = where == ("msn" if region not in ("neck", "head", "psd") else "spine")
            assert all(s.has_membrane(pool) == inserted for s in sections), (pool, region)


def test_spine_sections(cells) -> None:
    spine = cells["two"].spines[0]
    expected = {
        "neck": (spine.neck, 1.5, 0.1, 3, 100),
        "head": (spine.head, 1.0, 1.175, 1, 35.4),
        "psd": (spine.psd, 0.05, 0.5, 1, 100),
    }
    for section, length, diam, nseg, ra in expected.values():
        assert (section.L, section.diam, section.nseg, section.Ra) == pytest.approx(
            (length, diam, nseg, ra)
        )
        assert section.cm == 1
    assert spine.neck.ek == spine.head.ek == -77
    assert short_name(spine.head.parentseg().sec) == "spine1_neck"
    assert short_name(spine.psd.parentseg().sec) == "spine1_head"
    assert spine.head_volume_l == pytest.approx(1.0843403e-15, rel=1e-7)
    assert spine.ampa.get_segment().x == 0.5
    assert spine.ampa.get_segment().sec == spine.psd
    assert spine.nmda.get_segment().sec == spine.psd
    assert spine.ampa_netcon.delay == spine.nmda_netcon.delay == 1
    assert spine.ampa_netcon.weight[0] == spine.nmda_netcon.weight[0] == 1
    spine_area = sum(seg.area() for s in (spine.neck, spine.head, spine.psd) for seg in s)
    assert spine_area == pytest.approx(math.pi * (1.5 * 0.1 + 1.175 + 0.05 * 0.5), rel=1e-9)


def test_unknown_layout_lists_the_valid_ones() -> None:
    from timescales.models.neuron.msn import MSN

    with pytest.raises(ConfigError) as info:
        MSN(spines="allspines")
    for name in ("zero", "two", "onebranch", "all"):
        assert name in str(info.value)


def test_spine_numbers_out_of_range() -> None:
    from timescales.models.neuron.msn import MSN

    with pytest.raises(ConfigError, match=r"1\.\.1504"):
        MSN(spines=[0, 1505])
