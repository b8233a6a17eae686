"""The verdict grid of the scale comparison (chapter 16)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle

from fclib.figures._common import WIDTH_IN, styled

__all__ = ["fig_verdicts"]

VERDICTS = ("reproduced", "partly", "not reproduced", "—", "not built")
# colour-blind safe (Okabe-Ito): blue, yellow, vermillion; greys for no verdict / no run
_COLOURS = ("#0072B2", "#F0E442", "#D55E00", "#DDDDDD", "#FFFFFF")
_TEXT_ON = ("white", "black", "white", "black", "black")  # legible on each fill

_FONT_PT = 9            # every text of the grid: the style's body size, never below 8 pt
_LABEL_IN = 2.5         # the claims' column, at least
_MAX_LABEL_IN = 3.4
_MIN_CELL_IN = 1.15     # narrower cells would wrap a run's value onto too many lines
_MAX_CELL_IN = 1.9
_PAD_IN = 0.06          # inside a cell, on each side
_LINE_IN = 1.25 * _FONT_PT / 72
_GAP_IN = 0.3           # between two blocks of runs
_LEGEND_IN = 0.35


def _wrap(text: str, width_in: float, renderer, prop) -> list[str]:
    """``text`` broken at spaces into lines at most ``width_in`` wide when drawn in ``prop``
    (a word longer than the width is broken between characters); nothing is cut."""
    width = width_in * 72  # the Agg renderer measures in points at 72 dpi

    def fits(s):
        return renderer.get_text_width_height_descent(s, prop, ismath=False)[0] <= width

    lines = []
    text = str(text).replace(" %", "\u00a0%")  # a number keeps its unit on its line
    for para in text.split("\n"):
        line = ""
        for word in para.split(" "):
            trial = f"{line} {word}" if line else word
            if fits(trial):
                line = trial
                continue
            if line:
                lines.append(line)
            while len(word) > 1 and not fits(word):  # a word wider than the cell
                cut = max([1] + [i for i in range(1, len(word)) if fits(word[:i])])
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


@styled
def fig_verdicts(table: pd.DataFrame, runs) -> plt.Figure:
    """A grid of the verdicts of :func:`fclib.pipeline.scale.comparison_table`: one row per
    claim, one column per run, each cell coloured by its verdict and labelled with the run's
    value.

    Every text is 9 pt and whole: claims and values wrap onto as many lines as they need
    (a row is as high as its longest), none is cut. The figure keeps the column's width:
    where the runs do not fit side by side at a legible cell width, they are drawn in
    blocks of as many as fit, one under another, each with the claims beside it.
    """
    from matplotlib.backends.backend_agg import RendererAgg

    runs = list(runs)
    if not runs:
        raise ValueError("runs must name at least one column of the table")
    missing = [r for r in runs if f"{r}: verdict" not in table.columns]
    if missing:
        raise ValueError(f"the table has no verdict column for {missing}")
    verdict = table[[f"{r}: verdict" for r in runs]].replace({"not measured": "—"})
    code = np.vectorize(lambda v: VERDICTS.index(v) if v in VERDICTS else 3, otypes=[int])(
        verdict.to_numpy())
    per_block = max(1, min(len(runs), int((WIDTH_IN - _LABEL_IN) // _MIN_CELL_IN)))
    blocks = [list(range(i, min(i + per_block, len(runs)))) for i in range(0, len(runs), per_block)]
    cell_in = min(_MAX_CELL_IN, (WIDTH_IN - _LABEL_IN) / per_block)
    label_in = min(_MAX_LABEL_IN, WIDTH_IN - cell_in * per_block)  # what the cells leave

    renderer = RendererAgg(100, 100, 72)  # measures text in points
    prop = FontProperties(size=_FONT_PT)
    claims = [_wrap(q, label_in - 2 * _PAD_IN, renderer, prop) for q in table["quantity"]]
    cells = [[_wrap(table[r].iloc[i], cell_in - 2 * _PAD_IN, renderer, prop) for r in runs]
             for i in range(len(table))]
    heads = [_wrap(r, cell_in - 2 * _PAD_IN, renderer, prop) for r in runs]

    def row_heights(block):
        return [max([len(claims[i])] + [len(cells[i][j]) for j in block]) * _LINE_IN + 2 * _PAD_IN
                for i in range(len(table))]

    heights = [sum(row_heights(b)) for b in blocks]
    header = [max(len(heads[j]) for j in b) * _LINE_IN + 0.08 for b in blocks]  # runs' names
    fig_h = sum(header) + sum(heights) + _GAP_IN * (len(blocks) - 1) + _LEGEND_IN
    width = label_in + cell_in * per_block
    fig = plt.figure(figsize=(width, fig_h))
    top = fig_h
    for block, h, head in zip(blocks, heights, header):
        top -= head
        ax = fig.add_axes((label_in / width, (top - h) / fig_h, cell_in * len(block) / width,
                           h / fig_h))
        ax.set_xlim(0, len(block))
        ax.set_ylim(h, 0)
        ax.set_axis_off()
        y = 0.0
        for i, rh in enumerate(row_heights(block)):
            for jj, j in enumerate(block):
                c = int(code[i, j])
                ax.add_patch(Rectangle((jj, y), 1, rh, facecolor=_COLOURS[c], edgecolor="white",
                                       lw=1.0))
                ax.text(jj + 0.5, y + rh / 2, "\n".join(cells[i][j]), ha="center", va="center",
                        fontsize=_FONT_PT, color=_TEXT_ON[c], linespacing=1.1)
            ax.text(-_PAD_IN / cell_in, y + rh / 2, "\n".join(claims[i]), ha="right",
                    va="center", fontsize=_FONT_PT, linespacing=1.1)
            y += rh
        for jj, j in enumerate(block):
            ax.text(jj + 0.5, -0.04, "\n".join(heads[j]), ha="center", va="bottom",
                    fontsize=_FONT_PT, fontweight="bold")
        top -= h + _GAP_IN
    handles = [Rectangle((0, 0), 1, 1, facecolor=c, edgecolor="0.5") for c in _COLOURS]
    fig.legend(handles, ["reproduced", "partly", "not reproduced", "no verdict", "not built"],
               loc="lower center", bbox_to_anchor=(0.5, 0.0), ncols=5, frameon=False,
               fontsize=_FONT_PT - 1, handlelength=1.2, columnspacing=1.0)
    return fig
