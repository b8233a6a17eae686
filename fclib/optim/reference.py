"""Reference results of the optimisers: our PROTES against the authors' ``protes`` package
on a known optimum, as recorded by ``benchmarks/protes_reference.py`` in the repository.

(The MANGO paper's Table 1, the published activations and times of each method, is
:data:`fclib.stats.mei.PAPER_TABLE1` until :mod:`fclib.figures.mango` reads it from here.)
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["PROTES_REFERENCE", "load_protes_reference", "protes_reference_table"]

#: Where ``benchmarks/protes_reference.py`` writes our PROTES against the ``protes`` package.
PROTES_REFERENCE = Path(__file__).resolve().parents[2] / "benchmarks" / "reference" / \
    "protes_reference.json"


def load_protes_reference(path=None) -> dict | None:
    """The record of ``benchmarks/protes_reference.py`` (default :data:`PROTES_REFERENCE`),
    or ``None`` where it is absent (an installed package without the repository)."""
    path = Path(path) if path is not None else PROTES_REFERENCE
    return json.loads(path.read_text()) if path.is_file() else None


def protes_reference_table(record: dict) -> pd.DataFrame:
    """That record as a table, one row per variant: ``K``, ``k_top``, quantisation, seeds at
    the known optimum for ours and for the ``protes`` package (``"hits/seeds"``), the two-sided
    Fisher p of the difference, and the mean evaluations used (stopped at the optimum)."""
    from fclib.optim.protes import GRAY_PRESETS, PRESETS

    rows = []
    ref = record.get("reference", {}).get("summary", {})
    for name, opts in {**PRESETS, **GRAY_PRESETS}.items():
        ours = record["ours"]["summary"].get(name)
        if ours is None:
            continue
        theirs = ref.get(name)
        code = {False: "none", True: "binary (as the MANGO paper)", "gray": "Gray"}[opts["qtt"]]
        rows.append({"variant": name, "K": opts["k"], "k_top": opts["k_top"],
                     "quantisation": code,
                     "ours": f"{ours['hits']}/{ours['seeds']}",
                     "protes package": f"{theirs['hits']}/{theirs['seeds']}" if theirs else "-",
                     "Fisher p": record.get("comparison", {}).get(name, {}).get("fisher_p",
                                                                                 np.nan),
                     "mean evaluations (ours)": ours["mean_evaluations"],
                     "mean evaluations (package)": theirs["mean_evaluations"] if theirs
                     else np.nan})
    return pd.DataFrame(rows).set_index("variant")
