"""Write a random Hugging Face Llama4 checkpoint of roughly a target size.

Runs in the harness venv (torch, transformers, safetensors). The checkpoint is
deterministic from the seed: every tensor is drawn from a generator seeded by
(seed, tensor name), so the bytes do not depend on iteration order or on the
host. A checkpoint already written with the same parameters is reused.

The last stdout line is a JSON object with the directory, total bytes and the
largest tensor's bytes.

    python make_checkpoint.py --kind causal --size-mib 2048
    python make_checkpoint.py --kind conditional --size-mib 48 --out-root /tmp/ckpts
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

MIB = 1 << 20
DTYPE = torch.bfloat16  # what real Llama4 checkpoints ship
SHARD_BYTES = 512 * MIB  # several shards, like a real checkpoint, so loaders cross file boundaries
FORMAT_VERSION = 1  # bump when the layout below changes, to invalidate cached checkpoints


def text_config_kwargs(size_mib: float, num_layers: int) -> dict[str, Any]:
    """Dims scaled with the target so the largest tensor is ~1/64 of the checkpoint.

    Both the embedding (vocab = 4h, h) and the fused expert gate_up_proj
    (4 experts, h, 2 * h/2) hold 4*h^2 elements: at 2 GiB, h = 2048 makes each
    32 MiB in bf16, the size the transient/largest-tensor ratio is judged against.
    """
    largest_bytes = size_mib * MIB / 64
    h = max(128, int(math.sqrt(largest_bytes / DTYPE.itemsize / 4)) // 64 * 64)
    head_dim = 128 if h >= 1024 else 64
    heads = h // head_dim
    return {
        "vocab_size": 4 * h,
        "hidden_size": h,
        "intermediate_size": h // 2,  # per expert
        "intermediate_size_mlp": h,  # dense layers
        "num_hidden_layers": num_layers,
        "num_attention_heads": heads,
        "num_key_value_heads": max(1, heads // 4),
        "head_dim": head_dim,
        "num_local_experts": 4,
        "num_experts_per_tok": 1,
        # Alternate dense and MoE layers (as Llama 4 Maverick does) so both the
        # stacked gate/up mapping and the fused-expert mapping are exercised.
        "interleave_moe_layer_step": 2,
        "tie_word_embeddings": False,
        "max_position_embeddings": 4096,
        "attention_chunk_size": 1024,
    }


def tiny_vision_config_kwargs() -> dict[str, Any]:
    # A few hundred KiB: only there so the conditional class has its vision tower
    # and projector, whose weights take mllama4's "other weights" path.
    return {
        "hidden_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "intermediate_size": 128,
        "vision_output_dim": 128,
        "projector_input_dim": 128,
        "projector_output_dim": 128,
        "image_size": 56,
        "patch_size": 14,
    }


def build_config(kind: str, size_mib: float, num_layers: int) -> Any:
    from transformers import Llama4Config, Llama4TextConfig, Llama4VisionConfig

    text = Llama4TextConfig(**text_config_kwargs(size_mib, num_layers))
    if kind == "causal":
        text.architectures = ["Llama4ForCausalLM"]
        return text
    vision = Llama4VisionConfig(**tiny_vision_config_kwargs())
    cfg = Llama4Config(text_config=text.to_dict(), vision_config=vision.to_dict())
    cfg.architectures = ["Llama4ForConditionalGeneration"]
    return cfg


def tensor_shapes(cfg: Any, kind: str) -> dict[str, tuple[int, ...]]:
    """The HF model's state-dict names and shapes, which are its checkpoint names.

    Built on the meta device: no memory, no random init.
    """
    from transformers import Llama4ForCausalLM, Llama4ForConditionalGeneration

    cls = Llama4ForCausalLM if kind == "causal" else Llama4ForConditionalGeneration
    with torch.device("meta"):
        model = cls(cfg)
    return {name: tuple(t.shape) for name, t in model.state_dict().items()}


def nbytes(shape: tuple[int, ...]) -> int:
    return math.prod(shape) * int(DTYPE.itemsize)


def pick_layers(kind: str, size_mib: float) -> int:
    """Even layer count (dense + MoE pairs) whose total is closest to the target."""
    fixed = sum(map(nbytes, tensor_shapes(build_config(kind, size_mib, 0), kind).values()))
    pair = sum(map(nbytes, tensor_shapes(build_config(kind, size_mib, 2), kind).values())) - fixed
    pairs = max(1, round((size_mib * MIB - fixed) / pair))
    return 2 * pairs


def random_tensor(seed: int, name: str, shape: tuple[int, ...]) -> torch.Tensor:
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    gen = torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))
    return (torch.randn(shape, generator=gen) * 0.02).to(DTYPE)


def shards(shapes: dict[str, tuple[int, ...]]) -> Iterator[list[str]]:
    current: list[str] = []
    size = 0
    for name in shapes:
        if current and size + nbytes(shapes[name]) > SHARD_BYTES:
            yield current
            current, size = [], 0
        current.append(name)
        size += nbytes(shapes[name])
    if current:
        yield current


def write_checkpoint(kind: str, size_mib: float, seed: int, out: Path) -> None:
    cfg = build_config(kind, size_mib, pick_layers(kind, size_mib))
    shapes = tensor_shapes(cfg, kind)
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    cfg.dtype = "bfloat16"  # transformers 5 name of torch_dtype
    cfg.save_pretrained(tmp)
    groups = list(shards(shapes))
    weight_map: dict[str, str] = {}
    for i, names in enumerate(groups, 1):
        fname = f"model-{i:05d}-of-{len(groups):05d}.safetensors"
        save_file({n: random_tensor(seed, n, shapes[n]) for n in names}, tmp / fname, {"format": "pt"})
        weight_map.update(dict.fromkeys(names, fname))
    total = sum(map(nbytes, shapes.values()))
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (tmp / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))
    info = {
        "total_bytes": total,
        "largest_tensor_bytes": max(map(nbytes, shapes.values())),
    }
    (tmp / "eagerlint_checkpoint.json").write_text(json.dumps(info))
    os.replace(tmp, out)  # atomic: a crash never leaves a half-written dir that looks reusable


def default_root() -> Path:
    cache = os.environ.get("EAGERLINT_CACHE", str(Path.home() / ".cache" / "eagerlint"))
    return Path(cache) / "checkpoints"


def ensure_checkpoint(kind: str, size_mib: float, seed: int, root: Path) -> dict[str, Any]:
    out = root / f"llama4-{kind}-{size_mib:g}mib-seed{seed}-v{FORMAT_VERSION}"
    if not (out / "eagerlint_checkpoint.json").exists():
        write_checkpoint(kind, size_mib, seed, out)
    info: dict[str, Any] = json.loads((out / "eagerlint_checkpoint.json").read_text())
    return {"dir": str(out), "kind": kind, **info}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=("causal", "conditional"), required=True)
    ap.add_argument("--size-mib", type=float, default=2048)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out-root", type=Path, default=default_root())
    args = ap.parse_args()
    print(json.dumps(ensure_checkpoint(args.kind, args.size_mib, args.seed, args.out_root)))


if __name__ == "__main__":
    main()
