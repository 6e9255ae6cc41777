"""Coupling hints stored inside an SBML file: which ids a calcium coupling reads and writes.

The hints live in one element of the model's <annotation> (namespace `NAMESPACE`), so any SBML
file authored the same way describes its own coupling interface.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, fields
from pathlib import Path

from timescales.errors import ModelError

NAMESPACE = "urn:timescales:sbml:coupling:1"
PREFIX = "timescales"
ELEMENT = "coupling"


@dataclass(frozen=True)
class CouplingHints:
    """The ids and units a calcium coupling needs from a spine network."""

    calcium_species: str
    input_parameter: str
    input_unit: str
    output: str
    output_unit: str
    switch_off_parameters: tuple[str, ...]
    rest_calcium_M: float
    equilibration_s: float

    def to_xml(self) -> str:
        """The annotation element that carries these hints."""
        return (
            f'<{PREFIX}:{ELEMENT} xmlns:{PREFIX}="{NAMESPACE}"'
            f' calcium_species="{self.calcium_species}"'
            f' input_parameter="{self.input_parameter}" input_unit="{self.input_unit}"'
            f' output="{self.output}" output_unit="{self.output_unit}"'
            f' switch_off_parameters="{" ".join(self.switch_off_parameters)}"'
            f' rest_calcium_M="{self.rest_calcium_M!r}"'
            f' equilibration_s="{self.equilibration_s!r}"/>'
        )

    @classmethod
    def from_element(cls, element: ET.Element, source: str) -> CouplingHints:
        """Hints from a parsed coupling element; ModelError names the missing attribute."""
        missing = [f.name for f in fields(cls) if f.name not in element.attrib]
        if missing:
            raise ModelError(f"{source}: coupling hints lack {', '.join(missing)}")
        attrib = element.attrib
        try:
            return cls(
                calcium_species=attrib["calcium_species"],
                input_parameter=attrib["input_parameter"],
                input_unit=attrib["input_unit"],
                output=attrib["output"],
                output_unit=attrib["output_unit"],
                switch_off_parameters=tuple(attrib["switch_off_parameters"].split()),
                rest_calcium_M=float(attrib["rest_calcium_M"]),
                equilibration_s=float(attrib["equilibration_s"]),
            )
        except ValueError as exc:
            raise ModelError(f"{source}: coupling hints: {exc}") from exc


def read_hints(sbml_path: Path) -> CouplingHints:
    """The coupling hints of an SBML file; ModelError when the file has none."""
    tag = f"{{{NAMESPACE}}}{ELEMENT}"
    try:
        for _event, element in ET.iterparse(sbml_path, events=("start",)):
            if element.tag == tag:
                return CouplingHints.from_element(element, str(sbml_path))
            if element.tag.endswith("}listOfUnitDefinitions"):
                break
    except (ET.ParseError, OSError) as exc:
        raise ModelError(f"{sbml_path}: cannot read the SBML file: {exc}") from exc
    raise ModelError(
        f"{sbml_path}: no coupling hints (an <annotation> element {ELEMENT!r} in namespace "
        f"{NAMESPACE!r} on the model)"
    )
