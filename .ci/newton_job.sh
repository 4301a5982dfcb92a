#!/usr/bin/env bash
# Isaac Lab 3.0 on Newton test job: runs `pytest -m newton tests/isaaclab_ext` (tests/isaaclab_ext/test_il_newton.py)
# against the real isaaclab==3.0.0, Newton 1.6.1 (MuJoCo-Warp on the CPU) and Isaac Lab's standalone MJCF importer
# (isaacsim-asset-isolated, the isaaclab[importers] extra): the Sber Go1 flat task built and stepped kit-less,
# trained and played by the APPO scripts, with no network (the env-building tests run under `unshare -n`).
#
# Its own Python 3.12 venv, built once and reused while the pinned requirements below are unchanged:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/isaac_hydra_ext/venv312-newton   (stamp file: .requirements.sha256)
# It is separate from .ci/isaaclab_job.sh's venv because Newton needs mujoco 3.12 (newton[sim] and the importer pin
# mujoco~=3.12.0, mujoco-warp~=3.12.0) where that job has mujoco 4.0. The list is that job's list with mujoco 4.0
# (and mujoco-core, mujoco-studio, websockets) replaced by mujoco 3.12 and the Newton / importer packages added.
# Left out on purpose (--no-deps): usd-optimize (327 MB; the importer imports it only for merge_mesh=True),
# urdf-usd-converter (URDF only), omniverseclient (Isaac Lab's downloader: nothing may be fetched).
# Warp compiles its CPU kernels on first use into ~/.cache/warp (about 60 s once; reused afterwards).
#
# Exits 0 with a "SKIP:" line when no Python 3.12 interpreter is found (set IHE_PYTHON312 to point at one).
# Extra arguments go to pytest.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/isaac_hydra_ext"
VENV="${IHE_NEWTON_VENV:-$CACHE/venv312-newton}"

# Installed with --no-deps: this list is the complete closure (pip resolves nothing), so it is reproducible.
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
glfw==2.11.0
PyOpenGL==3.1.10
mujoco==3.12.0
etils==1.15.0
newton==1.6.1
mujoco-warp==3.12.0
trimesh==5.2.0
isaacsim-asset-isolated==6.2.0.0
isaacsim-robot-schema==6.2.0.0
mujoco-usd-converter==0.6.1
newton-usd-schemas==0.5.0
tinyobjloader==2.0.0rc13
numpy-stl==4.1.1
python-utils==4.2.0
scipy==1.18.1
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
    echo "SKIP: newton job: no Python 3.12 interpreter found (Isaac Lab 3.0 requires Python 3.12); set IHE_PYTHON312"
    exit 0
fi

KEY="$(printf '%s\n%s\n' "$REQUIREMENTS" "$("$PY312" -V 2>&1)" | sha256sum | cut -d' ' -f1)"
STAMP="$VENV/.requirements.sha256"
start=$(date +%s)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$KEY" ] && [ -x "$VENV/bin/python" ]; then
    echo "newton job: reusing $VENV"
else
    echo "newton job: building $VENV with $PY312 ($("$PY312" -V 2>&1))"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PY312" -m venv "$VENV"
    req_file="$(mktemp)"
    trap 'rm -f "$req_file"' EXIT
    printf '%s\n' "$REQUIREMENTS" | sed '/^$/d' > "$req_file"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --prefer-binary -r "$req_file"
    "$VENV/bin/python" -c 'import torch, newton, mujoco_warp, isaaclab_newton, isaacsim.asset.importer.mjcf, trimesh, scipy' >/dev/null
    echo "$KEY" > "$STAMP"
    echo "newton job: venv built in $(( $(date +%s) - start ))s ($(du -sh "$VENV" | cut -f1))"
fi

# our package, editable, from this checkout (cheap; the checkout path can change between runs)
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e "$ROOT"

cd "$ROOT"
status=0
"$VENV/bin/python" -m pytest -m newton -p no:cacheprovider tests/isaaclab_ext "$@" || status=$?
echo "newton job: finished in $(( $(date +%s) - start ))s (pytest exit $status)"
exit "$status"
