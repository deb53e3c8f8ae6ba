#!/usr/bin/env bash
# Build the CPU-only venv in which the Llama4 memory harness runs the real vLLM 0.23.0 code.
#
# Idempotent: a stamp file records what was installed, so a second run is a fast no-op.
# The last line printed is always the venv's python path, e.g.
#   PY=$(bash bench/llama4_memory/setup.sh | tail -n 1)
#
# Order matters: torch==2.13.0 first (the only torch pin that resolves to a local CPU
# build here; any other spec pulls a multi-GB CUDA build), then vLLM with --no-deps (its
# declared deps would drag CUDA torch back in), then the pinned pure-Python closure,
# also --no-deps so nothing re-resolves torch.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${EAGERLINT_CACHE:-$HOME/.cache/eagerlint}"
VLLM_VERSION="0.23.0"
TORCH_SPEC="torch==2.13.0"
REQS="$HERE/requirements-vllm-${VLLM_VERSION}-cpu.txt"
VENV="$CACHE/venv-vllm-${VLLM_VERSION}"
PY="$VENV/bin/python"
STAMP="$VENV/.eagerlint-stamp"
BASE_PY="${PYTHON:-python3}"

# The stamp's content is the full install recipe, so editing the pins invalidates it.
want_stamp="$(printf '%s\n%s\n' "$TORCH_SPEC" "vllm==$VLLM_VERSION"; cat "$REQS")"
if [[ -x "$PY" && -f "$STAMP" && "$(cat "$STAMP")" == "$want_stamp" ]]; then
    echo "$PY"
    exit 0
fi

mkdir -p "$CACHE/wheels"
shopt -s nullglob
wheels=("$CACHE/wheels"/vllm-"$VLLM_VERSION"-*.whl)
if (( ${#wheels[@]} == 0 )); then
    "$BASE_PY" -m pip download --no-deps --only-binary :all: "vllm==$VLLM_VERSION" -d "$CACHE/wheels" >&2
    wheels=("$CACHE/wheels"/vllm-"$VLLM_VERSION"-*.whl)
fi
# Several builds of one version may be cached (e.g. a "-2" rebuild tag): take the last.
VLLM_WHEEL="${wheels[-1]}"

[[ -x "$PY" ]] || "$BASE_PY" -m venv "$VENV" >&2
rm -f "$STAMP"
"$PY" -m pip install --quiet "$TORCH_SPEC" >&2
"$PY" -m pip install --quiet --no-deps "$VLLM_WHEEL" >&2
"$PY" -m pip install --quiet --no-deps -r "$REQS" >&2
# Fail here, not inside a measurement, if the closure is incomplete.
"$PY" -c "import torch, vllm, transformers, safetensors, runai_model_streamer" >&2

printf '%s' "$want_stamp" > "$STAMP"
echo "$PY"
