"""Test helpers shipped for adapter authors: analytic fake adapters and the contract tests."""

from .fake import LinearODE, StepSource

__all__ = ["LinearODE", "StepSource"]
