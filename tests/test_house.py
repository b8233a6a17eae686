"""House rules that hold for the package as a whole (STYLE.md rule 12 and the layout).

Each check runs in a fresh interpreter (``sys.executable -c ...``): the test session has
imported much already, and pytest sets warning filters of its own.
"""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*parts: str) -> dict:
    """Run the code ``parts`` (each dedented, then joined) in a fresh interpreter at the
    repository root; the code prints one JSON object as its last line."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("PYTHONWARNINGS", None)
    code = "\n".join(textwrap.dedent(p) for p in parts)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


_IMPORT_ALL = """
    import importlib, pkgutil
    import fclib, fclib.stats, fclib.io
    for pkg in (fclib.stats, fclib.io):
        for m in pkgutil.iter_modules(pkg.__path__):
            importlib.import_module(f"{pkg.__name__}.{m.name}")
"""


def test_statistics_and_io_import_without_torch():
    res = _run(_IMPORT_ALL, """
    import json, sys
    mods = sorted(m for m in sys.modules if m.startswith("fclib."))
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "spikingjelly"))
    print(json.dumps({"fclib": mods, "heavy": heavy}))
    """)
    stats = {p.stem for p in (ROOT / "fclib" / "stats").glob("*.py") if p.stem != "__init__"}
    io = {p.stem for p in (ROOT / "fclib" / "io").glob("*.py") if p.stem != "__init__"}
    assert {f"fclib.stats.{m}" for m in stats} | {f"fclib.io.{m}" for m in io} <= set(res["fclib"])
    assert "fclib.snn" not in res["fclib"]
    assert res["heavy"] == [], f"torch-free modules pulled in {res['heavy'][:5]}"


def test_figures_change_no_global_matplotlib_state():
    res = _run("""
    import json, matplotlib
    before = dict(matplotlib.rcParams)
    import fclib, fclib.figures
    after_import = dict(matplotlib.rcParams)
    history = [{"epoch": e, "loss": 1.0 / (e + 1), "test_loss": 1.2 / (e + 1),
                "train_accuracy": 0.5 + 0.1 * e, "test_accuracy": 0.4 + 0.1 * e} for e in range(3)]
    fig = fclib.figures.fig_training_curve(history)
    after_call = dict(matplotlib.rcParams)
    # drawn in the book's style (seaborn's larger labels), which did not stay behind
    styled = (fig.axes[0].xaxis.label.get_fontsize()
              == fclib.figures.book_style()["axes.labelsize"]
              != matplotlib.font_manager.FontProperties(size=before["axes.labelsize"]).get_size())
    diff = lambda a: sorted(k for k in before if repr(before[k]) != repr(a[k]))
    print(json.dumps({"import": diff(after_import), "call": diff(after_call),
                      "n_axes": len(fig.axes), "styled": styled}))
    """)
    assert res["n_axes"] == 2 and res["styled"]
    assert res["import"] == [], f"importing fclib.figures changed rcParams {res['import']}"
    assert res["call"] == [], f"drawing a figure changed rcParams {res['call']}"


def test_importing_fclib_adds_no_warnings_filters():
    # Dependencies may set filters of their own when first imported (scipy.special, numpy);
    # that is not fclib's doing. So a first interpreter lists every module that importing
    # fclib loads, and a second imports those first, then fclib, and compares the filters.
    loaded = _run(_IMPORT_ALL, """
    import json, sys
    print(json.dumps({"modules": sorted(m for m in sys.modules
                                        if m.split(".")[0] not in ("fclib", "__main__"))}))
    """)["modules"]
    res = _run(f"""
    import importlib, json, warnings
    for m in {loaded!r}:
        try:
            importlib.import_module(m)
        except Exception:
            pass  # private or platform modules: what fclib needs is imported below anyway
    before = [repr(f) for f in warnings.filters]
    """, _IMPORT_ALL, """
    after = [repr(f) for f in warnings.filters]
    print(json.dumps({"before": before, "after": after}))
    """)
    added = [f for f in res["after"] if f not in res["before"]]
    assert res["after"] == res["before"], f"importing fclib changed warnings.filters: added {added}"
