import numpy as np
import pytest

from fclib.stats import fits
from naive import relu_grid, two_lines_lstsq, wsse


def _noisy_relu(rng, slope, theta, K=40, base=0.0):
    x = np.arange(K, dtype=float)
    n = rng.integers(20, 2000, K).astype(float)
    p = np.clip(base + fits.relu(x, slope, theta), 0, 1)
    return x, rng.binomial(n.astype(int), p) / n, n


def test_relu_exact_on_clean_data():
    x = np.arange(30.0)
    for slope, theta in [(0.05, 10.0), (0.02, 3.5), (0.01, -4.0), (0.1, 25.25)]:
        y = fits.relu(x, slope, theta)
        r = fits.fit_relu(x, y, np.ones_like(x))
        assert r["slope"][0] == pytest.approx(slope, rel=1e-9)
        # the threshold is identified up to the gap between points left of the rise
        if theta >= 0:
            assert r["threshold"][0] == pytest.approx(theta, abs=1e-9)
        assert r["r2"][0] == pytest.approx(1.0)
        assert r["nrmse"][0] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_relu_matches_fine_grid_search(seed):
    rng = np.random.default_rng(seed)
    x, y, w = _noisy_relu(rng, rng.uniform(0.005, 0.05), rng.uniform(-5, 30), base=0.01 * seed)
    w[rng.random(w.size) < 0.2] = 0  # some points left out
    r = fits.fit_relu(x, y, w)
    sse_fast = wsse(y, w, fits.relu(x, r["slope"][0], r["threshold"][0]))
    sse_grid, s_g, th_g = relu_grid(x, y, w, np.arange(-40, 40, 0.01))
    assert sse_fast <= sse_grid + 1e-9  # exact optimum is never worse than the grid
    assert sse_fast == pytest.approx(sse_grid, rel=1e-3)
    assert r["slope"][0] == pytest.approx(s_g, rel=1e-2)
    ybar = np.sum(w * y) / np.sum(w)
    assert r["r2"][0] == pytest.approx(1 - sse_fast / np.sum(w * (y - ybar) ** 2))
    used = y[w > 0]
    assert r["nrmse"][0] == pytest.approx(np.sqrt(sse_fast / w.sum()) / np.ptp(used))


def test_relu_flat_and_sparse_rows():
    x = np.arange(10.0)
    y = np.vstack([np.full(10, 0.3), 0.5 - 0.04 * x, np.zeros(10), np.zeros(10)])
    w = np.ones_like(y)
    w[2, 2:] = 0  # two points only
    r = fits.fit_relu(x, y, w)
    assert r["slope"][3] == 0 and np.isnan(r["threshold"][3])  # silent: no rise at all
    assert np.isnan(r["r2"][0])  # constant response: R^2 undefined
    assert r["r2"][1] < 0  # a falling response is worse described than by its mean
    assert r["n_points"][2] == 2 and np.isnan(r["slope"][2])


def test_two_lines_matches_lstsq_on_same_breakpoints():
    rng = np.random.default_rng(3)
    for _ in range(5):
        x = np.arange(35.0)
        w = rng.integers(0, 400, x.size).astype(float)
        y = fits.two_lines(x, 0.02, 0.001, rng.uniform(0.01, 0.05), rng.uniform(5, 25))
        y = np.clip(y + rng.normal(0, 0.01, x.size), 0, 1)
        h = fits.fit_two_lines(x, y, w, n_sub=4)
        pts = x[w > 0][1:-1]
        kaps = np.concatenate([pts[i] + (pts[i + 1] - pts[i]) * np.arange(4) / 4
                               for i in range(pts.size - 1)] + [pts[-1:]])
        e, beta, kap = two_lines_lstsq(x, y, w, kaps)
        assert h["intersection"][0] == pytest.approx(kap)
        assert [h["intercept"][0], h["slope_weak"][0], h["slope_strong"][0] - h["slope_weak"][0]] \
            == pytest.approx(beta, rel=1e-6, abs=1e-9)
        yhat = fits.two_lines(x, h["intercept"][0], h["slope_weak"][0], h["slope_strong"][0],
                              h["intersection"][0])
        assert wsse(y, w, yhat) == pytest.approx(e, rel=1e-6, abs=1e-12)


def test_two_lines_recovers_planted_break():
    x = np.arange(50.0)
    y = fits.two_lines(x, 0.01, 0.0005, 0.03, 17.0)
    h = fits.fit_two_lines(x, y, np.ones_like(x))
    assert h["intersection"][0] == pytest.approx(17.0)
    assert h["slope_strong"][0] == pytest.approx(0.03)
    assert h["r2"][0] == pytest.approx(1.0)


def test_power_law():
    n = np.array([10, 20, 40, 80, 160.0])
    r = fits.fit_power_law(n, 3 * n ** -0.7)
    assert r["beta"] == pytest.approx(0.7) and r["log10_a"] == pytest.approx(np.log10(3))
    assert r["n"] == 5 and r["r"] == pytest.approx(-1)
    assert np.isnan(fits.fit_power_law([1, 2], [1, 1])["beta"])


@pytest.mark.parametrize("x, y, w, msg", [
    (np.arange(3.0)[::-1], np.zeros(3), np.ones(3), "increasing"),
    (np.arange(3.0), np.zeros(4), np.ones(4), "one value per column"),
    (np.arange(3.0), np.zeros(3), -np.ones(3), "non-negative"),
])
def test_bad_input(x, y, w, msg):
    with pytest.raises(ValueError, match=msg):
        fits.fit_relu(x, y, w)


def test_two_lines_needs_a_steeper_second_line():
    x = np.arange(31.0)
    y = np.clip((x - 10) / 20, 0, 1)
    h = fits.fit_two_lines(x, y, np.ones_like(x))
    assert h["intersection"][0] == pytest.approx(10) and h["slope_strong"][0] == pytest.approx(0.05)
    falling = fits.fit_two_lines(x, 1 - y, np.ones_like(x))
    assert np.isnan(falling["intersection"][0])  # no steeper second line exists
