#!/usr/bin/env bash
# Check edunn on a CUDA GPU in one command: install what is missing, run the tests with
# EDUNN_DEVICE=cuda (the cuda-marked parity tests against torch on CUDA first), re-execute every
# chapter with nbval on cuda, and time the GPU benchmark. Ends with one line:
#   GPU CHECK: tests P passed/F failed/S skipped; notebooks N passed/M failed; mlp ratio X; cnn ratio Y
# and exits non-zero when anything failed, timed out or could not run.
#
# Usage, from anywhere: tools/gpu_check.sh
# Environment:
#   PYTHON             interpreter to build on (default python3): the check runs in a virtual environment
#                      that sees this interpreter's packages (torch, cupy, ...) and adds only what is missing
#   WHEELS_DIR         a folder of wheels to install from instead of PyPI (pip --no-index --find-links);
#                      it may also hold the Debian package fonts-wqy-microhei_*.deb for the chapters' plots
#   GPU_CHECK_DIR      where the virtual environment and the logs go (default _build/gpu_check)
#   GPU_CHECK_WORKERS  pytest-xdist workers (default: half the CPU cores, at most 8)
#   GPU_CHECK_BUDGET   seconds the whole check may take (default 470, under the 8 minutes it is sized for)
set -uo pipefail

cd "$(dirname "$0")/.."
repo=$(pwd)
started=$SECONDS
budget=${GPU_CHECK_BUDGET:-470}
work=${GPU_CHECK_DIR:-_build/gpu_check}
mkdir -p "$work/logs"
work=$(cd "$work" && pwd)
venv="$work/venv"
logs="$work/logs"
base_python=${PYTHON:-python3}
python="$venv/bin/python"
cores=$(nproc 2>/dev/null || echo 2)
workers=${GPU_CHECK_WORKERS:-$(( cores / 2 > 8 ? 8 : (cores / 2 < 1 ? 1 : cores / 2) ))}

# edunn is imported from this checkout, not from an installed copy.
export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
export EDUNN_DEVICE=cuda

tests_summary="tests not run"
notebooks_summary="notebooks not run"
mlp_ratio="n/a"
cnn_ratio="n/a"
failed=0

say() { echo "gpu_check: $*"; }

finish() {
    local elapsed=$(( SECONDS - started ))
    say "finished in ${elapsed}s; logs in $logs"
    if [ "$elapsed" -gt "$budget" ]; then
        say "took longer than the budget of ${budget}s"
        failed=1
    fi
    echo "GPU CHECK: $tests_summary; $notebooks_summary; mlp ratio $mlp_ratio; cnn ratio $cnn_ratio"
    exit $(( failed ? 1 : 0 ))
}

# Seconds left for a phase, keeping `reserve` seconds for the phases after it.
time_left() {
    local reserve=$1 left=$(( budget - (SECONDS - started) - $1 ))
    echo $(( left > 30 ? left : 30 ))
}

# --- 1. the GPU and the interpreter ----------------------------------------------------------------
if ! command -v nvidia-smi >/dev/null; then
    say "nvidia-smi not found: this machine has no NVIDIA driver"
    failed=1
    finish
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/gpu_check: GPU: /'
cuda_major=$(nvidia-smi | sed -n 's/.*CUDA Version: *\([0-9]*\)\..*/\1/p' | head -n 1)
say "driver supports CUDA ${cuda_major:-unknown}; $cores CPU cores, $workers test workers"

if [ ! -x "$python" ]; then
    if ! "$base_python" -m venv --without-pip --system-site-packages "$venv" >"$logs/venv.log" 2>&1; then
        say "could not create a virtual environment with $base_python:"
        cat "$logs/venv.log"
        failed=1
        finish
    fi
    # A new venv imports its base interpreter's packages, but not those of a venv that $PYTHON may be
    # itself, which is the usual case on GPU images. A .pth file adds that venv's site-packages.
    "$base_python" -c 'import site, sys; sys.prefix != sys.base_prefix and print("\n".join(site.getsitepackages()))' \
        >"$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/gpu_check_parent.pth"
fi
say "python: $("$python" --version 2>&1) in $venv, built on $base_python"

# --- 2. install what is missing --------------------------------------------------------------------
# A requirement line for each missing package. Versions come from requirements.txt, so the GPU machine
# runs the same pins as CI; packages the interpreter already has are kept whatever their version.
pin() { grep -i "^$1==" requirements.txt || echo "$1"; }

