"""eagerlint.probe on a real vLLM 0.23.0 Llama4 ``load_weights`` on CPU, in one fresh process.

Runs in the harness venv (setup.sh), with measure.py's setup: the CPU platform, the variant
files served under vLLM's module names, a gloo world of size 1. The model is built once and
loaded three times from the mmap safetensors loader, its parameters zeroed before each load:

* plain: no probe, the reference state;
* count: through ``probe(weights)``, which hands out a private copy of every tensor;
* reuse: through ``probe(weights, mode="reuse")``, which also overwrites each copy with NaN
  bytes once the next tensor is asked for, as a buffer-reusing loader does.

    python probe_load.py --cls causal --checkpoint DIR --variant stock

Prints one JSON line on stdout: both reports (their fields and verdict) and the three state
hashes.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # eagerlint, for eagerlint.probe (standard library only)
import measure  # noqa: E402

from eagerlint.probe import Mode, ProbedStream, probe  # noqa: E402

Wrap = Callable[[Iterable[tuple[str, Any]]], Iterable[tuple[str, Any]]]


def load(model: Any, checkpoint: str, wrap: Wrap) -> str:
    """Zero the parameters, load the checkpoint through `wrap`, return the state hash."""
    import torch

    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    missing = {n for n, _ in model.named_parameters()} - set(
        model.load_weights(wrap(measure.weights_iterator("safetensors", checkpoint)))
    )
    if missing:
        raise SystemExit(f"load_weights left parameters unloaded: {sorted(missing)[:5]}")
    return measure.state_hash(model)


def probed_load(model: Any, checkpoint: str, mode: Mode) -> dict[str, Any]:
    streams: list[ProbedStream[Any]] = []

    def wrap(weights: Iterable[tuple[str, Any]]) -> ProbedStream[Any]:
        streams.append(probe(weights, mode))
        return streams[-1]

    state = load(model, checkpoint, wrap)
    report = streams[0].report(loaded=model.state_dict().items())
    return {**dataclasses.asdict(report), "verdict": report.verdict, "state_sha256": state}


def run(cls: str, checkpoint: str, variant: str) -> dict[str, Any]:
    os.environ.setdefault("VLLM_CACHE_ROOT", tempfile.mkdtemp(prefix="eagerlint-vllm-cache-"))
    variant_files = measure.install_variant(variant)
    measure.stub_llama4_fast_image_processor()
    measure.prepare_vllm()
    model, _ = measure.build_model(checkpoint)
    module_file = sys.modules[type(model).__module__].__file__
    plain = load(model, checkpoint, lambda weights: weights)
    return {
        "cls": cls,
        "arch": type(model).__name__,
        "variant": variant,
        "variant_files": variant_files,
        "module_file": module_file,
        "params": sum(1 for _ in model.parameters()),
        "plain_state_sha256": plain,
        "count": probed_load(model, checkpoint, "count"),
        "reuse": probed_load(model, checkpoint, "reuse"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cls", choices=("causal", "conditional"), required=True)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--variant", default="stock", help="'stock' or a dir with llama4.py and/or mllama4.py")
    args = ap.parse_args()
    with contextlib.redirect_stdout(sys.stderr):  # vLLM logs to stdout; keep it for the JSON line
        result = run(args.cls, args.checkpoint, args.variant)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
