"""Regenerate the SBML files of timescales.models.sbml from their readable sources.

Usage: python -m timescales.models.sbml.generate [--out DIR]   (default: this package)
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from . import spine_network
from .antimony_build import antimony_sbml
from .spine_network import DATA_DIR, spine_network_sbml

PACKAGE_DIR = Path(__file__).resolve().parent

#: The small model keeps the spine network's coupling interface; it rests within 60 s.
CAMKII_SIMPLE_HINTS = replace(spine_network.HINTS, equilibration_s=60.0)


def generate(out_dir: Path = PACKAGE_DIR, source_dir: Path = PACKAGE_DIR) -> list[Path]:
    """Write spine_network.xml and camkii_simple.xml into `out_dir`; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    texts = {
        "spine_network.xml": spine_network_sbml(source_dir / DATA_DIR.name),
        "camkii_simple.xml": antimony_sbml(source_dir / "camkii_simple.ant", CAMKII_SIMPLE_HINTS),
    }
    written = []
    for name, text in texts.items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PACKAGE_DIR, help="output directory")
    args = parser.parse_args(argv)
    for path in generate(args.out):
        print(path)


if __name__ == "__main__":
    main()
