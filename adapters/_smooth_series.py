"""The continuous flux a RoadRunner instance gets for an input series, piece by piece.

A series gives each piece's mean flux. Delivered as steps, every piece boundary is a
discontinuity at which CVODE must start again (order 1, a new Jacobian and LU); on the
spine network that is most of what a window costs. Here the flux is instead the derivative
of the monotone cubic interpolant (Fritsch-Carlson, as scipy's PchipInterpolator) of the
cumulative amount at the piece boundaries: continuous, a quadratic on each piece, each
piece's amount exactly `mean * dt`, and of its piece's sign wherever the neighbouring
means agree in sign. Written out here, not taken from scipy, whose import costs each
worker process 50 MB.
"""

from __future__ import annotations

import numpy as np


def _knot_slopes(means: np.ndarray) -> np.ndarray:
    """The interpolant's slope (a flux) at each of the len(means) + 1 piece boundaries."""
    if len(means) == 1:
        return np.array([means[0], means[0]])
    left, right = means[:-1], means[1:]
    same_sign = np.sign(left) * np.sign(right) > 0
    total = np.where(same_sign, left + right, 1.0)
    inner = np.where(same_sign, 2.0 * left * right / total, 0.0)
    return np.concatenate(
        [[_end_slope(means[0], means[1])], inner, [_end_slope(means[-1], means[-2])]]
    )


def _end_slope(outer: float, next_: float) -> float:
    """The slope at an end from its piece's mean and the next one's, kept monotone."""
    slope = (3.0 * outer - next_) / 2.0
    if np.sign(slope) != np.sign(outer):
        return 0.0
    if np.sign(outer) != np.sign(next_) and abs(slope) > 3.0 * abs(outer):
        return 3.0 * outer
    return slope


def flux_pieces(values: np.ndarray, dt: float) -> np.ndarray:
    """Rows (a, b, c): the flux on piece i is a[i] + b[i]*s + c[i]*s**2, s in [0, dt) the
    time into the piece (the unit of `dt`), `values` the pieces' means."""
    means = np.asarray(values, dtype=float)
    slopes = _knot_slopes(means)
    start, end = slopes[:-1], slopes[1:]
    return np.vstack(
        [
            start,
            (6.0 * means - 4.0 * start - 2.0 * end) / dt,
            (3.0 * (start + end) - 6.0 * means) / dt**2,
        ]
    )
