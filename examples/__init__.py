"""Example experiment files, installed as `timescales.examples` so `timescales demo` finds them."""
