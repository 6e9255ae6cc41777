"""Simulator adapters (installed as `timescales.adapters`); importing this imports no simulator."""
