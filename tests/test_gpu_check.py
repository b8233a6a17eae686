"""The device check (benchmarks/gpu_check.sh) as CI can run it: the dry run on the CPU, and
the refusals that keep a CPU-only machine from reporting a passed GPU check."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import gpu_check  # noqa: E402


def _run(args, tmp_path):
    env = dict(os.environ, PYTHON=sys.executable, FCLIB_WHEELS=str(tmp_path / "no-wheels"))
    return subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_the_dry_run_passes_on_the_cpu(tmp_path):
    out = tmp_path / "check.json"
    r = _run(["--device", "cpu", "--small", "--json", str(out)], tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    res = json.loads(out.read_text())
    assert res["ok"] and res["tests"]["ok"] and res["tests"]["tests"] >= 10
    names = [row["name"] for row in res["rows"]]
    for part in ("co-firing counts", "exact null", "-shift null", "training epoch",
                 "recording", "all 15 layer pairs"):
        assert any(part in n for n in names), part
    agreed = [row["agree"] for row in res["rows"] if row["agree"] is not None]
    assert len(agreed) == 3 and all(a["ok"] for a in agreed)
    assert "agreement with numba: every corner agrees" in r.stdout
    assert "dry run" in r.stdout and "| this device (cpu) |" in r.stdout


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the CPU-only refusal")
def test_without_cuda_the_check_fails_before_any_work(capsys):
    assert gpu_check.main(["--skip-tests"]) == 2
    err = capsys.readouterr().err
    assert "CUDA is absent" in err and "--device cpu --small" in err
    assert gpu_check.main(["--device", "cpu"]) == 2  # a CPU is the dry run only
    assert "add --small" in capsys.readouterr().err
    assert gpu_check.main(["--device", "tpu", "--small"]) == 2
    assert "--device must be" in capsys.readouterr().err


@pytest.mark.parametrize("counts, dry_run, ok, says", [
    (dict(rc=0, tests=16, failures=0, errors=0, skipped=0), False, True, "16 passed on cuda"),
    (dict(rc=0, tests=16, failures=0, errors=0, skipped=16), False, False, "0 gpu tests ran"),
    (dict(rc=0, tests=16, failures=0, errors=0, skipped=1), False, False, "1 skipped"),
    (dict(rc=5, tests=0, failures=0, errors=0, skipped=0), False, False, "0 gpu tests ran"),
    (dict(rc=1, tests=16, failures=2, errors=0, skipped=0), False, False, "2 failed"),
    (dict(rc=2, tests=0, failures=0, errors=1, skipped=0), True, False, "exit status 2"),
    (dict(rc=0, tests=16, failures=0, errors=0, skipped=16), True, True, "dry run"),
    (dict(rc=5, tests=0, failures=0, errors=0, skipped=0), True, False, "no gpu test"),
])
def test_the_verdict_on_the_gpu_tests(counts, dry_run, ok, says):
    v = gpu_check.tests_verdict(counts, "cuda", dry_run)
    assert v["ok"] is ok and says in v["verdict"]


def test_agreement_reports_what_differs():
    import numpy as np

    z = np.array([[5.0, 1.0], [np.nan, 3.0]])
    same = gpu_check._agreement({"z": z, "c": np.eye(2)}, {"z": z + 1e-6, "c": np.eye(2)},
                                exact=("c",), close={"z": (1e-4, 1e-4)})
    assert same["ok"] and "c equal" in same["detail"]
    flipped = gpu_check._agreement({"z": z}, {"z": np.where(z == 5.0, 3.0, z)},
                                   close={"z": (1e-4, 1e-4)})
    assert not flipped["ok"] and "calls z > 4: 1 differ" in flipped["detail"]
    counts = gpu_check._agreement({"c": np.eye(2)}, {"c": 2 * np.eye(2)}, exact=("c",))
    assert not counts["ok"] and "c: 2 differ" in counts["detail"]
