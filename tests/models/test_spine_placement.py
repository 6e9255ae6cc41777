"""Spines placed by density (file_cells.place_by_density), on stand-in sections: which
sections are chosen, how many spines they get (Poisson with mean length x density), where
(uniform along each), and that the seed alone decides. Needs no simulator."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from timescales.errors import ModelError
from timescales.models.neuron.file_cells import matches, place_by_density


@dataclass(frozen=True)
class Section:
    """What placement reads of a NEURON section: its name and length."""

    label: str
    L: float

    def name(self) -> str:
        return self.label


DENDRITES = [Section(f"dend[{k}]", 50.0) for k in range(400)]
APICAL = [Section(f"apic[{k}]", 120.0) for k in range(20)]
CELL = [Section("soma[0]", 20.0), *DENDRITES, *APICAL]


def test_names_match_exactly_or_as_globs() -> None:
    assert matches("apic[3]", ["apic[3]"])
    assert not matches("apic[13]", ["apic[3]"])
    assert matches("apic[13]", ["apic*"])
    assert matches("BallStick[0].dend", ["*.dend"])
    assert not matches("dend[1]", ["apic*", "soma*"])


def test_only_the_chosen_sections_get_spines_in_name_order() -> None:
    places = place_by_density(CELL, ["apic*"], 0.2, seed=5)
    names = [section.name() for section, _ in places]
    assert set(names) <= {s.name() for s in APICAL}
    assert names == sorted(names)
    assert all(0.0 <= x <= 1.0 for _, x in places)
    by_section: dict[str, list[float]] = {}
    for section, x in places:
        by_section.setdefault(section.name(), []).append(x)
    assert all(xs == sorted(xs) for xs in by_section.values())


def test_counts_and_positions_follow_the_density() -> None:
    density_per_um = 0.1
    places = place_by_density(CELL, ["dend*"], density_per_um, seed=11)
    mean = sum(s.L for s in DENDRITES) * density_per_um  # 2000 spines expected
    assert abs(len(places) - mean) < 4 * math.sqrt(mean)  # Poisson: sd = sqrt(mean)
    xs = [x for _, x in places]
    # uniform on 0..1: mean 1/2, sd of the mean sqrt(1/12 / n)
    assert abs(sum(xs) / len(xs) - 0.5) < 4 * math.sqrt(1 / 12 / len(xs))
    quarter = sum(x < 0.25 for x in xs) / len(xs)
    assert abs(quarter - 0.25) < 4 * math.sqrt(0.25 * 0.75 / len(xs))


def test_the_seed_alone_decides() -> None:
    first = place_by_density(CELL, ["dend*"], 0.05, seed=3)
    again = place_by_density(list(reversed(CELL)), ["dend*"], 0.05, seed=3)
    other = place_by_density(CELL, ["dend*"], 0.05, seed=4)
    assert first == again  # the order sections come in does not matter
    assert first != other


def test_patterns_that_match_nothing_name_the_sections() -> None:
    with pytest.raises(ModelError, match=r"match no section of the cell \(apic\[0\]"):
        place_by_density(CELL, ["axon*"], 0.1, seed=0)
