"""Figure helpers shared by several chapters' figures, and the book's style.

Every figure of the book is drawn to fit the content column of the rendered page: at most
:data:`WIDTH_IN` inches wide at :data:`DPI` dots per inch (730 px; the notebook's PNG, cropped
to its content with a 0.1 in pad, ends up at most ~745 px), within the :data:`COLUMN_PX`
(756 px) that a figure's image gets in sphinx-book-theme 1.3 at a 1,400 px window. Measured in
headless Chromium on a one-page build: with its 15 px scrollbar the page is 1,385 px, the
primary sidebar takes 20 % (277 px), the secondary sidebar 17rem (272 px), leaving the article
836 px; less its padding of 2 x 2rem, 772 px; less the ``<figure>``'s padding of 2 x 8 px,
756 px. The browser then shows the PNG at its drawn size, so a point is 100/72 px and the
smallest text of the style (:data:`MIN_FONT_PT`, 8 pt) is 11 px high on the page.
"""
from __future__ import annotations

import functools
import textwrap
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

__all__ = ['book_style', 'styled', 'by_layer_pair', 'pair_scatter', 'COLUMN_PX', 'DPI',
           'WIDTH_IN', 'MIN_FONT_PT', 'OKABE_ITO', 'column_figsize', 'panel_grid',
           'series_styles', 'legend_beside', 'legend_above', 'no_data', 'no_data_figure',
           'box_ylim', 'axes_note', 'figure_note', 'bulk_range', 'wrap_labels',
           'figure_legend']

COLUMN_PX = 756       # a figure's image in sphinx-book-theme 1.3 at a 1,400 px window
DPI = 100             # figure.dpi of the style; the inline backend saves PNGs at fig.dpi
WIDTH_IN = 7.3        # the widest figure: 730 px, room for the 0.1 in pad of bbox "tight"
MIN_FONT_PT = 8       # no text of a figure is smaller (11 px on the page)
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000",
             "#F0E442")
_LINESTYLES = ("-", "--", ":", "-.")
_MARKERS = ("o", "s", "^", "D", "v")
# The Okabe-Ito colours in the order lines that must be told apart take them: the first four
# far apart in hue and lightness, bluish green and sky blue (hard to tell from blue on a thin
# line) last, orange and vermillion apart; yellow, too faint for a line on white, left out.
_DISTINCT = ("#0072B2", "#E69F00", "#CC79A7", "#000000", "#D55E00", "#009E73", "#56B4E9")
_STYLE_FILE = Path(__file__).with_name("book.mplstyle")


def book_style() -> dict:
    """The book's matplotlib style as rc parameters: seaborn's "ticks" axes under the rc
    of ``book.mplstyle`` beside this module (100 dpi, 8-9.5 pt text, the Okabe-Ito colour
    cycle). Figure functions draw inside ``plt.rc_context(book_style())``; nothing is
    changed globally."""
    return {**sns.axes_style("ticks"), **_style_file()}


@functools.lru_cache(maxsize=1)
def _style_file() -> dict:
    return dict(mpl.rc_params_from_file(str(_STYLE_FILE), use_default_template=False))


def styled(func):
    """Decorator: draw ``func``'s figure in the book's style without touching global state."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with plt.rc_context(book_style()):
            return func(*args, **kwargs)
    return wrapper


def column_figsize(height: float, fraction: float = 1.0) -> tuple[float, float]:
    """``(width, height)`` in inches of a figure ``fraction`` of the column wide."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    return (WIDTH_IN * fraction, height)


