"""Figures a reader explores: Plotly figures that work in the book's static HTML, no kernel.

Each function takes the objects a chapter has already computed, selects from them and draws;
it computes nothing the chapter reports. Every choice a reader can make is a Plotly control
(a dropdown or a slider) whose steps carry the data they show, so the figure works in a page
without a kernel and live in Jupyter alike; the embedded data stay small (a seeded sample of
neurons, histograms binned here).

- :func:`fig_explore_response`: pick a layer pair (dropdown) and a target neuron (slider over a
  seeded sample, ordered by group size): its response function (chapter 3), the ReLU fit, the
  start of the strong regime (chapter 4) and its preferred class (chapter 7).
- :func:`fig_explore_connectivity`: pick a layer pair: its STTC and z distributions with the z
  threshold, and the degree histogram (chapter 2).

A figure is a ``plotly.graph_objects.Figure`` (shown as is in Jupyter); :func:`embed` turns it
into a self-contained HTML output for a book page. Jupyter Book renders an output's
``text/html`` as it is, so the page needs plotly.js: ``include_plotlyjs=True`` writes the
bundled plotly.js (~4.8 MB) into the output, and the page loads nothing from the network.
plotly.js sets ``window.Plotly`` whether or not require.js is on the page, so no
``html_js_files`` entry is needed. A page with two figures embeds it in the first only
(``include_plotlyjs=False`` in the second).
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import xarray as xr
from plotly.subplots import make_subplots

from fclib._util import as_generator
from fclib.stats.connectivity import degree
from fclib.stats.response import response_curve

__all__ = ["fig_explore_response", "fig_explore_connectivity", "to_html", "embed", "PALETTE"]

# Okabe & Ito's colour-blind safe palette
PALETTE = {"blue": "#0072B2", "orange": "#E69F00", "vermillion": "#D55E00",
           "green": "#009E73", "sky": "#56B4E9", "grey": "#7f7f7f", "black": "#000000"}
_FONT = dict(family="Helvetica, Arial, sans-serif", size=14)
_CONFIG = {"displaylogo": False, "responsive": True,
           "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def _r(values, digits: int = 4) -> list:
    """Plain, rounded floats for the JSON a control carries (NaN -> None: a gap)."""
    v = np.round(np.asarray(values, dtype=float), digits)
    return [None if not np.isfinite(x) else float(x) for x in v]


def _layout(fig: go.Figure, height: int) -> None:
    fig.update_layout(template="simple_white", font=_FONT, height=height, autosize=True,
                      margin=dict(l=70, r=30, t=110, b=40), hoverlabel=dict(font_size=13))


# --------------------------------------------------------------------------- response function
def _neuron_view(ds: xr.Dataset, p: xr.DataArray, n: int, preferred,
                 class_names) -> tuple[dict, dict]:
    """What one neuron's step changes: the three traces' data (points, ReLU fit, strong-regime
    onset) and its properties box: ``(restyle dict for traces [0, 1, 2], layout update)``."""
    row = ds.sel(neuron=n)
    nf = row["n_frames"].values
    y = p.sel(neuron=n).values
    ok = np.isfinite(y)
    kk = ds["cofiring"].values
    k = kk[ok]
    slope, theta = float(row["relu_slope"]), float(row["relu_threshold"])
    k_sat = float(row["saturation_cofiring"]) if "saturation_cofiring" in row else np.nan
    k_end = min(k.max(initial=0), k_sat) if np.isfinite(k_sat) else k.max(initial=0)
    k0 = k.min(initial=0)
    if np.isfinite(slope) and np.isfinite(theta) and k.size:
        fx = np.unique(np.clip([k0, theta, k_end], k0, k_end))
        fy = slope * np.maximum(0.0, fx - theta)
    else:
        fx = fy = np.array([])
    onset = float(row["intersection"]) if "intersection" in row else np.nan
    # the onset line spans the drawn data (the y axis fits each neuron's curve)
    top = max(np.nanmax(y[ok], initial=0.0), np.max(fy, initial=0.0), 0.05)
    ox, oy = ([onset, onset], [0.0, top]) if np.isfinite(onset) else ([], [])
    # the points on the co-firing grid k0, k0 + 1, ... (x0, no x: the x values cost nothing);
    # a value seen in fewer than min_frames frames is a null (not drawn)
    span = slice(*(np.flatnonzero(ok)[[0, -1]] + [0, 1])) if ok.any() else slice(0, 0)
    area = np.where(ok, 5 + np.rint(11 * np.sqrt(nf / max(nf[ok].max(initial=1), 1))), 0)
    data = {"x": [None, _r(fx), _r(ox)], "x0": [int(k0), None, None],
            "y": [_r(y[span], 3), _r(fy), _r(oy)],
            "marker.size": [[int(v) for v in area[span]], None, None]}
    deg = int(row["degree"])
    parts = [f"group size N = {deg}"]
    if preferred is not None:
        c = int(preferred[n])
        name = class_names[c] if class_names is not None and c < len(class_names) else str(c)
        parts.append(f"preferred class: {name}")
    r2 = float(row["relu_r2"])
    fit = f"ReLU R² = {r2:.2f}" if np.isfinite(r2) else "no ReLU fit"
    if "selected" in row and "r2_min" in ds.attrs:  # the paper's selection (select_fits)
        r2_min = float(ds.attrs["r2_min"])
        fit += (f" (selected, R² > {r2_min:g})" if bool(row["selected"])
                else f" (not selected: needs R² > {r2_min:g})")
    parts.append(fit)
    if np.isfinite(onset):
        frac = float(row["intersection_fraction"]) if "intersection_fraction" in row else np.nan
        strong = float(row["strong_fraction"]) if "strong_fraction" in row else np.nan
        parts.append(f"strong regime from k = {onset:.1f} ({100 * frac:.0f} % of N; "
                     f"{100 * strong:.1f} % of frames beyond it)")
    else:
        parts.append("no strong-regime onset (no steeper second line)")
    lines = [" · ".join([f"<b>target neuron {n}</b>", *parts[:-2]]), " · ".join(parts[-2:])]
    return data, {"annotations[0].text": "<br>".join(lines)}


def fig_explore_response(responses: dict, preferred: dict | None = None, *, class_names=None,
                     n_neurons: int = 50, rng=0, height: int = 600) -> go.Figure:
    """Pick a layer pair and a target neuron: its response function with the ReLU fit, the
    start of its strong regime, its group size and preferred class.

    Parameters
    ----------
    responses : ``{layer pair: Dataset}`` as :meth:`fclib.pipeline.Run.responses` returns
        (:func:`fclib.stats.response.response_dataset`): ``n_frames``, ``n_fire`` over
        ``(neuron, cofiring)``, ``relu_slope``, ``relu_threshold``, ``relu_r2``,
        ``intersection`` (the two-line fit's onset of the strong regime) and optionally
        ``intersection_fraction``, ``strong_fraction``, ``saturation_cofiring`` over
        ``neuron``, a ``degree`` coordinate and a ``min_frames`` attribute.
    preferred : optional ``{layer pair: DataArray}`` of each target's preferred class over
        ``neuron`` (``Run.information(target)["preferred"]``,
        :func:`fclib.stats.information.information`).
    class_names : names of the classes (else their indices).
    n_neurons : neurons per layer pair, drawn without replacement by ``rng`` among those with
        a ReLU fit, then ordered by group size; every neuron when fewer. A layer pair with
        no fitted neuron gets no button.
    rng : seed or ``numpy.random.Generator``.

    Returns
    -------
    A Plotly figure with three traces (points: firing probability ``p(k)`` at co-firing
    values seen in at least ``min_frames`` frames, marker size growing with the frames,
    given as ``x0`` and ``y`` with nulls for values seen in fewer frames; the
    ReLU fit, drawn up to the saturation point where the fit stops; the onset as a dashed
    line), a dropdown with one button per layer pair and a slider with one step per sampled
    neuron. Each step restyles the three traces with its neuron's data.
    """
    if not responses:
        raise ValueError("responses is empty: pass {layer pair: Run.response(...)}")
    gen = as_generator(rng)
    views, notes, min_frames = {}, {}, {}
    for pair, ds in responses.items():
        missing = [v for v in ("n_frames", "n_fire", "relu_slope", "relu_threshold", "relu_r2",
                               "intersection") if v not in ds]
        if missing or "degree" not in ds.coords:
            raise ValueError(f"responses[{pair!r}] lacks {missing or ['the degree coordinate']}: "
                             "pass the Datasets of Run.response / response_dataset")
        if not np.array_equal(ds["cofiring"].values, np.arange(ds.sizes["cofiring"])):
            raise ValueError(f"responses[{pair!r}]: cofiring must be 0, 1, 2, ... as "
                             "response_counts makes it")
        fitted = ds["neuron"].values[np.isfinite(ds["relu_r2"].values)]
        if fitted.size == 0:
            continue  # nothing to show: the pair gets no button
        pick = gen.choice(fitted, min(int(n_neurons), fitted.size), replace=False)
        deg = ds["degree"].sel(neuron=pick).values
        pick = pick[np.lexsort((pick, deg))]
        min_frames[pair] = int(ds.attrs.get("min_frames", 10))
        p = response_curve(ds[["n_frames", "n_fire"]].sel(neuron=pick), min_frames[pair])
        pref = None
        if preferred is not None:
            if pair not in preferred:
                raise ValueError(f"preferred has no entry for {pair!r}: pass {{layer pair: "
                                 "Run.information(target layer)['preferred']}} for every pair")
            pr = preferred[pair]
            pr = pr["preferred"] if isinstance(pr, xr.Dataset) else pr
            pref = dict(zip(pick.tolist(), np.asarray(pr.sel(neuron=pick).values).tolist()))
        notes[pair] = (f"{pick.size} of its {fitted.size:,} target neurons with a ReLU fit, "
                       "sampled at random" if pick.size < fitted.size
                       else f"all {fitted.size:,} target neurons with a ReLU fit")
        views[pair] = [(int(n), int(d), *_neuron_view(ds, p, n, pref, class_names))
                       for n, d in zip(pick.tolist(), ds["degree"].sel(neuron=pick).values)]
    if not views:
        raise ValueError("no layer pair has a neuron with a ReLU fit: nothing to explore")

    t_px, b_px = 125, 185  # margins: title and the neuron's text above, controls below
    plot_px = max(height - t_px - b_px, 100)

    def below(px):  # paper y of a point px pixels below the plot area
        return -px / plot_px

    def slider(pair):
        steps = [{"method": "update", "label": f"{n} (N = {d})",
                  "args": [data, layout, [0, 1, 2]]}
                 for n, d, data, layout in views[pair]]
        return {"active": 0, "steps": steps, "len": 0.8, "x": 0.2, "y": below(100),
                "yanchor": "top", "pad": {"t": 25, "l": 0}, "ticklen": 0, "minorticklen": 0,
                # one label per step would overlap: the labels are hidden, the current one shown
                "font": {"color": "rgba(0,0,0,0)", "size": 1},
                "currentvalue": {"prefix": "target neuron ", "xanchor": "left",
                                 "font": {"size": 13, "color": "#222222"}}}

    def title(pair):
        return (f"<b>{pair}</b>: a target neuron's response to its 1FC group's co-firing"
                f"<br><span style='font-size:13px'>{notes[pair]}, ordered by group size N"
                "</span>")

    def names(pair):
        return [f"firing probability (k seen in ≥ {min_frames[pair]} frames; larger: more)",
                "ReLU fit", "strong regime starts (two-line fit)"]

    first = next(iter(views))
    _, _, data0, layout0 = views[first][0]
    name0 = names(first)
    fig = go.Figure([
        go.Scatter(x0=data0["x0"][0], dx=1, y=data0["y"][0], mode="markers", name=name0[0],
                   hovertemplate="k = %{x}<br>p = %{y:.3f}<extra></extra>",
                   marker=dict(color=PALETTE["blue"], size=data0["marker.size"][0],
                               line=dict(width=0))),
        go.Scatter(x=data0["x"][1], y=data0["y"][1], mode="lines", name=name0[1],
                   line=dict(color=PALETTE["vermillion"], width=2.5), hoverinfo="skip"),
        go.Scatter(x=data0["x"][2], y=data0["y"][2], mode="lines", name=name0[2],
                   line=dict(color=PALETTE["black"], width=1.5, dash="dash"), hoverinfo="skip"),
    ])
    _layout(fig, height)
    buttons = [{"method": "update", "label": pair,
                "args": [{**views[pair][0][2], "name": names(pair)},
                         {**views[pair][0][3], "title.text": title(pair),
                          "sliders": [slider(pair)]}, [0, 1, 2]]}
               for pair in views]
    fig.update_layout(
        title=dict(text=title(first), x=0, xref="paper", xanchor="left", y=1, yref="container",
                   yanchor="top", pad=dict(t=24), font_size=15),
        xaxis=dict(title="co-firing k (group members firing in the frame)", rangemode="tozero"),
        yaxis=dict(title="firing probability", rangemode="tozero"),
        legend=dict(orientation="h", x=0, xanchor="left", y=below(62), yanchor="top",
                    font_size=13),
        updatemenus=[{"buttons": buttons, "active": 0, "direction": "up", "x": 0,
                      "xanchor": "left", "y": below(120), "yanchor": "top", "showactive": True,
                      "pad": {"t": 0, "b": 0}}],
        sliders=[slider(first)], margin=dict(t=t_px, b=b_px))
    # annotations[0]: the neuron's properties, above the data
    fig.add_annotation(text=layout0["annotations[0].text"], x=0, xref="paper", y=1.02,
                       yref="paper", xanchor="left", yanchor="bottom", align="left",
                       showarrow=False, font_size=13)
    fig.add_annotation(text="layer pair", x=0, xref="paper", y=below(97), yref="paper",
                       yanchor="top", showarrow=False, xanchor="left", font_size=13)
    return fig


# --------------------------------------------------------------------------- connectivity
def _hist(values: np.ndarray, edges: np.ndarray) -> tuple[list, list, list]:
    counts, _ = np.histogram(values, edges)
    return _r((edges[1:] + edges[:-1]) / 2, 6), _r(np.diff(edges), 6), [int(c) for c in counts]


def _edges(pooled: list[np.ndarray], n_bins: int) -> np.ndarray:
    lo = min((float(v.min()) for v in pooled if v.size), default=0.0)
    hi = max((float(v.max()) for v in pooled if v.size), default=1.0)
    return np.linspace(lo, hi if hi > lo else lo + 1.0, n_bins + 1)


_NULLS = {"exact": "the exact circular null", "shifts": "random circular shifts",
          "stimulus": "the stimulus-preserving null"}


def fig_explore_connectivity(results: dict, threshold: float = 4.0, degrees: dict | None = None, *,
                         n_bins: int = 60, height: int = 460) -> go.Figure:
    """Pick a layer pair: the distributions of STTC and z over its active pairs and the
    histogram of its targets' degree of connectivity (1FC group sizes).

    Parameters
    ----------
    results : ``{layer pair: Dataset}`` with ``sttc`` and ``z`` over ``(target, source)``, as
        :meth:`fclib.pipeline.Run.pairs` returns
        (:func:`fclib.stats.connectivity.pair_significance`).
    threshold : the z threshold of significance, drawn on the z panel.
    degrees : optional ``{layer pair: degree of every target}`` already computed
        (:func:`fclib.stats.connectivity.degree`); else computed with it.
    n_bins : bins of the STTC and z histograms, the same edges for every layer pair (so the
        pairs compare at a glance); the degree histogram has integer bins, merged to at most
        ``n_bins``.

    Returns
    -------
    A Plotly figure of three panels with three bar traces per layer pair (STTC, z, degree;
    pair ``i`` owns traces ``3i .. 3i + 2``, the first pair's visible), and a dropdown with one
    button per layer pair that shows its traces. Counts are on log axes; non-finite STTC or z
    (pairs with no spike to compare) are left out and counted in the title.
    """
    if not results:
        raise ValueError("results is empty: pass {layer pair: Run.pairs(source, target)}")
    names = list(results)
    sttc, zs, degs, dropped = {}, {}, {}, {}
    for k, ds in results.items():
        if "sttc" not in ds or "z" not in ds:
            raise ValueError(f"results[{k!r}] needs sttc and z over (target, source); got "
                             f"{sorted(ds.data_vars)}")
        s, z = ds["sttc"].values.ravel(), ds["z"].values.ravel()
        ok = np.isfinite(s) & np.isfinite(z)
        sttc[k], zs[k], dropped[k] = s[ok], z[ok], int((~ok).sum())
        d = degrees[k] if degrees is not None else degree(ds["z"], ds["sttc"], threshold)
        degs[k] = np.asarray(d).ravel()
    e_s, e_z = _edges(list(sttc.values()), n_bins), _edges(list(zs.values()), n_bins)
    dmax = max((int(d.max()) for d in degs.values() if d.size), default=0)
    w = max(1, int(np.ceil((dmax + 1) / n_bins)))
    e_d = np.arange(0, dmax + w + 1, w) - 0.5

    method = str(next(iter(results.values())).attrs.get("method", ""))
    null = _NULLS.get(method, f"{method} null" if method else "its null")
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.08,
                        subplot_titles=("STTC of active pairs", f"z against {null}",
                                        f"degree: sources with z > {threshold:g}"))
    titles = {}
    for i, k in enumerate(names):
        for col, (vals, edges, color, what) in enumerate(
                [(sttc[k], e_s, PALETTE["blue"], "STTC"), (zs[k], e_z, PALETTE["orange"], "z"),
                 (degs[k], e_d, PALETTE["green"], "degree")], start=1):
            x, width, y = _hist(vals, edges)
            unit = "targets" if what == "degree" else "pairs"
            fig.add_trace(go.Bar(x=x, y=y, width=width, marker=dict(color=color, line_width=0),
                                 name=f"{k}: {what}", visible=i == 0, showlegend=False,
                                 hovertemplate=(f"{what} %{{x:.3g}}: %{{y:,}} {unit}"
                                                f"<extra>{k}</extra>")),
                          row=1, col=col)
        note = f", {dropped[k]:,} with no STTC left out" if dropped[k] else ""
        titles[k] = (f"<b>{k}</b>: {sttc[k].size:,} active (target, source) pairs{note}, "
                     f"{degs[k].size:,} targets")
    fig.add_vline(x=threshold, line=dict(color=PALETTE["black"], dash="dash", width=1.5),
                  row=1, col=2, annotation_text=f"z = {threshold:g}",
                  annotation_position="top right")
    _layout(fig, height)
    for col, counts in enumerate(([t.y for t in fig.data[0::3]], [t.y for t in fig.data[1::3]],
                                  [t.y for t in fig.data[2::3]]), start=1):
        top = max((max(c, default=0) for c in counts), default=0)
        # ticks at every power of ten, or at 1, 2, 5 x powers of ten over few decades
        fig.update_yaxes(type="log", dtick=1 if top > 1000 else "D2", row=1, col=col)
    fig.update_yaxes(title_text="count (log)", row=1, col=1)
    fig.update_xaxes(title_text="STTC", row=1, col=1)
    fig.update_xaxes(title_text="z", row=1, col=2)
    fig.update_xaxes(title_text="1FC group size", row=1, col=3)
    buttons = []
    for i, k in enumerate(names):
        vis = [j // 3 == i for j in range(3 * len(names))]
        buttons.append({"method": "update", "label": k,
                        "args": [{"visible": vis}, {"title.text": titles[k]}]})
    fig.update_layout(
        title=dict(text=titles[names[0]], x=0.01, xanchor="left", font_size=14),
        bargap=0, margin=dict(t=120),
        updatemenus=[{"buttons": buttons, "active": 0, "direction": "down", "x": 1.0,
                      "xanchor": "right", "y": 1.32, "yanchor": "top", "showactive": True}])
    return fig


# --------------------------------------------------------------------------- the page
def to_html(fig: go.Figure, *, include_plotlyjs: bool = True, div_id: str | None = None) -> str:
    """The figure as an HTML fragment for a page: its div, its data and, with
    ``include_plotlyjs=True``, the bundled plotly.js inline (never a CDN link); the
    figure fills the width of the page's column. ``div_id`` fixes the element id (else random)."""
    if include_plotlyjs not in (True, False):
        raise ValueError("include_plotlyjs must be True (embed plotly.js) or False (a figure "
                         f"after the first on its page), got {include_plotlyjs!r}: the book is "
                         "read offline, so plotly.js is never loaded from a URL")
    return fig.to_html(full_html=False, include_plotlyjs=include_plotlyjs, div_id=div_id,
                       config=_CONFIG, default_width="100%",
                       default_height=f"{fig.layout.height or 500}px")


def embed(fig: go.Figure, *, include_plotlyjs: bool = True, div_id: str | None = None):
    """:func:`to_html` as a displayable output (``IPython.display.HTML``): interactive in the
    book's static HTML and live in Jupyter, with no kernel needed once drawn."""
    from IPython.display import HTML

    return HTML(to_html(fig, include_plotlyjs=include_plotlyjs, div_id=div_id))
