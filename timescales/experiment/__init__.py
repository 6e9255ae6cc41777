"""Experiment files: one TOML file describes a run; it is validated completely before use."""

from .load import load_experiment, parse_experiment, validate_file
from .problems import ExperimentError, Problem
from .schema import BUNDLED_MODELS
from .spec import ExperimentSpec

__all__ = [
    "BUNDLED_MODELS",
    "ExperimentError",
    "ExperimentSpec",
    "Problem",
    "load_experiment",
    "parse_experiment",
    "validate_file",
]
