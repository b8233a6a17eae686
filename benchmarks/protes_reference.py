"""Our PROTES against the reference ``protes`` package on a known optimum.

    .venv/bin/python benchmarks/protes_reference.py                       # ours only
    .venv/bin/python benchmarks/protes_reference.py --reference-python /tmp/pv/bin/python

The objective is the separable known optimum of ``tests/test_protes.py`` and of the MANGO
issue: ``-Σ_k (i_k - t_k)²`` on ``d = 8`` coordinates of ``n = 16`` grid points, optimum 0.
Each of 003's variants (TT, TT-s, TT-b: ``fclib.optim.PRESETS``) and their Gray-coded twins
(``GRAY_PRESETS``) runs on ``--seeds`` seeds with a budget of ``--budget`` evaluations and
stops at the optimum. For each run the best value, the evaluations used and the wall time
are kept.

The reference is the authors' package (Batsheva et al., ``pip install protes``; jax and
optax). It pins ``numpy < 2.0.2`` and so cannot live in this project's environment: give
``--reference-python`` an interpreter of a separate virtual environment where
``pip install protes`` was run. The same variants run there (quantisation done as in the
MANGO authors' ``opt_protes.py``: little-endian bits, ``teneva.ind_qtt_to_tt``; the Gray twin
decodes the Gray code first), stopped at the optimum by returning ``None`` from ``f``, as the
package allows. Its random numbers are jax's, so single seeds differ from ours: what is
compared is the number of seeds that reach the optimum (two-sided Fisher exact test per
variant) and the mean best value.

Results go to ``benchmarks/reference/protes_reference.json`` (with the package versions); the
MANGO chapter and ``tests/test_protes.py`` read it.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "reference" / "protes_reference.json"   # tracked (results/ is not)
D, N = 8, 16
TARGET = (np.arange(D) * 5 + 3) % N          # the optimum, as in tests/test_protes.py

# Run by the reference interpreter: argv = seeds budget; prints one JSON object.
_REFERENCE = r"""
import json, sys, time
import numpy as np
import protes as P
from protes import protes

seeds, budget = int(sys.argv[1]), int(sys.argv[2])
t = (np.arange(8) * 5 + 3) % 16
variants = {"TT": (10, 1, None), "TT-s": (5, 1, "binary"), "TT-b": (25, 5, "binary"),
            "TT-gray": (10, 1, "gray"), "TT-s-gray": (5, 1, "gray"), "TT-b-gray": (25, 5, "gray")}

def gray_to_int(g):
    b, s = g.copy(), g >> 1
    while np.any(s):
        b ^= s
        s >>= 1
    return b

out = {"versions": {"protes": getattr(P, "__version__", "?"),
                    "jax": __import__("jax").__version__, "numpy": np.__version__}, "runs": {}}
for name, (k, k_top, code) in variants.items():
    rows = []
    for seed in range(seeds):
        state = {"m": 0, "best": -np.inf, "hit": None}

        def f(I):
            if state["hit"] is not None:
                return None                      # stop: the optimum was met in the last batch
            I = np.asarray(I, dtype=np.int64)
            if code:
                I = (I.reshape(len(I), 8, 4) << np.arange(4)).sum(-1)
                if code == "gray":
                    I = gray_to_int(I)
            y = -((I - t) ** 2).sum(1).astype(float)
            state["m"] += len(y)
            state["best"] = max(state["best"], float(y.max()))
            if state["best"] >= 0:
                state["hit"] = state["m"]
            return y

        t0 = time.perf_counter()
        d, n = (32, 2) if code else (8, 16)
        protes(f, d, n, budget, k=k, k_top=k_top, k_gd=1, lr=0.05, r=5, seed=seed, is_max=True)
        rows.append({"seed": seed, "value": state["best"], "evaluations": state["m"],
                     "seconds": time.perf_counter() - t0})
    out["runs"][name] = rows
print(json.dumps(out))
"""


def separable(i: np.ndarray) -> np.ndarray:
    """``-Σ (i_k - t_k)²`` for each row of ``i`` ``(K, 8)``."""
    return -((np.asarray(i) - TARGET) ** 2).sum(1).astype(float)


def ours(seeds: int, budget: int, variants=None) -> dict:
    """Our PROTES, every variant on seeds ``0 … seeds-1``, stopped at the optimum."""
    from fclib.optim import GRAY_PRESETS, PRESETS, maximise

    runs = {}
    for name in variants or (*PRESETS, *GRAY_PRESETS):
        rows = []
        for seed in range(seeds):
            t0 = time.perf_counter()
            res = maximise(name, separable, D, N, budget, rng=seed, target=0.0)
            rows.append({"seed": seed, "value": float(res["value"]),
                         "evaluations": int(len(res["trace"])),
                         "seconds": time.perf_counter() - t0})
        runs[name] = rows
        print(f"ours {name:10s} hits {sum(r['value'] == 0 for r in rows)}/{seeds}", flush=True)
    return runs


def reference(python: str, seeds: int, budget: int) -> dict:
    """The ``protes`` package in another interpreter (see the module docstring)."""
    done = subprocess.run([python, "-c", _REFERENCE, str(seeds), str(budget)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the reference run with {python} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def summary(runs: dict) -> dict:
    """Per variant: seeds at the optimum, seeds run, mean best value, mean evaluations."""
    return {name: {"hits": int(sum(r["value"] == 0 for r in rows)), "seeds": len(rows),
                   "mean_value": float(np.mean([r["value"] for r in rows])),
                   "mean_evaluations": float(np.mean([r["evaluations"] for r in rows]))}
            for name, rows in runs.items()}


def compare(ours_summary: dict, ref_summary: dict) -> dict:
    """Two-sided Fisher exact test of the hit counts, per variant run by both."""
    from scipy.stats import fisher_exact

    out = {}
    for name in ours_summary.keys() & ref_summary.keys():
        a, b = ours_summary[name], ref_summary[name]
        table = [[a["hits"], a["seeds"] - a["hits"]], [b["hits"], b["seeds"] - b["hits"]]]
        out[name] = {"fisher_p": float(fisher_exact(table)[1])}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=15)
    ap.add_argument("--budget", type=int, default=10_000)
    ap.add_argument("--reference-python", default=None,
                    help="an interpreter with the protes package installed (separate venv)")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    result = {"objective": {"d": D, "n": N, "target": TARGET.tolist(), "budget": a.budget,
                            "seeds": a.seeds},
              "machine": {"python": platform.python_version(), "numpy": np.__version__,
                          "processor": platform.processor() or platform.machine()},
              "ours": {"runs": ours(a.seeds, a.budget)}}
    result["ours"]["summary"] = summary(result["ours"]["runs"])
    if a.reference_python:
        ref = reference(a.reference_python, a.seeds, a.budget)
        ref["summary"] = summary(ref["runs"])
        result["reference"] = ref
        result["comparison"] = compare(result["ours"]["summary"], ref["summary"])
    print(f"\n{'variant':10s} {'ours':>8s} {'reference':>10s} {'Fisher p':>9s}")
    for name, s in result["ours"]["summary"].items():
        r = result.get("reference", {}).get("summary", {}).get(name)
        p = result.get("comparison", {}).get(name, {}).get("fisher_p")
        print(f"{name:10s} {s['hits']:>3d}/{s['seeds']:<4d} "
              f"{(str(r['hits']) + '/' + str(r['seeds'])) if r else '-':>10s} "
              f"{p if p is None else round(p, 3)!s:>9s}")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = a.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(a.out)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    main()
