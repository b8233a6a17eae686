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


def human_label(label) -> str:
    """A column or index label for readers: ``snake_case`` becomes words ("median_r2" →
    "median r2"); tuples (MultiIndex) are joined with " · "; other labels unchanged."""
    if isinstance(label, tuple):
        return " · ".join(human_label(x) for x in label)
    if isinstance(label, str):
        return label.replace("_", " ")
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
    body = (shown.style.format(lambda x: format_value(x, digits))
            .format_index(lambda x: human_label(x) if isinstance(x, str) else format_value(x),
                          axis=0)
            .set_table_attributes('class="fclib-table"')
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