def panel_grid(n: int, max_cols: int = 4, panel_height: float = 2.4,
               min_panel_width: float = 1.8) -> tuple[int, int, tuple[float, float]]:
    """Rows, columns and figsize of a grid of ``n`` panels at the column's width: at most
    ``max_cols`` columns and as many as fit ``min_panel_width`` inches each."""
    ncols = max(1, min(n, max_cols, int(WIDTH_IN // min_panel_width)))
    nrows = max(1, int(np.ceil(n / ncols)))
    return nrows, ncols, (WIDTH_IN, panel_height * nrows)


def series_styles(n: int, ordered: bool = False, distinct: bool = False) -> list[dict]:
    """Colour (and line style) of ``n`` lines that share an axis, as ``plot`` keywords.

    Unordered series take the Okabe-Ito colours; ordered ones (layers by depth) a viridis
    ramp. Where more than 6 lines share the axes, consecutive lines also differ in line style
    (solid, dashed, dotted, dash-dot), so neighbours never differ by a shade alone.

    ``distinct=True`` is for lines a reader must tell apart one by one (conditions, layer
    pairs named in a legend): every line gets an Okabe-Ito colour in an order that keeps
    similar colours apart, its own line style and its own marker (the keywords then include
    ``marker``), so that any two of up to 7 lines differ in colour, and any two of up to 20
    in line style and marker together; ``ordered`` is then ignored.
    """
    if distinct:
        return [{"color": _DISTINCT[i % len(_DISTINCT)], "ls": _LINESTYLES[i % 4],
                 "marker": _MARKERS[i % len(_MARKERS)]} for i in range(n)]
    if ordered:
        colours = [mpl.colors.to_hex(c) for c in plt.get_cmap("viridis")(np.linspace(0, 0.9, max(n, 1)))]
    else:
        colours = [OKABE_ITO[i % 7] for i in range(n)]
    return [{"color": colours[i], "ls": _LINESTYLES[i % 4] if n > 6 else "-"} for i in range(n)]


def legend_beside(ax, **kwargs):
    """The axes' legend to the right of the axes, outside the data (``tight_layout`` and
    constrained layout make room for it)."""
    kwargs = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0,
              **kwargs}
    return ax.legend(**kwargs)


def legend_above(ax, handles=None, labels=None, ncols: int | None = None, **kwargs):
    """A legend above the axes, outside the data, in ``ncols`` columns (by default as many
    as there are entries, up to 4)."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    ncols = ncols or max(1, min(4, len(handles)))
    kwargs = {"loc": "lower left", "bbox_to_anchor": (0.0, 1.02), "borderaxespad": 0.0,
              "ncols": ncols, **kwargs}
    return ax.legend(handles, labels, **kwargs)


def no_data(ax, why: str, width: int = 28) -> None:
    """Leave a panel that has nothing to show empty but for a sentence saying why (wrapped
    at ``width`` characters)."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, "\n".join(textwrap.wrap(f"nothing to show: {why}", width)), ha="center",
            va="center", transform=ax.transAxes, fontsize=MIN_FONT_PT + 1, color="0.3")


@styled
def no_data_figure(why: str) -> plt.Figure:
    """A figure with nothing to show: no axes drawn, only the sentence of :func:`no_data`
    saying why, at the column's width and as high as its lines."""
    lines = len(textwrap.wrap(f"nothing to show: {why}", _NO_DATA_LINE))
    fig, ax = plt.subplots(figsize=column_figsize(0.2 + 0.2 * lines))
    no_data(ax, why, width=_NO_DATA_LINE)
    return fig


_NO_DATA_LINE = 95  # characters of 9 pt text in a line of the column (about 6.5 px each)


def axes_note(ax, text: str, width: int = 90):
    """A short grey note just above the axes, left-aligned and wrapped at ``width``
    characters (where an axis is cut, how many values lie beyond it); ``tight_layout`` and
    constrained layout make room for it. A second note on the same axes joins the first."""
    for t in ax.texts:
        if t.get_gid() == "axes_note":
            text = t.get_text().replace("\n", " ") + "; " + text
            t.set_text("\n".join(textwrap.wrap(text, width)) or text)
            return t
    return ax.text(0.0, 1.0, "\n".join(textwrap.wrap(text, width)) or text,
                   transform=ax.transAxes, ha="left", va="bottom", fontsize=MIN_FONT_PT,
                   color="0.3", gid="axes_note")


def figure_note(fig, text: str, width: int = 110):
    """A short grey note under all panels of ``fig``, wrapped at ``width`` characters (the
    figure's ``supxlabel``: constrained layout and ``tight_layout`` make room for it below the
    axes' labels): what a figure leaves out or cuts, said once for all panels."""
    return fig.supxlabel("\n".join(textwrap.wrap(text, width)) or text,
                         fontsize=MIN_FONT_PT, color="0.3")


def bulk_range(values, quantile: float = 0.99, include=(), spread: float = 0.5
               ) -> tuple[float, float]:
    """``(lo, hi)``: an axis range for the bulk of ``values`` (NaN and infinities ignored).

    It starts from the central ``quantile`` share of the values (from the ``1 - quantile``
    to the ``quantile`` quantile), widened to contain every value of ``include`` (reference
    lines, thresholds), and then follows the values on each side for as long as no gap
    between neighbours is wider than ``spread`` times that span: a tail that continues is
    kept whole, values far beyond the bulk (the exploding z of nearly silent pairs, however
    many) fall outside. Values outside are for the figure to draw at the edge and count in
    a note.
    """
    v = np.sort(np.asarray(values, dtype=float).ravel())
    v = v[np.isfinite(v)]
    inc = [float(x) for x in include if np.isfinite(x)]
    if not v.size:
        return (min(inc), max(inc)) if inc else (0.0, 1.0)
    lo, hi = np.quantile(v, [1 - quantile, quantile]) if quantile < 1 else (v[0], v[-1])
    lo, hi = min([lo] + inc), max([hi] + inc)
    step = spread * max(hi - lo, 1e-12)

    def follow(edge, beyond):  # beyond: the values past the edge, nearest first
        gaps = np.abs(np.diff(np.r_[edge, beyond]))
        n = int(np.argmax(gaps > step)) if (gaps > step).any() else beyond.size
        return beyond[n - 1] if n else edge

    hi = follow(hi, v[v > hi])
    lo = follow(lo, v[v < lo][::-1])
    return float(lo), float(hi)


def box_ylim(ax, data, floor: float | None = None, ceiling: float | None = None,
             whis: float = 1.5, axis: str = "y") -> None:
    """Set the value range (the ``axis`` of the boxes' values) of box plots of ``data`` (a
    list of arrays) to contain every box and whisker; where whiskers pass ``floor`` (or
    ``ceiling``) the axis is cut there, but never inside a box, and a note above the axes
    says where and how far the whiskers reach."""
    lo, hi, q_lo, q_hi = [], [], [], []
    for v in data:
        v = np.asarray(v, dtype=float)
        v = v[np.isfinite(v)]
        if not v.size:
            continue
        q1, q3 = np.percentile(v, [25, 75])
        iqr = q3 - q1
        lo.append(v[v >= q1 - whis * iqr].min())
        hi.append(v[v <= q3 + whis * iqr].max())
        q_lo.append(q1)
        q_hi.append(q3)
    if not lo:
        return
    w_lo, w_hi = min(lo), max(hi)
    bottom = w_lo if floor is None or w_lo >= floor else min(floor, min(q_lo))
    top = w_hi if ceiling is None or w_hi <= ceiling else max(ceiling, max(q_hi))
    pad = 0.04 * max(top - bottom, 1e-9)
    (ax.set_ylim if axis == "y" else ax.set_xlim)(bottom - pad, top + pad)
    notes = []
    if w_lo < bottom:
        notes.append(f"axis cut at {bottom:.3g}; whiskers reach {w_lo:.3g}")
    if w_hi > top:
        notes.append(f"axis cut at {top:.3g}; whiskers reach {w_hi:.3g}")
    if notes:
        axes_note(ax, "; ".join(notes))


def wrap_labels(labels, width: int = 12) -> list[str]:
    """Tick labels wrapped onto lines of at most ``width`` characters."""
    return ["\n".join(textwrap.wrap(str(s), width)) or str(s) for s in labels]


def figure_legend(fig, handles=None, labels=None, ncols: int | None = None, **kwargs):
    """One legend for all panels, above them, outside the data; ``fig`` must use constrained
    layout (``plt.subplots(..., layout="constrained")``), which makes room for it. Handles
    default to those of every axes, one per label."""
    if handles is None:
        seen = {}
        for ax in fig.axes:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                seen.setdefault(lab, h)
        handles, labels = list(seen.values()), list(seen)
    if not handles:
        return None
    ncols = ncols or max(1, min(4, len(handles)))
    return fig.legend(handles, labels, loc="outside upper center", ncols=ncols, **kwargs)


# --------------------------------------------------------------------------- response functions
def response_points(ds, neuron, batch=None, min_frames=1):
    """The points of one neuron's response curve in a response Dataset: co-firing values
    ``k`` seen in at least ``min_frames`` frames (of image batch ``batch``, or of all), the
    firing probability ``n_fire / n_frames`` at each, the frames behind each, and the
    neuron's slice of ``ds``. Returns ``(k, p, n_frames, selection)``."""
    sel = ds.sel(neuron=neuron)
    nf = (sel["batch_n_frames"].isel(batch=batch) if batch is not None else sel["n_frames"]).values
    fire = (sel["batch_n_fire"].isel(batch=batch) if batch is not None else sel["n_fire"]).values
    k = ds["cofiring"].values
    ok = nf >= max(min_frames, 1)
    return k[ok], fire[ok] / nf[ok], nf[ok], sel


@styled
def by_layer_pair(table: pd.DataFrame, column: str, ylabel: str, *, band=None,
                  hline=None, log: bool = False, floor: float | None = None,
                  ceiling: float | None = None, by: str = "layer pair",
                  xlabel: str = "source → target layer") -> plt.Figure:
    """Distribution of one per-neuron property across layer pairs (box plots).

    ``by`` names a categorical column (its categories in order give the boxes);
    ``band=(lo, hi)`` shades the paper's range; ``hline`` draws a reference line. The y axis
    contains every box and whisker; where whiskers pass ``floor`` or ``ceiling`` it is cut
    there (never inside a box) and a note says so (:func:`box_ylim`).
    """
    fig, ax = plt.subplots(figsize=column_figsize(3.0))
    names = list(table[by].cat.categories)
    data = []
    for name in names:
        v = table.loc[table[by] == name, column].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        data.append(v if v.size else np.array([np.nan]))
    if band is not None:
        ax.axhspan(*band, color=OKABE_ITO[1], alpha=0.2, lw=0, label="paper's range")
    if hline is not None:
        ax.axhline(hline, color=OKABE_ITO[3], ls="--", lw=0.8)
    ax.boxplot(data, positions=range(len(names)), widths=0.6, showfliers=False,
               medianprops=dict(color="k"))
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    if log:
        ax.set_yscale("log")
    else:
        box_ylim(ax, data, floor, ceiling)
        lo, hi = ax.get_ylim()  # the reference line and the paper's range stay in view
        refs = [v for v in ([hline] if hline is not None else []) + list(band or [])]
        if refs:
            pad = 0.04 * (max(hi, *refs) - min(lo, *refs))
            ax.set_ylim(min(lo, min(refs) - pad), max(hi, max(refs) + pad))
    ax.set(ylabel=ylabel, xlabel=xlabel)
    if band is not None:
        legend_beside(ax)
    sns.despine(fig)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- information, semantics
@styled
def pair_scatter(table: pd.DataFrame, x: str, y: str, xlabel: str, ylabel: str, *,
                 highlight: str | None = None, logx: bool = False, by: str = "layer pair",
                 ncols: int = 4) -> plt.Figure:
    """One scatter panel per layer pair (the categories of ``by``); ``highlight`` names a
    boolean column drawn in vermillion on top. Panel titles give Spearman's rho."""
    from scipy.stats import spearmanr

    names = list(table[by].cat.categories)
    nrows, ncols, size = panel_grid(len(names), ncols, 2.2)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, sharey=True,
                             layout="constrained")
    for ax, name in zip(axes.flat, names):
        d = table[table[by] == name]
        if d.empty:
            ax.set_title(name)
            no_data(ax, "no neuron of this layer pair")
            continue
        ax.scatter(d[x], d[y], s=5, alpha=0.5, lw=0, color=OKABE_ITO[0])
        if highlight is not None:
            h = d[d[highlight].astype(bool)]
            ax.scatter(h[x], h[y], s=8, color=OKABE_ITO[3], lw=0, label=highlight)
        rho = spearmanr(d[x], d[y], nan_policy="omit").statistic if len(d) > 2 else np.nan
        ax.set_title(f"{name}: ρ = {rho:.2f}")
        if logx:
            ax.set_xscale("log")
    for ax in axes.flat[len(names):]:
        ax.remove()
    for ax in axes.flat[:len(names)]:
        if ax.get_subplotspec().is_last_row() or ax.get_subplotspec().rowspan.stop == nrows - 1:
            ax.set_xlabel(xlabel)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    if highlight is not None:
        figure_legend(fig)
    sns.despine(fig)
    return fig
