"""The continuous flux of an input series: each piece's amount, and scipy's PCHIP as reference."""

from __future__ import annotations

import numpy as np
import pytest

from timescales.adapters._smooth_series import flux_pieces

interpolate = pytest.importorskip("scipy.interpolate", reason="scipy (the test extra) is absent")

DT = 0.37
SERIES = {
    "one piece": np.array([2.5]),
    "two pieces": np.array([1.0, 4.0]),
    "rise and decay": np.array([0.0, 5.0, 9.0, 4.0, 1.0, -2.0, -3.0, -1.5, 0.0]),
    "zeros and sign changes": np.array([0.0, 0.0, 3.0, -1.0, 2.0, 0.0, 7.0, 7.0, -7.0]),
    "noise": np.random.default_rng(3).normal(size=40),
}


@pytest.mark.parametrize("values", SERIES.values(), ids=SERIES.keys())
def test_each_piece_delivers_its_amount(values: np.ndarray) -> None:
    a, b, c = flux_pieces(values, DT)
    np.testing.assert_allclose(
        a * DT + b * DT**2 / 2 + c * DT**3 / 3, values * DT, rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("values", SERIES.values(), ids=SERIES.keys())
def test_the_flux_is_the_derivative_of_scipys_pchip_of_the_amount(values: np.ndarray) -> None:
    ours = flux_pieces(values, DT)
    if len(values) == 1:
        np.testing.assert_array_equal(ours, [[2.5], [0.0], [0.0]])
        return
    knots = DT * np.arange(len(values) + 1)
    cubic = interpolate.PchipInterpolator(knots, np.concatenate([[0.0], np.cumsum(values * DT)])).c
    np.testing.assert_allclose(ours, [cubic[2], 2 * cubic[1], 3 * cubic[0]], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("values", SERIES.values(), ids=SERIES.keys())
def test_the_flux_is_continuous_and_keeps_each_pieces_sign(values: np.ndarray) -> None:
    a, b, c = flux_pieces(values, DT)
    at_end = a + b * DT + c * DT**2
    np.testing.assert_allclose(at_end[:-1], a[1:], rtol=1e-12, atol=1e-12)
    s = np.linspace(0.0, DT, 50)[:, None]
    flux = a + b * s + c * s**2
    rising, falling = values > 0, values < 0
    assert np.all(flux[:, rising] >= -1e-12)
    assert np.all(flux[:, falling] <= 1e-12)
