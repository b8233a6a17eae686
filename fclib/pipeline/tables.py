"""Tables as a reader sees them: human headers, integers as integers with thousands
separators, a fixed number of decimals, NaN as "—", and wide or long tables collapsed.

Chapters end a table cell with ``show_table(df)`` instead of printing the raw DataFrame.
"""
from __future__ import annotations

import html
import math
import numbers

import numpy as np

__all__ = ["human_label", "format_value", "show_table"]

#: Tables with more columns or rows than these are shown collapsed (a click opens them).
MAX_COLUMNS = 7
MAX_ROWS = 16


#: Lower-case abbreviations of column names, as readers write them.
ABBREVIATIONS = {"r2": "R²", "mi": "MI", "iqr": "IQR", "auc": "AUC", "fpr": "FPR", "ks": "KS",
                 "sttc": "STTC", "1fc": "1FC", "relu": "ReLU", "nrmse": "NRMSE", "fgsm": "FGSM",
                 "ig": "IG", "ci": "CI", "sd": "SD", "se": "SE", "frac": "fraction",
                 "pos": "positive", "neg": "negative", "acc": "accuracy", "lo": "low",
                 "hi": "high", "pct": "%", "tt": "TT", "ng": "NG", "rs": "RS", "mei": "MEI",
                 "meis": "MEIs", "ttfs": "TTFS"}


def human_label(label) -> str:
    """A column or index label for readers: ``snake_case`` becomes words, lower-case
    abbreviations are spelled as readers write them (:data:`ABBREVIATIONS`: "median_r2" →
    "median R²", "iqr low mi" → "IQR low MI"); tuples (MultiIndex) are joined with " · ";
    other labels unchanged."""
    if isinstance(label, tuple):
        return " · ".join(human_label(x) for x in label)
    if isinstance(label, str):
        words = label.replace("_", " ").split(" ")
        return " ".join(ABBREVIATIONS.get(w, w) for w in words)
    return str(label)


def format_value(x, digits: int = 3) -> str:
    """One cell: NaN/None → "—"; booleans → yes/no; integer values (also floats such as
    ``1943720.0``) → "1,943,720"; other numbers with ``digits`` decimals and thousands
    separators; anything else as ``str``."""
    if x is None:
        return "—"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, numbers.Number):
        x = float(x) if not isinstance(x, numbers.Integral) else int(x)
        if isinstance(x, float):
            if math.isnan(x):
                return "—"
            if math.isinf(x):
                return "∞" if x > 0 else "−∞"
            if x.is_integer() and abs(x) >= 1:
                return f"{int(x):,}"
            if 0 < abs(x) < 10 ** -(digits - 1):   # small values keep `digits` significant
                return f"{x:.{digits}g}"
            return f"{x:,.{digits}f}"
        return f"{x:,}"
    return str(x)


#: Cell padding and alignment: columns never run together ("0.5500.487").
_CELL_STYLE = [{"selector": "th, td", "props": [("padding", "0.3em 0.75em")]},
               {"selector": "td", "props": [("text-align", "right")]},
               {"selector": "th", "props": [("text-align", "left")]}]


def _decimals(column, digits: int) -> int:
    """The fewest decimals (at most ``digits``) that show every number of ``column`` exactly:
    medians of counts (56.5, 7.5) keep one decimal instead of three; other numbers ``digits``."""
    try:
        x = np.asarray(column, dtype=float)
    except (TypeError, ValueError):
        return digits
    x = x[np.isfinite(x)]
    for d in range(digits):
        if np.allclose(x, np.round(x, d), rtol=0, atol=1e-9 * max(1.0, float(np.abs(x).max(initial=0)))):
            return d
    return digits


def show_table(df, digits: int = 3, caption: str | None = None):
    """A DataFrame or Series as formatted HTML (``IPython.display.HTML``): human headers,
    formatted cells (:func:`format_value`), and collapsed behind a summary line when wider
    than :data:`MAX_COLUMNS` or longer than :data:`MAX_ROWS`."""
    import pandas as pd
    from IPython.display import HTML

    if isinstance(df, pd.Series):
        df = df.to_frame()
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"show_table needs a DataFrame or Series, got {type(df).__name__}")
    shown = df.copy()
    shown.columns = [human_label(c) for c in shown.columns]
    if isinstance(shown.index, pd.MultiIndex):
        shown.index = shown.index.set_names([human_label(n) if n else n
                                             for n in shown.index.names])
    else:
        shown.index = shown.index.rename(human_label(shown.index.name)
                                         if shown.index.name else None)
    style = shown.style
    for i, col in enumerate(shown.columns):   # each numeric column at the decimals it needs
        d = _decimals(df.iloc[:, i], digits)
        style = style.format(lambda x, d=d: format_value(x, d), subset=shown.columns[[i]])
    body = (style.format_index(lambda x: human_label(x) if isinstance(x, str)
                               else format_value(x), axis=0)
            .set_table_attributes('class="fclib-table"')
            .set_table_styles(_CELL_STYLE)
            .to_html())
    rows, cols = df.shape
    if caption:
        body = f"<p><em>{html.escape(caption)}</em></p>" + body
    if cols > MAX_COLUMNS or rows > MAX_ROWS:
        body = (f"<details><summary>Table: {rows:,} rows × {cols:,} columns (click to open)"
                f"</summary><div style=\"overflow-x:auto\">{body}</div></details>")
    else:
        body = f"<div style=\"overflow-x:auto\">{body}</div>"
    return HTML(body)
