#!/usr/bin/env bash
# The device check in one command (book/gpu.md).
#
#   bash benchmarks/gpu_check.sh --download             # here, with network: wheels -> .whl/
#   bash benchmarks/gpu_check.sh                        # on the GPU machine (< 5 min, H200)
#   bash benchmarks/gpu_check.sh --device cpu --small   # the dry run (CI runs it)
#
# Runs under the machine's own python3 ($PYTHON to choose another); nothing is installed
# from a registry. Packages that python lacks travel as wheels in .whl/ ($FCLIB_WHEELS),
# pinned in benchmarks/gpu_wheels.txt; they are installed from there alone (pip --no-index
# --no-deps) into a folder of their own that goes first on PYTHONPATH, beside this checkout
# (fclib is used from the source tree, not installed). A module the check needs that is
# still missing stops it before any work, naming the module and the way to carry it.
# Every other argument goes to benchmarks/gpu_check.py (--only, --skip-tests, --no-cpu,
# --json PATH); its exit status is this script's.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
WHEELS="${FCLIB_WHEELS:-$ROOT/.whl}"
PINS="$ROOT/benchmarks/gpu_wheels.txt"

if [[ "${1:-}" == "--download" ]]; then
    # for CPython 3.12 on manylinux x86-64, whatever this machine runs (pip matches the
    # manylinux tag exactly, hence the list)
    mkdir -p "$WHEELS"
    "$PY" -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 \
        --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
        -d "$WHEELS" -r "$PINS"
    echo "wheels in $WHEELS: carry that folder to the GPU machine with the checkout"
    exit 0
fi

cd "$ROOT"
path="$ROOT"
shopt -s nullglob
wheels=("$WHEELS"/*.whl)
if (( ${#wheels[@]} )); then
    SITE="$(mktemp -d "${TMPDIR:-/tmp}/fclib-gpu-site.XXXXXX")"
    trap 'rm -rf "$SITE"' EXIT
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --disable-pip-version-check --target "$SITE" "${wheels[@]}"
    path="$SITE:$path"
fi
export PYTHONPATH="$path${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
# cuBLAS reads this when it makes its handle: set before the first CUDA product, so that
# the deterministic-mode gpu tests can run in this process tree
export CUBLAS_WORKSPACE_CONFIG="${CUBLAS_WORKSPACE_CONFIG:-:4096:8}"

"$PY" - "$WHEELS" <<'EOF'
import importlib
import sys

need = {"torch": "the image's own", "numpy": "the image's own", "numba": "the image's own",
        "xarray": "the image's own", "pandas": "the image's own", "scipy": "the image's own",
        "pytest": "the image's own", "tqdm": "the image's own",
        "spikingjelly": "spikingjelly", "loguru": "loguru", "netCDF4": "netCDF4",
        "cftime": "cftime"}
missing = []
for module, dist in need.items():
    try:
        importlib.import_module(module)
    except Exception as e:  # an import that fails for any reason stops the check here
        missing.append(f"{module} ({type(e).__name__}: {e}; wheel: {dist})")
if missing:
    print("gpu check: cannot start, missing: " + "; ".join(missing), file=sys.stderr)
    print(f"gpu check: pin the missing package in benchmarks/gpu_wheels.txt, run "
          f"'bash benchmarks/gpu_check.sh --download' where pip reaches a registry, and carry "
          f"{sys.argv[1]} with the checkout", file=sys.stderr)
    sys.exit(3)
import fclib.snn.models  # noqa: E402,F401  (fclib from this checkout, spikingjelly's layers)
EOF

status=0
"$PY" "$ROOT/benchmarks/gpu_check.py" "$@" || status=$?
exit "$status"
