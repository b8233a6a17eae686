"""Every public figure of fclib.figures, drawn on small synthetic input, fits the book's
content column and is legible there: the PNG the notebook saves (``bbox_inches="tight"``)
is at most ``COLUMN_PX`` wide, so the browser shows it at its drawn size; no text is smaller
than ``MIN_FONT_PT``; legends cover no data; tick labels do not run together; no axes is left
empty without a sentence saying why. For the key figures the drawn data equal the input.

The list of cases is checked against the modules' ``__all__``: a new figure function without
a case here fails ``test_every_figure_function_has_a_case``.
"""
import importlib
import io
import pkgutil
import struct

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.collections import PathCollection, PolyCollection  # noqa: E402
from matplotlib.container import BarContainer  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import fclib.figures as ff  # noqa: E402
from fclib.figures import _common  # noqa: E402
import test_figures_late as late  # noqa: E402

# Public names of fclib.figures that are not figure functions, and why.
NOT_FIGURES = {
    "book_style": "the style itself", "styled": "a decorator", "column_figsize": "a helper",
    "panel_grid": "a helper", "series_styles": "a helper", "legend_beside": "a helper",
    "legend_above": "a helper", "figure_legend": "a helper", "no_data": "a helper",
    "box_ylim": "a helper", "wrap_labels": "a helper", "axes_note": "a helper",
    "figure_note": "a helper", "bulk_range": "a helper",
    "no_data_figure": "a helper (the figure of a function with nothing to show)",
    "COLUMN_PX": "a constant",
    "DPI": "a constant", "WIDTH_IN": "a constant", "MIN_FONT_PT": "a constant",
    "OKABE_ITO": "a constant", "mango_table1": "returns a table (pandas), not a figure",
}
# Modules of fclib.figures whose figures are not matplotlib's (Plotly, written elsewhere).
OTHER_MODULES = {"interactive"}

rng = np.random.default_rng(0)
PAIRS = late.PAIRS


# --------------------------------------------------------------------------- inputs
def _responses():
    from test_connectivity import _responses as make

    return {"L1→L2": make(0), "L2→L3": make(1, name=("L2", "L3"))}


_CACHE = {}


def _res():
    if "res" not in _CACHE:
        from fclib.stats.response import property_table

        res = _responses()
        _CACHE["res"] = (res, property_table(res))
    return _CACHE["res"]


def _examples():
    from fclib.stats.response import example_neuron

    res, _ = _res()
    return {k: (ds, example_neuron(ds)) for k, ds in res.items()}


def _emergence_table():
    from fclib.stats.emergence import emergence_table

    tabs, acc = {}, {}
    for net, epochs in (("trained", [0, 1, 3, 10, 20]), ("rate-matched", [None])):
        for e in epochs:
            rows = [(u, q, float(rng.random())) for u in ("L1", "L2", "L1→L2")
                    for q in ("significant fraction", "median MI")]
            tabs[(net, e)] = pd.DataFrame(rows, columns=["layer pair", "quantity", "value"])
            acc[(net, e)] = 0.1 if e in (0, None) else 0.2 + 0.03 * e
    return emergence_table(tabs, acc)


def _sampling_ratios():
    from fclib.stats.sampling import sampling_ratios

    rows = []
    for pair in ("L1→L2", "L2→L3"):
        for how in ("random", "patch"):
            for f in (0.25, 0.5, 1.0):
                rows.append({"layer pair": pair, "how": how, "fraction": f, "recorded": f,
                             "significant": 0.1 + 0.1 * rng.random(),
                             "mean_degree": 10 * f + rng.random(),
                             "relu_slope": 0.1 / f, "onset_fraction": 0.3 + 0.01 * rng.random()})
    return sampling_ratios(pd.DataFrame(rows))


def _verdicts():
    from fclib.pipeline.scale import comparison_table

    q = {"sig_circular": 0.05, "sig_permuted": 0.01}
    return comparison_table({"default": q, "paper": None})


def _ttfs_times():
    out = {}
    for name in ("untrained", "trained"):
        out[name] = {layer: rng.uniform(0, 5, (3, n)) for layer, n in
                     (("input", 16), ("H1", 8), ("H2", 8), ("output", 4))}
    return out


def _ttfs_ig():
    layers = ["H1", "H2"]
    n = 12
    return pd.DataFrame({"layer": pd.Categorical(np.repeat(layers, 2 * n), categories=layers),
                         "type": np.tile(np.repeat(["E", "I"], n), 2),
                         "ig": rng.random(4 * n), "ig_null": 0.2 * rng.random(4 * n)})


def _ttfs_spread():
    rows = [{"spikes": k, "network": net, "layer": layer, "iqr": rng.random()}
            for k in ("all", "before decision", "window") for net in ("untrained", "trained")
            for layer in ("input", "H1", "H2", "output")]
    return pd.DataFrame(rows)


def _ttfs_pathways():
    rows = [{"network": net, "layer": layer, "preferred = class": rng.random(),
             "P(active|class) − P(active|other)": rng.random(), "Jaccard": rng.random(),
             "chance": 0.1} for net in ("untrained", "trained") for layer in ("H1", "H2")]
    return pd.DataFrame(rows)


def _mango_sel():
    layers = [f"L{i}" for i in range(1, 7)]
    rows = [{"layer": layer, "epoch": e, "channel": c, "entropy": rng.random(),
             "strong": rng.random() > 0.5, "selective": rng.random() > 0.7,
             "activation": rng.random()}
            for layer in layers for e in (1, 5, 10) for c in range(4)]
    return pd.DataFrame(rows)


