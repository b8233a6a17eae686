"""The interactive figures (fclib.figures.interactive) on small recordings made as the
pipeline makes its artefacts: controls match the layer pairs and neurons, the drawn values
are the chapters' objects, and the HTML is self-contained and small."""
import re

import numpy as np
import pytest
import xarray as xr

from fclib.figures import interactive as fi
from fclib.stats import response as fr
from fclib.stats.connectivity import degree, pair_significance
from fclib.stats.groups import one_fc_groups
from fclib.stats.information import information

T = 4


def _layers(seed, n_src=40, n_tgt=30, n_img=50, reps=10):
    """Sources driven by images; targets firing with the co-firing of random source groups."""
    rng = np.random.default_rng(seed)
    L = n_img * reps * T
    image = np.repeat(np.tile(np.arange(n_img), reps), T)
    drive = rng.random((n_src, n_img))
    src = (rng.random((n_src, L)) < 0.3 * drive[:, image]).astype(np.uint8)
    k = np.stack([src[rng.choice(n_src, 6 + i % 10, replace=False)].sum(0, dtype=float)
                  for i in range(n_tgt)])
    tgt = (rng.random((n_tgt, L)) < np.clip(0.2 * (k - 2), 0, 1)).astype(np.uint8)
    frames = {"image": ("frame", image), "presentation": ("frame", np.arange(L) // T),
              "step": ("frame", np.arange(L) % T), "label": ("frame", image % 10)}

    def layer(x, name):
        return xr.DataArray(x, dims=("neuron", "frame"), name=name,
                            coords={**frames, "neuron": np.arange(x.shape[0]),
                                    "silent": ("neuron", x.sum(1) == 0)}, attrs={"layer": name})
    return layer(src, f"L{seed}"), layer(tgt, f"L{seed + 1}")


def _run_like():
    """What a chapter holds: r.pairs, r.response and r.information of two layer pairs."""
    pairs, responses, preferred = {}, {}, {}
    for seed in (1, 2):
        s, t = _layers(seed)
        name = f"{s.name}→{t.name}"
        ds = pair_significance(s, t)
        pairs[name] = ds
        groups = one_fc_groups(ds, 4.0)
        cb = fr.batch_response_counts(s, t, groups, n_batches=2, rng=seed)
        res = fr.response_dataset(cb, t, T, min_frames=3, saturation=0.95, r2_min=0.3)
        res.attrs.update(min_frames=3)
        responses[name] = fr.select_fits(res, 0.3)
        preferred[name] = information(t, T, n_shuffles=0)["preferred"]
    return pairs, responses, preferred


@pytest.fixture(scope="module")
def run_like():
    return _run_like()


def test_response_controls_and_drawn_values(run_like):
    _, responses, preferred = run_like
    names = [str(i) for i in range(10)]
    fig = fi.fig_explore_response(responses, preferred, class_names=names, n_neurons=7, rng=0)
    assert len(fig.data) == 3
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == list(responses)
    for b, (pair, ds) in zip(buttons, responses.items()):
        steps = b.args[1]["sliders"][0]["steps"]
        fitted = np.isfinite(ds["relu_r2"].values).sum()
        assert len(steps) == min(7, fitted)
        ids = [int(s["label"].split()[0]) for s in steps]
        assert len(set(ids)) == len(ids)
        assert np.all(np.diff(ds["degree"].sel(neuron=ids).values) >= 0)  # by group size
        p = fr.response_curve(ds, 3)
        for s, n in zip(steps, ids):
            data, layout, traces = s["args"]
            assert traces == [0, 1, 2]
            curve = p.sel(neuron=n)
            seen = np.isfinite(curve.values)
            # points on the grid x0, x0 + 1, ...: nulls where fewer than min_frames frames
            assert data["x"][0] is None
            y = np.array(data["y"][0], dtype=float)
            x = data["x0"][0] + np.arange(y.size)
            np.testing.assert_array_equal(x[np.isfinite(y)], ds["cofiring"].values[seen])
            np.testing.assert_allclose(y[np.isfinite(y)], curve.values[seen], atol=5e-4)
            size = np.array(data["marker.size"][0])
            assert np.all(size[np.isfinite(y)] >= 5) and size.shape == y.shape
            # the ReLU line is the fit's: slope * max(0, k - threshold)
            row = ds.sel(neuron=n)
            fx, fy = np.array(data["x"][1]), np.array(data["y"][1])
            relu = float(row["relu_slope"]) * np.maximum(0, fx - float(row["relu_threshold"]))
            np.testing.assert_allclose(fy, relu, atol=1e-3)
            onset = float(row["intersection"])
            assert data["x"][2] == ([] if not np.isfinite(onset) else [round(onset, 4)] * 2)
            if np.isfinite(onset):  # from 0 to the top of the drawn data
                assert data["y"][2][0] == 0
                assert data["y"][2][1] >= max(np.nanmax(y), fy.max(initial=0)) - 1e-3
            title = layout["annotations[0].text"]
            assert f"target neuron {n}" in title
            assert f"group size N = {int(row['degree'])}" in title
            assert f"preferred class: {names[int(preferred[pair].sel(neuron=n))]}" in title
        # the sample size is stated under the pair's title
        head = b.args[1]["title.text"]
        assert (f"{len(steps)} of its {fitted} target neurons with a ReLU fit, sampled at "
                "random" in head if len(steps) < fitted
                else f"all {fitted} target neurons with a ReLU fit" in head)
        assert b.args[1]["title.text"].startswith(f"<b>{pair}</b>")
        assert "seen in ≥ 3 frames" in b.args[0]["name"][0]
    # the figure opens on the first pair's first step
    first = buttons[0].args[1]["sliders"][0]["steps"][0]["args"]
    assert list(fig.data[0].y) == first[0]["y"][0] and fig.data[0].x0 == first[0]["x0"][0]
    assert fig.layout.annotations[0].text == first[1]["annotations[0].text"]
    assert fig.layout.sliders[0].to_plotly_json() == buttons[0].args[1]["sliders"][0]


def test_response_sample_is_seeded_and_bounded(run_like):
    _, responses, _ = run_like
    ids = lambda fig: [s.label for s in fig.layout.sliders[0].steps]  # noqa: E731
    a = fi.fig_explore_response(responses, n_neurons=5, rng=3)
    assert ids(a) == ids(fi.fig_explore_response(responses, n_neurons=5, rng=3))
    assert len(ids(a)) == 5
    assert "preferred class" not in a.layout.title.text


def test_response_rejects_what_is_not_a_response(run_like):
    pairs, responses, _ = run_like
    with pytest.raises(ValueError, match="lacks"):
        fi.fig_explore_response({"a": responses[next(iter(responses))].drop_vars("intersection")})
    with pytest.raises(ValueError, match="empty"):
        fi.fig_explore_response({})
    with pytest.raises(ValueError, match="needs sttc and z"):
        fi.fig_explore_connectivity({"a": pairs[next(iter(pairs))][["sttc"]]})


def test_connectivity_traces_buttons_and_counts(run_like):
    pairs, _, _ = run_like
    fig = fi.fig_explore_connectivity(pairs, threshold=4.0, n_bins=20)
    n = len(pairs)
    assert len(fig.data) == 3 * n
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == list(pairs)
    finite = [np.isfinite(ds["sttc"].values) & np.isfinite(ds["z"].values)
              for ds in pairs.values()]
    z_all = np.concatenate([ds["z"].values[f] for ds, f in zip(pairs.values(), finite)])
    sttc_all = np.concatenate([ds["sttc"].values[f] for ds, f in zip(pairs.values(), finite)])
    for i, (b, (k, ds)) in enumerate(zip(buttons, pairs.items())):
        assert b.args[0]["visible"] == [j // 3 == i for j in range(3 * n)]
        sttc_bar, z_bar, deg_bar = fig.data[3 * i: 3 * i + 3]
        s, z = ds["sttc"].values.ravel(), ds["z"].values.ravel()
        ok = np.isfinite(s) & np.isfinite(z)
        assert sum(sttc_bar.y) == sum(z_bar.y) == ok.sum()
        deg = degree(ds["z"], ds["sttc"], 4.0).values
        assert sum(deg_bar.y) == deg.size
        # each integer degree in its bin: the counts are the histogram of the degrees
        d_edges = np.append(np.array(deg_bar.x) - np.array(deg_bar.width) / 2,
                            deg_bar.x[-1] + deg_bar.width[-1] / 2)
        np.testing.assert_array_equal(deg_bar.y, np.histogram(deg, d_edges)[0])
        # z and STTC: the same edges for every layer pair, spanning all pairs' values
        for bar, pooled in ((z_bar, z_all), (sttc_bar, sttc_all)):
            edges = np.append(np.array(bar.x) - np.array(bar.width) / 2,
                              bar.x[-1] + bar.width[-1] / 2)
            exact = np.linspace(pooled.min(), pooled.max(), 21)
            np.testing.assert_allclose(edges, exact, atol=1e-5)
        np.testing.assert_array_equal(z_bar.y, np.histogram(z[ok], np.linspace(
            z_all.min(), z_all.max(), 21))[0])
    assert [tr.visible for tr in fig.data] == [j < 3 for j in range(3 * n)]
    assert any(s.x0 == 4.0 == s.x1 for s in fig.layout.shapes)  # the threshold line
    # degrees passed in are drawn as they are
    given = {k: np.arange(5) for k in pairs}
    fig = fi.fig_explore_connectivity(pairs, 4.0, given, n_bins=20)
    assert sum(fig.data[2].y) == 5


SCRIPT_SRC = re.compile(r"<script[^>]*\bsrc\s*=", re.I)


def test_html_is_self_contained_and_small(run_like):
    """plotly.js is embedded once, no script is loaded from anywhere, and the figure's own
    data stay small: under 600 bytes per sampled neuron plus 16 per drawn point, and 20 kB
    per layer pair of the connectivity figure."""
    pairs, responses, preferred = run_like
    fig_r = fi.fig_explore_response(responses, preferred, n_neurons=20, rng=0)
    fig_c = fi.fig_explore_connectivity(pairs, 4.0)
    with_js = fi.to_html(fig_r, div_id="explore-response")
    without = fi.to_html(fig_c, include_plotlyjs=False, div_id="explore-connectivity")
    assert not SCRIPT_SRC.search(with_js) and not SCRIPT_SRC.search(without)
    assert "window.Plotly" in with_js and "window.Plotly = Plotly" not in without
    assert with_js.count("window.Plotly = Plotly") == 1
    assert 'id="explore-response"' in with_js and 'id="explore-connectivity"' in without
    js = len(with_js) - len(fi.to_html(fig_r, include_plotlyjs=False, div_id="explore-response"))
    assert 3e6 < js < 6e6  # the bundled plotly.js, inline
    steps = [s for b in fig_r.layout.updatemenus[0].buttons
             for s in b.args[1]["sliders"][0]["steps"]]
    n_points = sum(len(s["args"][0]["y"][0]) for s in steps)
    assert len(with_js) - js < 20_000 + 800 * len(steps) + 16 * n_points
    assert len(without) < 20_000 * len(pairs)
    with pytest.raises(ValueError, match="never loaded from a URL"):
        fi.to_html(fig_c, include_plotlyjs="cdn")
    out = fi.embed(fig_c, include_plotlyjs=False, div_id="explore-connectivity")
    assert out.data == without


_CLICK = """
<pre id="result">pending</pre>
<script>
(async function () {
  const out = {};
  try {
    const gd = document.getElementById("explore-response");
    out.steps_before = gd._fullLayout.sliders[0].steps.length;
    const b = gd.layout.updatemenus[0].buttons[1];  // what choosing the second pair runs
    await Plotly.update(gd, b.args[0], b.args[1], b.args[2]);
    out.title = gd._fullLayout.title.text;
    out.steps_after = gd._fullLayout.sliders[0].steps.length;
    const st = gd.layout.sliders[0].steps[1];  // what moving the slider one step runs
    await Plotly.update(gd, st.args[0], st.args[1], st.args[2]);
    out.y = Array.from(gd.data[0].y);
    out.expected_y = st.args[0].y[0];
    out.box = gd._fullLayout.annotations[0].text;
    out.expected_box = st.args[1]["annotations[0].text"];
    out.points = document.querySelectorAll(
      "#explore-response .scatterlayer .trace:first-child .point").length;
    const gc = document.getElementById("explore-connectivity");
    const bc = gc.layout.updatemenus[0].buttons[1];
    await Plotly.update(gc, bc.args[0], bc.args[1]);
    out.visible = gc._fullData.map(t => t.visible === true);
  } catch (e) { out.error = String(e); }
  document.getElementById("result").textContent = JSON.stringify(out);
})();
</script>
"""


@pytest.mark.slow
def test_controls_work_offline_in_a_browser(run_like, tmp_path):
    """Both figures on one page in headless Chromium with no network: choosing a layer pair
    swaps in its neuron slider, a slider step draws its neuron, the connectivity dropdown
    shows the chosen pair's traces."""
    import json
    import shutil
    import subprocess

    exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("chromium is not installed (Debian package `chromium`)")
    pairs, responses, preferred = run_like
    fig = fi.fig_explore_response(responses, preferred, n_neurons=6)
    page = tmp_path / "page.html"
    page.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
                    + fi.to_html(fig, div_id="explore-response")
                    + fi.to_html(fi.fig_explore_connectivity(pairs), include_plotlyjs=False,
                                 div_id="explore-connectivity")
                    + _CLICK + "</body></html>", encoding="utf8")
    proc = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--disable-background-networking", "--disable-extensions",
                           f"--user-data-dir={tmp_path / 'profile'}",
                           "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=20000",
                           "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=180)
    found = re.search(r'<pre id="result">([^<]*)</pre>', proc.stdout)
    assert found, f"chromium gave no result (exit {proc.returncode}): {proc.stderr[-2000:]}"
    out = json.loads(found.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
                     .replace("&quot;", '"'))
    assert "error" not in out, out.get("error")
    assert out["steps_before"] == out["steps_after"] == 6
    assert out["title"] == fig.layout.updatemenus[0].buttons[1].args[1]["title.text"]
    assert out["title"] != fig.layout.title.text
    assert out["y"] == out["expected_y"]
    assert out["points"] == sum(v is not None for v in out["y"])
    # the step moved was the second pair's: its slider was swapped in
    step = fig.layout.updatemenus[0].buttons[1].args[1]["sliders"][0]["steps"][1]["args"]
    assert out["y"] == step[0]["y"][0] and out["box"] == step[1]["annotations[0].text"]
    assert out["box"] != fig.layout.sliders[0].steps[1].args[1]["annotations[0].text"]
    assert out["box"] == out["expected_box"]
    assert out["visible"] == [j // 3 == 1 for j in range(3 * len(pairs))]


def test_response_marks_the_papers_selection(run_like):
    _, responses, _ = run_like
    r2 = next(iter(responses.values()))["relu_r2"]
    cut = float(r2.median())  # half the neurons selected
    ds = fr.select_fits(next(iter(responses.values())), cut)
    fig = fi.fig_explore_response({"a": ds}, n_neurons=30)
    seen = set()
    for step in fig.layout.sliders[0].steps:
        n = int(step.label.split()[0])
        box = step.args[1]["annotations[0].text"]
        chosen = bool(ds["selected"].sel(neuron=n))
        assert (f" (selected, R² > {cut:g})" in box) == chosen
        assert (f"not selected: needs R² > {cut:g}" in box) == (not chosen)
        seen.add(chosen)
    assert seen == {True, False}
