#!/usr/bin/env bash
# Isaac Lab 3.0 test job: runs `pytest -m isaaclab tests/isaaclab_ext` against the real isaaclab==3.0.0 wheel.
#
# Isaac Lab 3.0 needs Python 3.12 and imports without Isaac Sim (registration, configs, Hydra wiring, env classes).
# The job builds a Python 3.12 venv once and reuses it while the pinned requirements below are unchanged:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/isaac_hydra_ext/venv312-il   (stamp file: .requirements.sha256)
# torch is PyPI's CUDA 13 build (there is no CPU wheel on PyPI); it is installed --no-deps with only the NVIDIA
# libraries its shared objects load at import (no triton, nvrtc, nvtx, cusolver, cuda-bindings). It imports and
# computes on the CPU without a GPU. Isaac Lab 2.3.2's wheel (3 MB, Python 3.11 only) is unpacked next to it so
# the 2.x code paths run against Isaac Lab 2.3's real `hydra_task_config` source (IHE_ISAACLAB23_SOURCE).
#
# Exits 0 with a "SKIP:" line when no Python 3.12 interpreter is found (set IHE_PYTHON312 to point at one).
# Extra arguments go to pytest.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/isaac_hydra_ext"
VENV="$CACHE/venv312-il"
IL23_VERSION="2.3.2.post1"
IL23_DIR="$CACHE/isaaclab-$IL23_VERSION"
# the 2.3 source folders the tests read (hydra_task_config; configclass and its helpers)
IL23_PATHS="isaaclab/source/isaaclab_tasks/isaaclab_tasks/utils/ isaaclab/source/isaaclab/isaaclab/utils/"

# Installed with --no-deps: this list is the complete closure (pip resolves nothing), so it is reproducible.
# tensorboard, onnx: the trainer's logs and the play script's policy export.
REQUIREMENTS="
isaaclab==3.0.0
torch==2.11.0
nvidia-cuda-runtime==13.0.96
nvidia-cuda-cupti==13.0.85
nvidia-cublas==13.1.0.3
nvidia-cudnn-cu13==9.19.0.56
nvidia-cufft==12.0.0.61
nvidia-cufile==1.15.1.6
nvidia-curand==10.4.0.35
nvidia-cusparse==12.6.3.3
nvidia-cusparselt-cu13==0.8.0
nvidia-nccl-cu13==2.28.9
nvidia-nvjitlink==13.0.88
nvidia-nvshmem-cu13==3.4.5
usd-exchange==3.0.1
warp-lang==1.17.0
numpy==2.5.5
gymnasium==1.4.0
cloudpickle==3.1.2
Farama-Notifications==0.0.6
typing-extensions==4.16.0
hydra-core==1.3.8
omegaconf==2.3.1
antlr4-python3-runtime==4.9.3
PyYAML==6.0.3
packaging==26.3
lazy-loader==0.6
prettytable==3.18.0
wcwidth==0.9.4
rich==15.0.0
markdown-it-py==4.3.0
mdurl==0.1.2
Pygments==2.21.0
tqdm==4.70.1
filelock==4.2.12
fsspec==2026.9.0
Jinja2==3.1.6
MarkupSafe==3.0.4
sympy==1.14.0
mpmath==1.3.0
networkx==3.7
setuptools==81.0.0
psutil==7.2.2
tensorboard==2.21.0
tensorboard-data-server==0.7.2
absl-py==2.5.1
grpcio==1.85.1
Markdown==3.11.3
protobuf==7.36.2
Werkzeug==3.1.9
pillow==13.0.0
onnx==1.23.2
ml_dtypes==0.6.0
mujoco==4.0.0
mujoco-core==4.0.0
mujoco-studio==4.0.0
glfw==2.11.0
PyOpenGL==3.1.10
websockets==17.4
pytest==9.2.0
pytest-timeout==2.4.0
pluggy==1.7.0
iniconfig==2.3.1
"

find_python312() {
    local candidates=("${IHE_PYTHON312:-}" "$(command -v python3.12 || true)")
    candidates+=("$HOME"/.pyenv/versions/3.12*/bin/python3 /usr/local/bin/python3.12 /usr/bin/python3.12)
    local py
    for py in "${candidates[@]}"; do
        if [ -n "$py" ] && [ -x "$py" ] && "$py" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
            echo "$py"
            return 0
        fi
    done
    return 1
}

if ! PY312="$(find_python312)"; then
    echo "SKIP: isaaclab job: no Python 3.12 interpreter found (Isaac Lab 3.0 requires Python 3.12); set IHE_PYTHON312"
    exit 0
fi

KEY="$(printf '%s\n%s\n%s %s\n' "$REQUIREMENTS" "$("$PY312" -V 2>&1)" "$IL23_VERSION" "$IL23_PATHS" | sha256sum | cut -d' ' -f1)"
STAMP="$VENV/.requirements.sha256"
start=$(date +%s)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$KEY" ] && [ -x "$VENV/bin/python" ]; then
    echo "isaaclab job: reusing $VENV"
else
    echo "isaaclab job: building $VENV with $PY312 ($("$PY312" -V 2>&1))"
    rm -rf "$VENV" "$IL23_DIR"
    mkdir -p "$CACHE"
    "$PY312" -m venv "$VENV"
    req_file="$(mktemp)"
    trap 'rm -f "$req_file"' EXIT
    printf '%s\n' "$REQUIREMENTS" | sed '/^$/d' > "$req_file"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --prefer-binary -r "$req_file"
    # Isaac Lab 2.3's sources (only read by the 2.x tests; the wheel cannot be installed on 3.12)
    "$VENV/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --python-version 3.11 -d "$IL23_DIR" "isaaclab==$IL23_VERSION"
    "$VENV/bin/python" - "$IL23_DIR" $IL23_PATHS <<'EOF'
import glob, sys, zipfile
target, prefixes = sys.argv[1], tuple(sys.argv[2:])
(wheel,) = glob.glob(f"{target}/isaaclab-*.whl")
with zipfile.ZipFile(wheel) as z:
    z.extractall(target, [n for n in z.namelist() if n.startswith(prefixes)])
EOF
    "$VENV/bin/python" -c 'import torch, isaaclab_tasks.utils.hydra, pxr' >/dev/null
    echo "$KEY" > "$STAMP"
    echo "isaaclab job: venv built in $(( $(date +%s) - start ))s ($(du -sh "$VENV" | cut -f1))"
fi

# our package, editable, from this checkout (cheap; the checkout path can change between runs)
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e "$ROOT"

export IHE_ISAACLAB23_SOURCE="$IL23_DIR/isaaclab/source"
cd "$ROOT"
status=0
"$VENV/bin/python" -m pytest -m isaaclab tests/isaaclab_ext "$@" || status=$?
echo "isaaclab job: finished in $(( $(date +%s) - start ))s (pytest exit $status)"
exit "$status"