def _mango_labelled():
    n = 6
    per = pd.DataFrame({"label": np.tile([True, False], n // 2), "pair": np.repeat(np.arange(n // 2), 2),
                        "activation": rng.random(n), "evaluations": rng.integers(10, 100, n)})
    return {"selective vs not": (per, ("selective", "not selective")),
            "hub vs not": (per.copy(), ("hub", "not hub"))}


def _mei_table(n_layers=3, n_units=3):
    rows = [{"layer": f"L{i}", "channel": c, "method": m, "activation": rng.random(),
             "class": int(rng.integers(0, 10)), "probability": rng.random()}
            for i in range(1, n_layers + 1) for c in range(n_units) for m in ("PROTES", "random")]
    return pd.DataFrame(rows)


def _own_spikes():
    T, n_trials, n = 10, 6, 20
    x = rng.random((n, T * n_trials)) < 0.2
    da = xr.DataArray(x, dims=("neuron", "frame"),
                      coords={"stimulus": ("frame", np.repeat(np.arange(n_trials) % 3, T))})
    da.attrs.update(T=T, bin_size=0.01)
    return da


def _planted():
    n = 12
    truth = np.full((n, n), "other", dtype=object)
    truth[:3, 3:6] = "planted"
    truth[6:9, 9:12] = "shared tuning"
    np.fill_diagonal(truth, "")
    truth = xr.DataArray(truth.astype(str), dims=("target", "source"))
    z = rng.normal(size=(n, n)) + 6 * (truth.values == "planted")
    pairs = {name: xr.Dataset({"z": (("target", "source"), z + 0.1 * i)})
             for i, name in enumerate(("circular", "stimulus"))}
    return pairs, truth


def _own_counts():
    from fclib.stats import response as fr
    from fclib.stats.connectivity import pair_significance
    from fclib.stats.groups import one_fc_groups

    x = xr.DataArray((rng.random((8, 400)) < 0.3).astype(np.uint8), dims=("neuron", "frame"),
                     coords={"neuron": np.arange(8)})
    x[1] = x[0]
    groups = one_fc_groups(pair_significance(x, x, "exact"), 3.0)
    return fr.response_counts(fr.cofiring(x, groups), x)


def _ensemble_results():
    out = {}
    for v in ("circular", "circular_cv", "stimulus_cv", "tuning", "random"):
        n = 40
        out[v] = [xr.Dataset({"degree": ("neuron", rng.integers(0, 9, n)),
                              "relu_r2": ("neuron", rng.normal(-0.9 if v == "random" else 0.5, 0.6, n)),
                              "strong_fraction": ("neuron", rng.random(n)),
                              "preferred_when_strong": ("neuron", rng.random(n)),
                              "selected": ("neuron", rng.random(n) > 0.4)})]
    return out


def _early_cases():
    from fclib.stats import response_tables as frt

    res, table = _res()
    sel = table[table["selected"]]
    examples = _examples()
    history = [{"epoch": e, "loss": 1 / (e + 1), "test_loss": 1.1 / (e + 1),
                "train_accuracy": 0.5 + e / 10, "test_accuracy": 0.4 + e / 10} for e in range(3)]
    layers = [f"L{i}" for i in range(1, 17)]
    summary = pd.DataFrame({"mean_rate": rng.random(16), "silent_fraction": 0.3 * rng.random(16)},
                           index=pd.Index(layers, name="layer"))
    rates = {k: rng.exponential(0.3, 40) for k in layers}
    sample = {n: xr.DataArray(rng.random((3, 16)) < 0.3, dims=("neuron", "frame")) for n in ("L1", "L2")}
    obs = {k: rng.normal(size=200) for k in PAIRS}
    st_summary = pd.DataFrame({"frac_pos": rng.random(16) / 5, "frac_neg": rng.random(16) / 50},
                              index=[f"L{i}→L{i + 1}" for i in range(16)])
    edges = pd.DataFrame({"layer pair": np.repeat(PAIRS, 20),
                          "kind": np.tile(["structural", "non-structural"], 30),
                          "sttc": rng.random(60)})
    st = pd.DataFrame({"structural degree / receptive field": rng.random(3),
                       "non-structural degree / rest": rng.random(3) / 5}, index=PAIRS)
    laws = frt.power_laws(sel, list(res))
    _, diffs = frt.batch_robustness(res, min_frames=3, rng=0)
    return {
        "fig_training_curve": lambda: ff.fig_training_curve(history),
        "fig_a1_firing_rates": lambda: ff.fig_a1_firing_rates(summary, rates, 0.02),
        "fig_raster": lambda: ff.fig_raster(sample, 4, labels=list("abcd")),
        "fig_presentations": lambda: ff.fig_presentations(rng.random((10, 1, 8, 8)), titles=list(range(10))),
        "fig_1a_sttc_distributions": lambda: ff.fig_1a_sttc_distributions(obs, obs),
        "fig_1i_significant_pairs": lambda: ff.fig_1i_significant_pairs(st_summary, 4.0),
        "fig_degree_distributions": lambda: ff.fig_degree_distributions(
            {f"L{i}→L{i + 1}": rng.integers(0, 30, 50) for i in range(8)}, threshold=4.0),
        "fig_null_agreement": lambda: ff.fig_null_agreement(rng.normal(size=300), rng.normal(size=300), 4.0),
        "fig_false_positive_rates": lambda: ff.fig_false_positive_rates(
            {"exact": rng.normal(size=500), "150 shifts": rng.normal(size=500),
             "stimulus": rng.normal(size=500)}, alpha=0.01,
            thresholds={"exact": 2.3, "150 shifts": 2.4}),
        "fig_a7_structural_edges": lambda: ff.fig_a7_structural_edges(edges, st),
        "fig_response_functions": lambda: ff.fig_response_functions(examples),
        "fig_2a_relu_examples": lambda: ff.fig_2a_relu_examples(examples, min_frames=3),
        "fig_2m_two_line_examples": lambda: ff.fig_2m_two_line_examples(examples, min_frames=3),
        "fig_2d_relu_r2": lambda: ff.fig_2d_relu_r2(table, 0.3),
        "fig_2d_relu_nrmse": lambda: ff.fig_2d_relu_nrmse(table),
        "fig_2q_intersection_fraction": lambda: ff.fig_2q_intersection_fraction(sel),
        "fig_2q_rise_quantile": lambda: ff.fig_2q_rise_quantile(sel),
        "fig_a3_slope_scaling": lambda: ff.fig_a3_slope_scaling(table, laws),
        "fig_a3_collapse": lambda: ff.fig_a3_collapse(res["L1→L2"], {"raw": 0.0, "fraction": 1.0},
                                                      min_frames=3, rng=0),
        "fig_collapse_by_exponent": lambda: ff.fig_collapse_by_exponent(
            frt.collapse_scan(res, [0.0, 0.5, 1.0], 3)),
        "fig_a4_batch_responses": lambda: ff.fig_a4_batch_responses(examples, min_frames=3),
        "fig_a5_slope_differences": lambda: ff.fig_a5_slope_differences(diffs),
        "by_layer_pair": lambda: ff.by_layer_pair(table, "relu_r2", "R²", band=(0.2, 0.5)),
        "pair_scatter": lambda: ff.pair_scatter(late._pairs_table(), "degree", "mi", "N", "MI",
                                                highlight="hub"),
    }


def _later_cases():
    tab = _emergence_table()
    report = pd.DataFrame({"target": rng.random(8), "rate": rng.random(8),
                           "base rate": rng.random(8), "gain": rng.random(8) + 0.5},
                          index=["stem.2"] + [f"blocks.{i // 2}.sn{i % 2 + 1}" for i in range(7)])
    sel = _mango_sel()
    first = sel.groupby("layer", as_index=False)["epoch"].min().rename(
        columns={"epoch": "first_strong_epoch"})
    mei = _mei_table()
    trace = np.maximum.accumulate(rng.random((len(mei), 50)), axis=1)
    formation = {"evaluations": [1, 10, 100, 1000], "image": rng.random((4, 8, 8)),
                 "activation": rng.random(4)}
    layers = [f"L{i}" for i in range(1, 7)]
    spec = pd.DataFrame(rng.dirichlet([1, 1, 1], 6), index=layers,
                        columns=["labile", "stable", "non-specialised"])
    dist = pd.DataFrame([{"epoch": e, "layer": layer, "euclidean": rng.random(), "cosine": rng.random()}
                         for e in (1, 5, 10) for layer in layers])
    comp = pd.DataFrame([{"epoch": e, "layer": layer, "jpeg": rng.random(), "zip": rng.random()}
                         for e in (1, 5, 10) for layer in layers])
    survival = pd.DataFrame({"circular_fraction": rng.random(3) / 5, "stimulus_fraction": rng.random(3) / 10,
                             "survival": rng.random(3)}, index=PAIRS)
    repeats = pd.DataFrame({"repeats": [1, 2, 4, 8] * 2, "null": ["circular"] * 4 + ["stimulus"] * 4,
                            "fraction": rng.random(8) / 5})
    pairs, truth = _planted()
    return {
        "fig_emergence_curves": lambda: ff.fig_emergence_curves(tab),
        "fig_emergence_vs_accuracy": lambda: ff.fig_emergence_vs_accuracy(tab),
        "fig_matched_rates": lambda: ff.fig_matched_rates(report),
        "fig_mango_convergence": lambda: ff.fig_mango_convergence(mei, trace, formation),
        "fig_mango_entropy": lambda: ff.fig_mango_entropy(sel, 1, 10),
        "fig_mango_selective": lambda: ff.fig_mango_selective(sel),
        "fig_mango_emergence": lambda: ff.fig_mango_emergence(sel, first, {1: 0.3, 5: 0.6, 10: 0.8}),
        "fig_mango_specialisation": lambda: ff.fig_mango_specialisation(spec),
        "fig_mango_diversity": lambda: ff.fig_mango_diversity(dist),
        "fig_mango_complexity": lambda: ff.fig_mango_complexity(comp),
        "fig_mei_gallery": lambda: ff.fig_mei_gallery(mei, rng.random((len(mei), 8, 8)), class_names=[str(i) for i in range(10)]),
        "fig_generator_comparison": lambda: ff.fig_generator_comparison(
            {g: {"table": _mei_table(), "image": rng.random((18, 8, 8))} for g in ("digits", "noise")}),
        "fig_mango_labelled": lambda: ff.fig_mango_labelled(_mango_labelled()),
        "fig_own_raster": lambda: ff.fig_own_raster(_own_spikes()),
        "fig_planted_recovery": lambda: ff.fig_planted_recovery(pairs, truth),
        "fig_own_response_functions": lambda: ff.fig_own_response_functions(
            (c := _own_counts()), c["neuron"].values[:3]),
        "fig_sampling_ratios": lambda: ff.fig_sampling_ratios(_sampling_ratios()),
        "fig_verdicts": lambda: ff.fig_verdicts(_verdicts(), ["default", "paper"]),
        "fig_edge_survival": lambda: ff.fig_edge_survival(survival, 4.0),
        "fig_ensembles_by_variant": lambda: ff.fig_ensembles_by_variant(_ensemble_results(), 0.8),
        "fig_significance_by_repeats": lambda: ff.fig_significance_by_repeats(repeats, 4.0),
        "fig_ttfs_training": lambda: ff.fig_ttfs_training(
            {"loss": [1.0, 0.5, 0.3], "train_acc": [0.2, 0.4, 0.6], "test_acc": [0.2, 0.5, 0.55]}),
        "fig_ttfs_raster": lambda: ff.fig_ttfs_raster(_ttfs_times(), {"H1": 6, "H2": 6}, 0),
        "fig_ttfs_spread": lambda: ff.fig_ttfs_spread(_ttfs_spread(), {"input": 0.17, "H1": 0.2}),
        "fig_ttfs_information_gain": lambda: ff.fig_ttfs_information_gain(
            _ttfs_ig(), {"E": [0.1, 0.2], "I": [0.0, 0.1]}),
        "fig_ttfs_pathways": lambda: ff.fig_ttfs_pathways(_ttfs_pathways()),
    }


def _cases():
    if "cases" not in _CACHE:
        cases = {name: make for name, (make, _) in late.CASES.items() if " " not in name}
        cases.update(_early_cases())
        cases.update(_later_cases())
        _CACHE["cases"] = cases
    return _CACHE["cases"]


def _figure_names():
    names = set()
    for mod in pkgutil.iter_modules(ff.__path__):
        if mod.name in OTHER_MODULES:
            continue
        m = importlib.import_module(f"fclib.figures.{mod.name}")
        names |= set(getattr(m, "__all__", []))
    return names - set(NOT_FIGURES)


FIGURES = sorted(_figure_names())


# --------------------------------------------------------------------------- checks
def _png_width(fig):
    """Width in px of the PNG the notebook's inline backend saves (bbox_inches="tight")."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return struct.unpack(">II", buf.getvalue()[16:24])[0]


def _texts(fig):
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()
            and (t.axes is None or t.axes.get_visible())]


def _drawn_ticklabels(axis):
    lo, hi = sorted(axis.get_view_interval())
    tol = 1e-9 * max(abs(lo), abs(hi), 1)
    out = []
    for tick in axis.get_major_ticks() + axis.get_minor_ticks():
        if not lo - tol <= tick.get_loc() <= hi + tol:
            continue
        for lab in (tick.label1, tick.label2):
            if lab.get_visible() and lab.get_text().strip():
                out.append(lab)
    return out


def _data_points(ax):
    """Display coordinates of the data drawn in ``ax``: line vertices, markers, bar corners."""
    pts = []
    for line in ax.lines:
        if line.get_visible():
            xy = np.asarray(line.get_xydata(), dtype=float)
            if xy.size:
                pts.append(line.get_transform().transform(xy))
    for coll in ax.collections:
        if isinstance(coll, PathCollection) and coll.get_visible() and len(coll.get_offsets()):
            pts.append(coll.get_offset_transform().transform(np.asarray(coll.get_offsets(), float)))
    for cont in ax.containers:
        if isinstance(cont, BarContainer):
            for p in cont.patches:
                bb = p.get_window_extent()
                if bb.width > 0 and bb.height > 0:
                    pts.append(np.array([[bb.x0, bb.y0], [bb.x1, bb.y1], [bb.x0, bb.y1],
                                         [bb.x1, bb.y0]]))
    if not pts:
        return np.zeros((0, 2))
    p = np.concatenate(pts)
    return p[np.isfinite(p).all(1)]


def _has_data(ax):
    return bool(ax.lines or ax.collections or ax.images or ax.containers
                or [p for p in ax.patches if p.get_visible()])


def _label_boxes(labels, renderer):
    """Centre, unrotated width and height (px) and rotation of each text."""
    out = []
    for t in labels:
        bb = t.get_window_extent(renderer)
        rot = t.get_rotation()
        t.set_rotation(0)
        flat = t.get_window_extent(renderer)
        t.set_rotation(rot)
        out.append(((bb.x0 + bb.x1) / 2, (bb.y0 + bb.y1) / 2, flat.width, flat.height,
                    np.deg2rad(rot)))
    return out


def _run_together(boxes):
    """Pairs of texts (as :func:`_label_boxes`) whose rotated rectangles overlap by > 1 px."""
    bad = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            x1, y1, w1, h1, r1 = boxes[i]
            x2, y2, w2, h2, r2 = boxes[j]
            r = r1 if np.isclose(r1, r2) else 0.0
            dx, dy = x2 - x1, y2 - y1
            du = abs(dx * np.cos(r) + dy * np.sin(r))
            dv = abs(-dx * np.sin(r) + dy * np.cos(r))
            if not np.isclose(r1, r2):  # different rotations: compare the drawn boxes
                w1, h1 = w1 * abs(np.cos(r1)) + h1 * abs(np.sin(r1)), w1 * abs(np.sin(r1)) + h1 * abs(np.cos(r1))
                w2, h2 = w2 * abs(np.cos(r2)) + h2 * abs(np.sin(r2)), w2 * abs(np.sin(r2)) + h2 * abs(np.cos(r2))
            if du < (w1 + w2) / 2 - 1 and dv < (h1 + h2) / 2 - 1:
                bad.append((i, j))
    return bad


def _overlapping_texts(fig, renderer):
    """Pairs of texts drawn over each other: every title, axis label, note and legend entry
    against each other and against the drawn tick labels (tick labels among themselves are
    :func:`_run_together`'s)."""
    ticks = [lab for ax in fig.axes if ax.get_visible() for axis in (ax.xaxis, ax.yaxis)
             for lab in _drawn_ticklabels(axis)]
    tick_ids = {id(t) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
                for tick in axis.get_major_ticks() + axis.get_minor_ticks()
                for t in (tick.label1, tick.label2)}
    others = [t for t in _texts(fig) if id(t) not in tick_ids]
    boxes = {id(t): t.get_window_extent(renderer).padded(-1) for t in others + ticks}
    bad = []
    for i, a in enumerate(others):
        for b in others[i + 1:] + ticks:
            if boxes[id(a)].overlaps(boxes[id(b)]):
                bad.append((a.get_text()[:30], b.get_text()[:30]))
    return bad


def _problems(fig):
    """What makes ``fig`` unfit for the book's column, in words (empty: none)."""
    out = []
    if fig.dpi != _common.DPI:
        out.append(f"drawn at {fig.dpi} dpi, not {_common.DPI}")
    if fig.get_size_inches()[0] * fig.dpi > _common.COLUMN_PX:
        out.append(f"figure {fig.get_size_inches()[0] * fig.dpi:.0f} px wide")
    width = _png_width(fig)  # also draws the figure
    if width > _common.COLUMN_PX:
        out.append(f"saved PNG {width} px wide, column {_common.COLUMN_PX}")
    renderer = fig.canvas.get_renderer()
    small = sorted({(t.get_text()[:30], t.get_fontsize()) for t in _texts(fig)
                    if t.get_fontsize() < _common.MIN_FONT_PT - 1e-6})
    if small:
        out.append(f"text below {_common.MIN_FONT_PT} pt: {small[:6]}")
    for a, b in _overlapping_texts(fig, renderer):
        out.append(f"text {a!r} drawn over {b!r}")
    axes = [a for a in fig.axes if a.get_visible()]
    for ax in axes:
        if ax.axison and not _has_data(ax):
            out.append(f"an empty axes ({ax.get_title()!r})")
        for axis in (ax.xaxis, ax.yaxis):
            labels = _drawn_ticklabels(axis)
            for i, j in _run_together(_label_boxes(labels, renderer)):
                out.append(f"tick labels {labels[i].get_text()!r} and {labels[j].get_text()!r} "
                           f"run together on {ax.get_title()!r}")
    legends = [a.get_legend() for a in axes if a.get_legend() is not None] + list(fig.legends)
    for leg in legends:
        box = leg.get_window_extent(renderer).padded(-1)
        for ax in axes:
            p = _data_points(ax)
            inside = ((p[:, 0] > box.x0) & (p[:, 0] < box.x1)
                      & (p[:, 1] > box.y0) & (p[:, 1] < box.y1))
            if inside.any():
                out.append(f"the legend covers {int(inside.sum())} data points of {ax.get_title()!r}")
    return out


@pytest.fixture(scope="module")
def cases():
    return _cases()


def test_every_figure_function_has_a_case(cases):
    missing = sorted(set(FIGURES) - set(cases))
    assert not missing, f"figure functions without a case in {__name__}: {missing}"
    assert set(NOT_FIGURES) <= set(dir(ff)) | {"mango_table1"}


@pytest.mark.parametrize("name", FIGURES)
def test_figure_fits_the_column_and_is_legible(name, cases):
    fig = cases[name]()
    try:
        assert isinstance(fig, plt.Figure)
        assert _problems(fig) == []
    finally:
        plt.close(fig)


def test_the_checks_find_what_the_book_had():
    """A figure as the book drew them before: 10 in wide, 7 pt legend over the data, tick
    labels that run together ("20matched"), an empty axes."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3))
    x = np.linspace(0, 1, 50)
    a.plot(x, x, label="a line")
    a.legend(loc="center", fontsize=7)
    a.set_xticks([0.5, 0.52], ["20", "matched"])
    try:
        found = " | ".join(_problems(fig))
    finally:
        plt.close(fig)
    for what in ("figure 1000 px wide", "saved PNG", "text below 8 pt", "run together",
                 "the legend covers", "an empty axes"):
        assert what in found, (what, found)
    fig, ax = plt.subplots(figsize=(3, 2), dpi=100)
    ax.set_xticks(np.arange(10), [f"L{i}→L{i + 1}" for i in range(10)], rotation=45, ha="right")
    ax.plot(np.arange(10), np.arange(10))
    try:
        assert _problems(fig) == []  # rotated labels that clear each other are fine
    finally:
        plt.close(fig)


def test_style_is_colour_blind_safe_and_large_enough():
    style = ff.book_style()
    colours = [c.lower() for c in style["axes.prop_cycle"].by_key()["color"]]
    assert colours[:7] == [c.lower() for c in _common.OKABE_ITO[:7]]
    sizes = [style[k] for k in ("font.size", "axes.labelsize", "axes.titlesize", "xtick.labelsize",
                                "ytick.labelsize", "legend.fontsize")]
    assert min(sizes) >= _common.MIN_FONT_PT
    assert _common.WIDTH_IN * style["figure.dpi"] <= _common.COLUMN_PX
    many = _common.series_styles(9, ordered=True)
    assert len({(s["color"], s["ls"]) for s in many}) == 9
    assert len({s["ls"] for s in many}) > 1
    assert {s["ls"] for s in _common.series_styles(6)} == {"-"}


# --------------------------------------------------------------------------- at the paper's scale
P15 = [f"L{i}→L{i + 1}" for i in range(1, 16)]       # SEW-ResNet18: 16 layers, 15 pairs
L16 = [f"L{i}" for i in range(1, 17)]


def _cat(values, cats):
    return pd.Categorical(values, categories=cats, ordered=True)


def _many_emergence():
    from fclib.stats.emergence import emergence_table

    tabs, acc = {}, {}
    for net, epochs in (("trained", [0, 1, 2, 5, 10, 20, 40]), ("rate-matched", [None])):
        for e in epochs:
            rows = [(u, q, float(rng.random())) for u in L16 for q in ("median MI",)]
            rows += [(u, q, float(rng.random())) for u in P15 for q in ("significant fraction", "median group size")]
            tabs[(net, e)] = pd.DataFrame(rows, columns=["layer pair", "quantity", "value"])
            acc[(net, e)] = 0.1 if e in (0, None) else min(0.9, 0.2 + 0.02 * e)
    return emergence_table(tabs, acc)


def _many_sampling():
    from fclib.stats.sampling import sampling_ratios

    rows = [{"layer pair": pair, "how": how, "fraction": f, "recorded": f,
             "significant": 0.1 + 0.1 * rng.random(), "mean_degree": 10 * f + rng.random(),
             "relu_slope": 0.1 / f, "onset_fraction": 0.3 + 0.1 * rng.random()}
            for pair in P15 for how in ("random", "patch") for f in (0.1, 0.25, 0.5, 1.0)]
    return sampling_ratios(pd.DataFrame(rows))


def _many_mango():
    return pd.DataFrame([{"layer": layer, "epoch": e, "channel": c, "entropy": rng.random(),
                          "strong": rng.random() > 0.5, "selective": rng.random() > 0.7,
                          "activation": rng.random()}
                         for layer in L16 for e in (0, 1, 2, 5, 10, 20) for c in range(3)])


MANY = {
    "by_layer_pair": lambda: ff.by_layer_pair(pd.DataFrame({
        "layer pair": _cat(np.repeat(P15, 30), P15), "v": rng.normal(size=450)}), "v", "value",
        band=(0.1, 0.2)),
    "fig_4_5_responses_under_distortion": lambda: ff.fig_4_5_responses_under_distortion(pd.DataFrame({
        "layer pair": np.tile(np.repeat(P15, 10), 3), "condition": np.repeat(["original", "noise", "FGSM"], 150),
        "relu_r2": rng.normal(0.5, 0.8, 450), "slope change": rng.normal(0, 1, 450),
        "strong regime reached": rng.random(450)}), r2_min=0.8),
    "fig_a13_slope_change_vs_mi": lambda: ff.fig_a13_slope_change_vs_mi(pd.DataFrame({
        "layer pair": np.tile(np.repeat(P15, 10), 3), "condition": np.repeat(["original", "noise", "FGSM"], 150),
        "MI": rng.random(450), "slope change": rng.normal(0, 1, 450)})),
    "pair_scatter": lambda: ff.pair_scatter(pd.DataFrame({
        "layer pair": _cat(np.repeat(P15, 20), P15), "degree": rng.integers(1, 50, 300),
        "mi": rng.random(300), "hub": rng.random(300) > 0.9}), "degree", "mi", "N", "MI", highlight="hub"),
    "fig_degree_distributions": lambda: ff.fig_degree_distributions({k: rng.integers(0, 40, 60) for k in P15}, 4.0),
    "fig_collapse_by_exponent": lambda: ff.fig_collapse_by_exponent(pd.DataFrame(
        rng.random((11, 15)), index=np.linspace(0, 1, 11), columns=P15)),
    "fig_a10cd_similarity_vs_cofiring": lambda: ff.fig_a10cd_similarity_vs_cofiring(pd.DataFrame({
        "layer pair": np.repeat(P15, 5), "bin": np.tile(np.linspace(0.1, 0.9, 5), 15),
        "P(presented = preferred)": rng.random(75), "semantic rank similarity": rng.random(75)}),
        chance={"P(presented = preferred)": 0.1}),
    "fig_a9_identity_vs_aggregate": lambda: ff.fig_a9_identity_vs_aggregate(pd.DataFrame({
        "layer pair": np.repeat(P15, 2), "classifier": ["logistic", "naive Bayes"] * 15,
        "aggregate": rng.random(30), "identity": rng.random(30), "difference": np.zeros(30),
        "ci_low": -0.1 * np.ones(30), "ci_high": 0.1 * np.ones(30)})),
    "fig_a17_properties": lambda: ff.fig_a17_properties(pd.DataFrame({
        "network": ["trained", "permuted"] * 15, "layer pair": _cat(np.repeat(P15, 2), P15),
        "significant": rng.random(30), "median group size": rng.integers(1, 9, 30),
        "median MI (bits)": rng.random(30), "with a group": rng.random(30)}),
        ["significant", "median group size", "median MI (bits)", "with a group"]),
    "fig_a12_firing_rates": lambda: ff.fig_a12_firing_rates(pd.DataFrame(
        rng.random((16, 3)), index=L16, columns=["original", "noise", "FGSM"])),
    "fig_network_activity": lambda: ff.fig_network_activity(
        pd.DataFrame(rng.random((16, 2)), index=L16, columns=["trained", "permuted"]),
        pd.DataFrame(rng.random((16, 2)), index=L16, columns=["trained", "permuted"])),
    "fig_edge_survival": lambda: ff.fig_edge_survival(pd.DataFrame({
        "circular_fraction": rng.random(15) / 5, "stimulus_fraction": rng.random(15) / 10,
        "survival": rng.random(15)}, index=P15), 4.0),
    "fig_emergence_curves": lambda: ff.fig_emergence_curves(_many_emergence()),
    "fig_emergence_vs_accuracy": lambda: ff.fig_emergence_vs_accuracy(_many_emergence()),
    "fig_sampling_ratios": lambda: ff.fig_sampling_ratios(_many_sampling()),
    "fig_matched_rates": lambda: ff.fig_matched_rates(pd.DataFrame(
        {"target": rng.random(17), "rate": rng.random(17), "base rate": rng.random(17),
         "gain": rng.random(17) + 0.5},
        index=["stem.2"] + [f"blocks.{i // 2}.sn{i % 2 + 1}" for i in range(16)])),
    "fig_mango_entropy": lambda: ff.fig_mango_entropy(_many_mango(), 1, 20),
    "fig_mango_selective": lambda: ff.fig_mango_selective(_many_mango()),
    "fig_mango_diversity": lambda: ff.fig_mango_diversity(pd.DataFrame(
        [{"epoch": e, "layer": layer, "euclidean": rng.random(), "cosine": rng.random()}
         for e in (0, 1, 2, 5, 10, 20) for layer in L16])),
    "fig_mango_specialisation": lambda: ff.fig_mango_specialisation(pd.DataFrame(
        rng.dirichlet([1, 1, 1], 16), index=L16, columns=["labile", "stable", "non-specialised"])),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MANY))
def test_figures_stay_legible_at_the_papers_scale(name):
    """15 layer pairs, 16 layers, 7 snapshots: what the paper's network gives the figures."""
    fig = MANY[name]()
    try:
        assert _problems(fig) == []
    finally:
        plt.close(fig)


# --------------------------------------------------------------------------- data equal the input
def test_response_curve_draws_the_measured_probabilities():
    examples = _examples()
    fig = ff.fig_2a_relu_examples(examples, min_frames=3)
    try:
        for ax, (ds, neuron) in zip(fig.axes, examples.values()):
            sel = ds.sel(neuron=neuron)
            nf, fire = sel["n_frames"].values, sel["n_fire"].values
            ok = nf >= 3
            pts = np.asarray(ax.collections[0].get_offsets())
            np.testing.assert_allclose(pts[:, 0], ds["cofiring"].values[ok])
            np.testing.assert_allclose(pts[:, 1], fire[ok] / nf[ok])
    finally:
        plt.close(fig)


def test_sttc_and_z_distributions_draw_every_value():
    obs = {"a": rng.normal(size=300)}
    nul = {"a": rng.normal(size=500)}
    fig = ff.fig_1a_sttc_distributions(obs, nul, bins=20)
    try:
        ax = fig.axes[0]
        bars = [p for p in ax.patches if type(p).__name__ == "Rectangle" and p.get_width() > 0]
        edges = np.linspace(min(obs["a"].min(), nul["a"].min()), max(obs["a"].max(), nul["a"].max()), 21)
        expected, _ = np.histogram(nul["a"], edges, density=True)
        np.testing.assert_allclose([b.get_height() for b in bars], expected)
    finally:
        plt.close(fig)
    z1, z2 = rng.normal(size=400), rng.normal(size=400)
    z2[:7] = np.nan
    fig = ff.fig_null_agreement(z1, z2, 4.0)
    try:
        hexes = [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]
        assert hexes[0].get_array().sum() == 393
    finally:
        plt.close(fig)


def test_degree_histogram_draws_each_layer_pairs_degrees():
    degrees = {"a": np.array([0, 3, 5, 5, 9]), "b": np.array([1, 2])}
    fig = ff.fig_degree_distributions(degrees, threshold=4.0)
    try:
        lines = {l.get_label(): l for l in fig.axes[0].lines}
        for k, d in degrees.items():
            np.testing.assert_array_equal(lines[k].get_xdata(), np.sort(d))
            np.testing.assert_allclose(lines[k].get_ydata(), 1 - np.arange(d.size) / d.size)
    finally:
        plt.close(fig)


def test_scaling_draws_every_selected_neuron():
    from fclib.stats import response_tables as frt

    res, table = _res()
    laws = frt.power_laws(table[table["selected"]], list(res))
    fig = ff.fig_a3_slope_scaling(table, laws)
    try:
        for ax, name in zip(fig.axes, laws.index):
            d = table[(table["layer pair"] == name) & table["selected"]]
            pts = np.asarray(ax.collections[0].get_offsets())
            np.testing.assert_allclose(pts, d[["degree", "relu_slope"]].to_numpy(dtype=float))
    finally:
        plt.close(fig)


def test_box_plots_contain_their_boxes_and_say_where_they_cut():
    gen = np.random.default_rng(3)
    t = pd.DataFrame({"layer pair": pd.Categorical(["a"] * 50 + ["b"] * 50),
                      "relu_r2": np.r_[gen.normal(-0.86, 0.3, 50), gen.normal(-8, 4, 50)]})
    fig = ff.fig_2d_relu_r2(t, 0.8)
    try:
        ax = fig.axes[0]
        lo, hi = ax.get_ylim()
        q1 = t.groupby("layer pair", observed=True)["relu_r2"].quantile(0.25)
        assert lo <= q1.min()          # every box drawn whole, the median -0.86 inside
        assert hi >= 0.8
        assert any("whiskers reach" in x.get_text() for x in ax.texts)
    finally:
        plt.close(fig)


def _empty_scaling():
    from fclib.stats import response_tables as frt

    res, table = _res()
    t = table.copy()
    t.loc[t["layer pair"] == "L2→L3", "selected"] = False
    return ff.fig_a3_slope_scaling(t, frt.power_laws(table[table["selected"]], list(res)))


EMPTY = {
    "fig_mango_selective": lambda: ff.fig_mango_selective(_mango_sel().assign(strong=False, selective=False)),
    "fig_mango_emergence": lambda: ff.fig_mango_emergence(
        _mango_sel(), pd.DataFrame({"layer": ["L1"], "first_strong_epoch": [np.nan]}), {1: 0.5}),
    "fig_mango_specialisation": lambda: ff.fig_mango_specialisation(pd.DataFrame(
        {"labile": 0.0, "stable": 0.0, "non-specialised": 1.0}, index=["L1", "L2", "L3", "L4"])),
    "fig_1a_sttc_distributions": lambda: ff.fig_1a_sttc_distributions(
        {"a": rng.normal(size=50), "b": []}, {"a": rng.normal(size=50), "b": []}),
    "fig_a3_slope_scaling": _empty_scaling,
    "fig_a17_sttc_distributions": lambda: ff.fig_a17_sttc_distributions(
        {"a": {"trained": rng.normal(0, 0.1, 50)}, "b": {"trained": [np.nan]}}),
    "fig_significance_by_repeats": lambda: ff.fig_significance_by_repeats(
        pd.DataFrame({"repeats": [], "null": [], "fraction": []}), 4.0),
    "fig_null_agreement": lambda: ff.fig_null_agreement(np.full(5, np.nan), np.zeros(5), 4.0),
    "fig_ensembles_by_variant": lambda: ff.fig_ensembles_by_variant(_ensembles_without("stimulus_cv"), 0.8),
    "fig_ensembles_by_variant (none)": lambda: ff.fig_ensembles_by_variant(
        _ensembles_without(*_ensemble_results()), 0.8),
    "fig_mango_selective (one)": lambda: ff.fig_mango_selective(_mango_sel().assign(selective=False)),
}
# Figures whose every panel would be empty: one sentence, no axes, a line or two high.
WHOLLY_EMPTY = ["fig_mango_selective", "fig_mango_specialisation", "fig_significance_by_repeats",
                "fig_null_agreement", "fig_ensembles_by_variant (none)"]


def _ensembles_without(*variants):
    """:func:`_ensemble_results` where no target of ``variants`` has a group."""
    out = _ensemble_results()
    for v in variants:
        out[v] = [ds.assign(degree=ds["degree"] * 0) for ds in out[v]]
    return out


@pytest.mark.parametrize("name", list(EMPTY))
def test_a_panel_without_data_says_why(name):
    fig = EMPTY[name]()
    try:
        texts = [t.get_text() for t in _texts(fig)]
        assert any(t.startswith(("nothing to show", "not drawn")) for t in texts), texts
        assert _problems(fig) == []
    finally:
        plt.close(fig)


@pytest.mark.parametrize("name", WHOLLY_EMPTY)
def test_a_figure_without_data_is_one_sentence(name):
    """No empty axes and no blank page: the figure is the sentence of ``no_data``."""
    fig = EMPTY[name]()
    try:
        assert [ax.axison for ax in fig.axes] == [False]
        texts = [t.get_text() for t in _texts(fig)]
        assert len(texts) == 1 and texts[0].startswith("nothing to show"), texts
        assert fig.get_size_inches()[1] <= 1.0
    finally:
        plt.close(fig)


@pytest.mark.parametrize("name", ["fig_mango_emergence", "fig_mango_selective (one)",
                                  "fig_ensembles_by_variant"])
def test_no_panel_or_row_without_data_is_drawn(name):
    """Chapters 13 and 17: a panel (or a row of boxes) without data is left out, and a note
    says what and why, instead of an empty axes or an empty row."""
    fig = EMPTY[name]()
    try:
        for ax in fig.axes:
            assert ax.axison, "an axes switched off for want of data"
            assert not any(t.get_text().startswith("nothing to show") for t in ax.texts)
        notes = [t.get_text() for t in fig.texts]
        assert any(t.startswith("not drawn") for t in notes), notes
        if name == "fig_ensembles_by_variant":
            labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
            assert labels == ["circular, in-sample", "circular, cross-val.", "tuning-matched",
                              "random matched"]
            for ax in fig.axes:
                assert len(ax.get_yticks()) == 4
            assert "stimulus, cross-val." in notes[0]
    finally:
        plt.close(fig)


# --------------------------------------------------------------------------- the screenshot review
def _exploding_z(n=3000, n_bad=4, seed=5):
    """z of pairs under two tests: a bulk near 0, a tail of coupled pairs up to ~12 and
    ``n_bad`` nearly silent pairs whose z explodes to ~1e9 under both."""
    gen = np.random.default_rng(seed)
    a = gen.normal(size=n)
    a[: n // 20] += 8
    b = a + gen.normal(0, 0.3, n)
    a[-n_bad:], b[-n_bad:] = 3e9, 2.5e9
    return a, b


def test_null_agreement_axes_cover_the_bulk_and_count_what_lies_beyond():
    a, b = _exploding_z()
    fig = ff.fig_null_agreement(a, b, 4.0)
    try:
        ax = fig.axes[0]
        for lo, hi in (ax.get_xlim(), ax.get_ylim()):
            assert lo < min(a[:-4].min(), b[:-4].min()) and hi > max(a[:-4].max(), b[:-4].max())
            assert hi < 30 and lo > -30          # not 1e9
        hexes = [c for c in ax.collections if isinstance(c, PolyCollection)][0]
        assert hexes.get_array().sum() == a.size  # every pair drawn, the 4 at the edge
        assert any("4 of 3,000 pairs lie outside" in t.get_text() and "edge" in t.get_text()
                   for t in ax.texts)
        assert _problems(fig) == []
    finally:
        plt.close(fig)


def test_false_positive_axis_stops_at_a_sensible_z_and_says_how_many_beyond():
    gen = np.random.default_rng(6)
    null_z = {"exact": np.r_[gen.normal(size=4000), [2e9, 3e9]],
              "150 shifts": np.r_[gen.standard_t(20, 4000), [5e8]]}
    fig = ff.fig_false_positive_rates(null_z, alpha=1e-3,
                                      thresholds={"exact": 3.1, "150 shifts": 4e8})
    try:
        ax = fig.axes[0]
        lo, hi = ax.get_xlim()
        assert 6 <= hi <= 16 and lo > -1
        curves = {l.get_label().split(" (")[0]: l for l in ax.lines if "pairs)" in l.get_label()}
        # at the edge each curve stands at the share of its z beyond
        assert curves["exact"].get_ydata()[-1] == pytest.approx(2 / 4002)
        assert curves["150 shifts"].get_ydata()[-1] == pytest.approx(1 / 4001)
        note = " ".join(t.get_text().replace("\n", " ") for t in ax.texts)
        assert "exact: 2 of 4,002" in note and "150 shifts: 1 of 4,001" in note
        assert "threshold of 150 shifts at 4e+08" in note
        assert _problems(fig) == []
    finally:
        plt.close(fig)


def test_response_axis_ends_near_the_data_not_the_largest_group():
    """Chapter 4: the co-firing coordinate runs to the largest group of the layer pair (250
    here), but no frame of the example neurons reaches beyond a few members."""
    examples = {k: (ds.reindex(cofiring=np.arange(251), fill_value=0), n)
                for k, (ds, n) in _examples().items()}
    fig = ff.fig_2m_two_line_examples(examples, min_frames=3)
    try:
        for ax, (ds, neuron) in zip(fig.axes[:len(examples)], examples.values()):
            pts = np.asarray(ax.collections[0].get_offsets())
            seen = ds["cofiring"].values[ds.sel(neuron=neuron)["n_frames"].values > 0].max()
            lo, hi = ax.get_xlim()
            assert lo <= pts[:, 0].min() and hi >= pts[:, 0].max()
            assert hi <= 1.1 * max(pts[:, 0].max(), float(ds.sel(neuron=neuron).intersection), 1)
            assert hi < seen + 1 < 250
            assert "% of frames beyond" in ax.get_xlabel()
        assert _problems(fig) == []
    finally:
        plt.close(fig)


def _colour_blind_pairs(colours):
    """Pairs of line colours the review could not tell apart: blue beside bluish green."""
    hard = {"#0072b2", "#009e73"}
    return hard <= {matplotlib.colors.to_hex(c).lower() for c in colours}


def test_condition_lines_differ_in_colour_style_and_marker():
    """Chapter 10, Fig. A12: FGSM barely moves the rates, so its line lies on the original's."""
    rates = pd.DataFrame({"original": [0.22, 0.16, 0.21, 0.22], "noise": [0.37, 0.23, 0.31, 0.29],
                          "fgsm": [0.225, 0.163, 0.21, 0.217]}, index=["L1", "L2", "L3", "L4"])
    fig = ff.fig_a12_firing_rates(rates)
    try:
        lines = fig.axes[0].lines
        assert [l.get_label() for l in lines] == list(rates.columns)
        for prop in ("get_color", "get_linestyle", "get_marker"):
            values = [getattr(l, prop)() for l in lines]
            assert len(set(values)) == len(lines), (prop, values)
        assert all(matplotlib.colors.to_hex(l.get_color()).upper() in _common.OKABE_ITO for l in lines)
        assert not _colour_blind_pairs([l.get_color() for l in lines])
        assert _problems(fig) == []
    finally:
        plt.close(fig)


def test_a13_note_of_cut_slopes_sits_clear_of_the_axis_labels():
    """Chapter 10, Fig. A13: the note on slope changes beyond the axis used to be drawn over
    the first panel's x label; the changes beyond are drawn at the edge."""
    gen = np.random.default_rng(8)
    t = pd.DataFrame({"layer pair": np.tile(np.repeat(PAIRS, 40), 2),
                      "condition": np.repeat(["noise", "fgsm"], 120), "MI": gen.random(240),
                      "slope change": gen.normal(0, 1, 240)})
    t.loc[[3, 150], "slope change"] = [40.0, -25.0]
    fig = ff.fig_a13_slope_change_vs_mi(t)
    try:
        notes = [x for x in fig.texts if "beyond" in x.get_text()]
        assert len(notes) == 1 and "2 of 240" in notes[0].get_text()
        renderer = fig.canvas.get_renderer()
        nb = notes[0].get_window_extent(renderer)
        for ax in fig.axes:
            assert not nb.overlaps(ax.xaxis.label.get_window_extent(renderer))
        drawn = sum(len(c.get_offsets()) for ax in fig.axes for c in ax.collections
                    if isinstance(c, PathCollection))
        assert drawn == 240
        assert _problems(fig) == []
    finally:
        plt.close(fig)


def test_the_overlap_check_finds_a_note_over_an_axis_label():
    fig, ax = plt.subplots(figsize=(3, 2), layout="constrained")
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("MI (bits, corrected)")
    fig.text(0.0, 0.0, "1 of 10016 neurons beyond ±5 are not shown", fontsize=8)
    try:
        assert any("drawn over" in p for p in _problems(fig))
    finally:
        plt.close(fig)


def test_emergence_curves_tell_every_layer_pair_apart():
    """Chapter 14: one categorical colour, line style and marker per layer pair (or layer),
    the same in every panel, where a viridis ramp gave neighbours shades no one can tell
    apart."""
    for table in (_emergence_table(), _many_emergence()):
        fig = ff.fig_emergence_curves(table)
        try:
            styles = {}
            for ax in fig.axes[1:]:
                for l in ax.lines:
                    if l.get_label().startswith("_"):
                        continue
                    key = (matplotlib.colors.to_hex(l.get_color()), l.get_linestyle(), l.get_marker())
                    assert styles.setdefault(l.get_label(), key) == key  # same in every panel
            assert len(set(styles.values())) == len(styles)
            assert all(c.upper() in _common.OKABE_ITO for c, _, _ in styles.values())
            first = list(styles.values())[:7]
            assert len({c for c, _, _ in first}) == len(first)
            assert _problems(fig) == []
        finally:
            plt.close(fig)


def _many_verdicts():
    from fclib.pipeline.scale import comparison_table

    gen = np.random.default_rng(9)
    t = comparison_table({"default": None})
    values = ["49.3 % (median R² 0.79)", "21.2 % (stimulus null: nan)", "0.015 → 0.066",
              "25.2 % (rate-matched random groups: 30.1 %)", "20.0 % → 16.0 % → 18.0 %"]
    runs = ["smoke", "default", "fashion", "paper-scale", "cifar10, 1,000 presentations", "x"]
    for r in runs:
        t[r] = [values[i] for i in gen.integers(0, len(values), len(t))]
        t[f"{r}: verdict"] = gen.choice(["reproduced", "partly", "not reproduced",
                                         "not measured", "not built"], len(t))
    return t, runs


@pytest.mark.parametrize("n_runs", [2, 3, 6])
def test_verdict_grid_text_is_legible_whole_and_inside_its_cell(n_runs):
    """Chapter 16: every text of the grid at least 8 pt at the saved size, the figure within
    the column however many runs, each value whole (wrapped, never cut with '…') and inside
    its cell."""
    table, runs = _many_verdicts()
    fig = ff.fig_verdicts(table, runs[:n_runs])
    try:
        assert fig.get_size_inches()[0] <= _common.WIDTH_IN + 1e-9
        assert _problems(fig) == []
        assert min(t.get_fontsize() for t in _texts(fig)) >= _common.MIN_FONT_PT
        renderer = fig.canvas.get_renderer()
        texts = [t for ax in fig.axes for t in ax.texts]
        assert not any("…" in t.get_text() for t in _texts(fig))
        shown = {" ".join(t.get_text().replace("\u00a0", " ").split()) for t in texts}
        for r in runs[:n_runs]:
            assert set(table[r]) <= shown
        assert set(table["quantity"]) <= shown
        cells = [p.get_window_extent(renderer) for ax in fig.axes for p in ax.patches]
        for ax in fig.axes:
            for t in ax.texts:
                if t.get_position()[0] < 0 or t.get_position()[1] < 0:
                    continue  # a claim beside the grid, a run's name above it
                bb = t.get_window_extent(renderer)
                assert any(c.x0 <= bb.x0 and bb.x1 <= c.x1 and c.y0 <= bb.y0 and bb.y1 <= c.y1
                           for c in cells), t.get_text()
    finally:
        plt.close(fig)


# --------------------------------------------------------------------------- alt text from captions
_RST = """
.. figure:: a1b2c3.png

   **Paper Fig. 2 A-C.** Firing probability against
   the co-firing of the group.

.. figure:: d4e5f6.png
   :alt: chosen by the chapter

   A caption.

.. figure:: 0a0b0c.png

.. image:: 9f9f9f.png
"""


def test_captioned_figures_get_their_caption_as_alt_text():
    from docutils.core import publish_doctree
    from docutils import nodes

    tree = publish_doctree(_RST, settings_overrides={"report_level": 5})
    assert [i.get("alt") for i in tree.findall(nodes.image)] == [None, "chosen by the chapter", None, None]
    from conftest import book_extension

    assert book_extension("alt_text").caption_alt(tree) == 1
    assert [i.get("alt") for i in tree.findall(nodes.image)] == [
        "Paper Fig. 2 A-C. Firing probability against the co-firing of the group.",
        "chosen by the chapter", None, None]


def test_sphinx_writes_the_caption_into_the_img_alt(tmp_path):
    import re
    from pathlib import Path

    from sphinx.application import Sphinx

    src = tmp_path / "src"
    src.mkdir()
    ext = Path(__file__).resolve().parents[1] / "book" / "_ext"
    (src / "conf.py").write_text(f"import sys\nsys.path.insert(0, {str(ext)!r})\n"
                                 "extensions = ['alt_text']\n")
    (src / "index.rst").write_text("Page\n====\n" + _RST)
    for name in ("a1b2c3", "d4e5f6", "0a0b0c", "9f9f9f"):
        fig, _ = plt.subplots(figsize=(1, 1))
        fig.savefig(src / f"{name}.png")
        plt.close(fig)
    app = Sphinx(str(src), str(src), str(tmp_path / "out"), str(tmp_path / "doctrees"), "html",
                 status=None, warning=None, freshenv=True)
    app.build()
    html = (tmp_path / "out" / "index.html").read_text()
    alts = {name: alt for alt, name in re.findall(r'<img alt="([^"]*)" src="[^"]*?(\w+)\.png"', html)}
    assert len(alts) == 4, html
    assert alts["a1b2c3"] == "Paper Fig. 2 A-C. Firing probability against the co-firing of the group."
    assert alts["d4e5f6"] == "chosen by the chapter"
    assert alts["0a0b0c"].endswith("0a0b0c.png")  # no caption: Sphinx's default, the file name


def test_mango_table1_sets_this_run_beside_the_paper_by_name():
    from fclib.stats.mei import PAPER_TABLE1

    ours = pd.DataFrame({"act 1e2": [0.5, 0.7], "act 1e2 se": [0.1, 0.1], "time 1e2": [1.0, 2.0],
                         "calls": [100, 100]}, index=["TT", "NG"])
    t = ff.mango_table1(ours)
    assert list(dict.fromkeys(t.columns.get_level_values(0))) == ["this run", "MANGO paper"]
    assert t.loc["TT", ("this run", "act 1e2")] == 0.5
    assert t.loc["TT", ("MANGO paper", "act 1e2")] == PAPER_TABLE1.loc["TT", "act 1e2"]
    assert list(t.index[:2]) == ["TT", "NG"] and set(PAPER_TABLE1.index) <= set(t.index)