missing=()
probe() {  # probe MODULE REQUIREMENT
    if ! "$python" -c "import $1" >/dev/null 2>&1; then
        missing+=("$2")
    fi
}
for entry in numpy:numpy ml_dtypes:ml_dtypes pytest:pytest xdist:pytest-xdist hypothesis:hypothesis \
             nbval:nbval nbclient:nbclient nbformat:nbformat ipykernel:ipykernel matplotlib:matplotlib \
             sklearn:scikit-learn scipy:scipy tqdm:tqdm; do
    probe "${entry%%:*}" "$(pin "${entry#*:}")"
done
# PyPI's default torch wheel for Linux x86-64 is the CUDA build, which pulls NVIDIA's CUDA runtime
# wheels. So the pin in requirements.txt installs a CUDA torch here, and no other index is needed.
if ! "$python" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" >/dev/null 2>&1; then
    missing+=("$(pin torch)")
fi
if ! "$python" -c "import cupy" >/dev/null 2>&1; then
    # cupy-cuda13x needs a driver for CUDA 13; drivers for CUDA 12 take cupy-cuda12x. The [ctk] extra
    # brings the CUDA runtime libraries that CuPy compiles its kernels against.
    if [ "${cuda_major:-12}" -ge 13 ]; then missing+=("cupy-cuda13x[ctk]>=14"); else missing+=("cupy-cuda12x[ctk]>=14"); fi
fi

if [ ${#missing[@]} -gt 0 ]; then
    pip_source=()
    if [ -n "${WHEELS_DIR:-}" ]; then
        pip_source=(--no-index --find-links "$WHEELS_DIR")
    fi
    say "installing into $venv: ${missing[*]}"
    # pip runs from $PYTHON but installs into the venv (--python). It resolves against every package
    # the venv can import, so only the missing packages are added.
    if ! "$base_python" -m pip --python "$python" install --quiet --disable-pip-version-check "${pip_source[@]}" \
            "${missing[@]}" >"$logs/pip.log" 2>&1; then
        say "pip install failed (last lines of $logs/pip.log below)"
        tail -n 15 "$logs/pip.log"
        failed=1
        finish
    fi
fi
"$python" - <<'EOF' 2>&1 | sed 's/^/gpu_check: /'
import numpy, torch
import edunn
print(f"numpy {numpy.__version__}; torch {torch.__version__} (CUDA {torch.version.cuda}, "
      f"available: {torch.cuda.is_available()})")
if torch.__version__.split("+")[0] != "2.13.0":
    print(f"WARNING: the parity tests compare against torch {torch.__version__}, not the pinned 2.13.0")
reason = edunn._backend.cuda_unavailable_reason()
if reason:
    print(f"edunn cannot use CUDA: {reason}")
else:
    import cupy
    print(f"cupy {cupy.__version__}; edunn sees {edunn.cuda.device_count()} GPU(s): {edunn.cuda.get_device_name(0)}")
EOF
if ! "$python" -c "import edunn, torch, sys; sys.exit(0 if edunn.cuda.is_available() and torch.cuda.is_available() else 1)"; then
    say "edunn or torch cannot use the GPU (see the lines above); nothing to check"
    failed=1
    finish
fi

# The chapters' plots need a CJK font; offline, one can come as a Debian package in WHEELS_DIR.
if ! "$python" -c "from edunn.plotting import find_cjk_font; find_cjk_font()" >/dev/null 2>&1; then
    font_deb=$(ls "${WHEELS_DIR:-/nonexistent}"/fonts-wqy-microhei_*.deb 2>/dev/null | head -n 1)
    if [ -n "$font_deb" ] && command -v dpkg-deb >/dev/null; then
        fonts_dir="${XDG_DATA_HOME:-$HOME/.local/share}/fonts"
        mkdir -p "$fonts_dir" "$work/font"
        dpkg-deb -x "$font_deb" "$work/font" && find "$work/font" -name '*.ttc' -exec cp {} "$fonts_dir/" \;
        say "installed the CJK font from $font_deb into $fonts_dir"
    elif [ "$(id -u)" -eq 0 ] && tools/install_cjk_font.sh >"$logs/font.log" 2>&1; then
        say "installed a CJK font with apt-get"
    else
        say "WARNING: no CJK font; chapters that plot will fail (put fonts-wqy-microhei_*.deb in WHEELS_DIR)"
    fi
fi

# --- 3. tests: cuda-marked first, then the whole suite on cuda --------------------------------------
junit_counts() {  # junit_counts FILE... -> "passed failed skipped"
    "$python" - "$@" <<'EOF'
import sys
import xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        continue
    for case in root.iter("testcase"):
        kinds = {child.tag for child in case}
        if kinds & {"failure", "error"}:
            failed += 1
        elif "skipped" in kinds:
            skipped += 1
        else:
            passed += 1
print(passed, failed, skipped)
EOF
}

pytest_flags=(-q -rfEs -p no:cacheprovider -n "$workers")
say "phase 1: cuda-marked tests (pytest -m cuda)"
timeout "$(time_left 330)" "$python" -m pytest tests -m cuda "${pytest_flags[@]}" \
    --junitxml="$logs/tests_cuda.xml" >"$logs/tests_cuda.log" 2>&1
status=$?
tail -n 3 "$logs/tests_cuda.log" | sed 's/^/gpu_check:   /'
[ "$status" -eq 124 ] && say "cuda-marked tests timed out"
[ "$status" -ne 0 ] && failed=1
if grep -q "^SKIPPED.*test_cuda.py.*cannot use CUDA" "$logs/tests_cuda.log"; then
    say "the cuda parity tests were skipped on a GPU machine: that is a failure here"
    failed=1
fi

say "phase 2: the rest of the suite with EDUNN_DEVICE=cuda (pytest -m 'not cuda')"
timeout "$(time_left 200)" "$python" -m pytest tests -m "not cuda" "${pytest_flags[@]}" --dist loadfile \
    --junitxml="$logs/tests_rest.xml" >"$logs/tests_rest.log" 2>&1
status=$?
tail -n 3 "$logs/tests_rest.log" | sed 's/^/gpu_check:   /'
[ "$status" -eq 124 ] && say "the test suite timed out"
[ "$status" -ne 0 ] && failed=1
read -r passed test_failed skipped < <(junit_counts "$logs/tests_cuda.xml" "$logs/tests_rest.xml")
tests_summary="tests $passed passed/$test_failed failed/$skipped skipped"

# --- 4. chapters with nbval on cuda ----------------------------------------------------------------
shopt -s nullglob
chapters=(chapters/*.ipynb)
if [ ${#chapters[@]} -eq 0 ]; then
    notebooks_summary="notebooks none found"
else
    say "phase 3: ${#chapters[@]} chapters with nbval, EDUNN_DEVICE=cuda"
    timeout "$(time_left 90)" "$python" -m pytest "${pytest_flags[@]}" --dist loadfile --nbval --nbval-current-env \
        --nbval-sanitize-with .nbval_sanitize.cfg "${chapters[@]}" \
        --junitxml="$logs/notebooks.xml" >"$logs/notebooks.log" 2>&1
    status=$?
    [ "$status" -eq 124 ] && say "the chapters timed out"
    [ "$status" -ne 0 ] && failed=1
    read -r nb_passed nb_failed < <("$python" - "$logs/notebooks.xml" "${chapters[@]}" <<'EOF'
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
bad = set()
try:
    for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
        if any(child.tag in ("failure", "error") for child in case):
            bad.add(f"{case.get('file', '')} {case.get('classname', '')} {case.get('name', '')}")
except (OSError, ET.ParseError):
    bad = set(sys.argv[2:])  # no report (the run was killed): count every chapter as failed
names = [Path(path).stem for path in sys.argv[2:]]
failed = sum(1 for name in names if any(name in entry for entry in bad))
print(len(names) - failed, failed)
EOF
    )
    notebooks_summary="notebooks $nb_passed passed/$nb_failed failed"
    grep -E "^(FAILED|ERROR)" "$logs/notebooks.log" | head -n 10 | sed 's/^/gpu_check:   /'
fi

# --- 5. benchmark ----------------------------------------------------------------------------------
say "phase 4: benchmarks/bench_gpu.py"
timeout "$(time_left 5)" "$python" benchmarks/bench_gpu.py >"$logs/bench_gpu.log" 2>&1
status=$?
sed 's/^/gpu_check:   /' "$logs/bench_gpu.log"
[ "$status" -ne 0 ] && failed=1
ratios=$(grep "^bench_gpu: mlp ratio" "$logs/bench_gpu.log" | tail -n 1)
if [ -n "$ratios" ]; then
    mlp_ratio=$(echo "$ratios" | sed -n 's/.*mlp ratio \([0-9.]*\).*/\1/p')
    cnn_ratio=$(echo "$ratios" | sed -n 's/.*cnn ratio \([0-9.]*\).*/\1/p')
else
    failed=1
fi

finish
