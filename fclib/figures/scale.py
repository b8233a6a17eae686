"""The verdict grid of the scale comparison (chapter 16)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap

from fclib.figures._common import WIDTH_IN, styled, wrap_labels

__all__ = ["fig_verdicts"]

VERDICTS = ("reproduced", "partly", "not reproduced", "—", "not built")
# colour-blind safe (Okabe-Ito): blue, yellow, vermillion; greys for no verdict / no run
_COLOURS = ("#0072B2", "#F0E442", "#D55E00", "#DDDDDD", "#FFFFFF")


@styled
def fig_verdicts(table: pd.DataFrame, runs) -> plt.Figure:
    """A grid of the verdicts of :func:`fclib.pipeline.scale.comparison_table`: one row per
    claim, one column per run, each cell coloured by its verdict and labelled with the run's
    value."""
    runs = list(runs)
    if not runs:
        raise ValueError("runs must name at least one column of the table")
    missing = [r for r in runs if f"{r}: verdict" not in table.columns]
    if missing:
        raise ValueError(f"the table has no verdict column for {missing}")
    verdict = table[[f"{r}: verdict" for r in runs]].replace({"not measured": "—"})
    code = np.vectorize(lambda v: VERDICTS.index(v) if v in VERDICTS else 3)(verdict.to_numpy())
    label_in = 2.6                                  # claims, wrapped on two lines of 8 pt
    cell_in = min(2.4, (WIDTH_IN - label_in) / len(runs))
    chars = max(8, int(cell_in * 100 / 5.8))         # 8 pt characters are about 5.6 px wide
    fig, ax = plt.subplots(figsize=(label_in + cell_in * len(runs), 0.42 * len(table) + 1.2))
    ax.imshow(code, cmap=ListedColormap(_COLOURS), vmin=-0.5, vmax=len(VERDICTS) - 0.5,
              aspect="auto")
    for i in range(len(table)):
        for j, r in enumerate(runs):
            text = str(table[r].iloc[i])
            ax.text(j, i, text if len(text) <= chars else text[:chars - 1] + "…", ha="center",
                    va="center", fontsize=8)
    ax.set_xticks(range(len(runs)), runs)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(table)), ["\n".join(wrap_labels([q], 42)[0].split("\n")[:2])
                                      for q in table["quantity"]])
    ax.tick_params(length=0)
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor=c, edgecolor="0.5") for c in _COLOURS[:4]]
    ax.legend(handles, ["reproduced", "partly", "not reproduced", "no verdict"],
              loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=2, frameon=False)
    fig.tight_layout()
    return fig
