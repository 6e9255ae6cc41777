"""Test helpers shipped for adapter authors: analytic fake adapters and the contract tests."""

from .fake import LinearODE, QueuedLinearODE, StepSource

__all__ = ["LinearODE", "QueuedLinearODE", "StepSource"]
