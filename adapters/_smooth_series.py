"""The continuous flux a RoadRunner instance gets for an input series, piece by piece.

A series gives each piece's mean flux. Delivered as steps, every piece boundary is a
discontinuity at which CVODE must start again (order 1, a new Jacobian and LU); on the
spine network that is most of what a window costs. Here the flux is instead the derivative
of the monotone cubic (PCHIP) interpolant of the cumulative amount at the piece
boundaries: continuous, a quadratic on each piece, with each piece's amount exactly
`value * dt`, and of the sign of its piece's mean wherever neighbouring means agree in sign.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import PchipInterpolator


def flux_pieces(values: np.ndarray, dt: float) -> np.ndarray:
    """Rows (a, b, c): the flux on piece i is a[i] + b[i]*s + c[i]*s**2, s in [0, dt) the
    time into the piece (the unit of `dt`), `values` the pieces' means."""
    values = np.asarray(values, dtype=float)
    if len(values) == 1:
        return np.array([values, [0.0], [0.0]])
    knots = dt * np.arange(len(values) + 1)
    amount = np.concatenate([[0.0], np.cumsum(values * dt)])
    cubic = PchipInterpolator(knots, amount).c
    return np.vstack([cubic[2], 2.0 * cubic[1], 3.0 * cubic[0]])
