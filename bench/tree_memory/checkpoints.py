"""Write small random checkpoints for the vLLM 0.23.0 model families of the tree bench.

Runs in the harness venv (torch, transformers, safetensors). For each family of
families.py it writes a Hugging Face folder: ``config.json`` with a small random
config, safetensors shards whose tensor names and shapes are those of the real
checkpoints (taken from the transformers class on the meta device, composed from
several when the vLLM model has no transformers twin), and
``eagerlint_checkpoint.json``: architecture, the vLLM class it must build, the
``ModelConfig`` arguments, total bytes and the largest tensor.

Every tensor is drawn from a generator seeded by (seed, tensor name), so the bytes
depend on neither iteration order nor host. The dims are scaled so the checkpoint
is about ``--size-mib`` (the hidden size grows with the target, the layer count
fills it), and a folder already written with the same parameters is reused.

    python checkpoints.py --family bert-embed --size-mib 64
    python checkpoints.py --list
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
import families

MIB = 1 << 20
SHARD_BYTES = 256 * MIB  # several shards at the bench size, so loaders cross file boundaries
FORMAT_VERSION = 1  # bump when the layout changes, to invalidate cached checkpoints
HIDDEN_CHOICES = (64, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048)


def nbytes(spec: families.TensorSpec) -> int:
    shape, dtype = spec
    return math.prod(shape) * dtype.itemsize


def total(shapes: dict[str, families.TensorSpec]) -> int:
    return sum(map(nbytes, shapes.values()))


def fit(family: families.Family, size_mib: float) -> tuple[int, int]:
    """(hidden, layers): the largest hidden size whose smallest model is under a
    quarter of the target, then the layer count whose total is closest to it; for a
    model of fixed depth, the largest hidden size under the target."""
    target = size_mib * MIB
    step = family.layer_step
    hidden = HIDDEN_CHOICES[0]
    if family.max_layers <= step:  # a fixed depth (a one-layer draft): the width fills it
        for h in HIDDEN_CHOICES:
            if total(family.tensors(family.config(h, family.max_layers))) <= target:
                hidden = h
        return hidden, family.max_layers
    for h in HIDDEN_CHOICES:
        if total(family.tensors(family.config(h, step))) <= target / 4:
            hidden = h
    one = total(family.tensors(family.config(hidden, step)))
    two = total(family.tensors(family.config(hidden, 2 * step)))
    per_step = max(1, two - one)
    steps = max(1, round((target - (one - per_step)) / per_step))
    return hidden, min(steps * step, family.max_layers)


def random_tensor(seed: int, name: str, spec: families.TensorSpec) -> torch.Tensor:
    shape, dtype = spec
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    gen = torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))
    if dtype.is_floating_point:
        return (torch.randn(shape, generator=gen) * 0.02).to(dtype)
    if dtype == torch.bool:
        return torch.randint(0, 2, shape, generator=gen).bool()
    # Integer tensors are index maps (e.g. Eagle3's d2t): keep them small and valid.
    return torch.randint(0, 8, shape, generator=gen).to(dtype)


def shards(shapes: dict[str, families.TensorSpec]) -> Iterator[list[str]]:
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


def layout(family: families.Family, size_mib: float) -> tuple[int, int, families.Config, dict[str, Any]]:
    hidden, layers = fit(family, size_mib)
    config = family.config(hidden, layers)
    return hidden, layers, config, family.tensors(config)


def layout_key(config: families.Config, shapes: dict[str, families.TensorSpec], seed: int) -> str:
    """Changes whenever what would be written changes, so a cached folder is never stale."""
    text = json.dumps(
        [FORMAT_VERSION, seed, config, {n: [s, str(d)] for n, (s, d) in shapes.items()}], default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def write_checkpoint(family: families.Family, size_mib: float, seed: int, out: Path) -> None:
    hidden, layers, config, shapes = layout(family, size_mib)
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / "config.json").write_text(json.dumps(config, indent=2, default=str))
    for name, text in family.extra_files(config).items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_text(text)
    groups = list(shards(shapes))
    weight_map: dict[str, str] = {}
    for i, names in enumerate(groups, 1):
        fname = f"model-{i:05d}-of-{len(groups):05d}.safetensors"
        save_file({n: random_tensor(seed, n, shapes[n]) for n in names}, tmp / fname, {"format": "pt"})
        weight_map.update(dict.fromkeys(names, fname))
    index = {"metadata": {"total_size": total(shapes)}, "weight_map": weight_map}
    (tmp / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))
    largest = max(shapes, key=lambda n: nbytes(shapes[n]))
    meta = {
        **families.build_meta(family),
        "hidden_size": hidden,
        "layers": layers,
        "tensors": len(shapes),
        "total_bytes": total(shapes),
        "largest_tensor": largest,
        "largest_tensor_bytes": nbytes(shapes[largest]),
    }
    (tmp / "eagerlint_checkpoint.json").write_text(json.dumps(meta, indent=2))
    os.replace(tmp, out)  # atomic: a crash never leaves a half-written dir that looks reusable


def default_root() -> Path:
    cache = os.environ.get("EAGERLINT_CACHE", str(Path.home() / ".cache" / "eagerlint"))
    return Path(cache) / "checkpoints"


def ensure_checkpoint(name: str, size_mib: float, seed: int, root: Path) -> dict[str, Any]:
    family = families.FAMILIES[name]
    _, _, config, shapes = layout(family, size_mib)
    out = root / f"tree-{name}-{size_mib:g}mib-{layout_key(config, shapes, seed)}"
    if not (out / "eagerlint_checkpoint.json").exists():
        write_checkpoint(family, size_mib, seed, out)
    info: dict[str, Any] = json.loads((out / "eagerlint_checkpoint.json").read_text())
    return {"dir": str(out), **info}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", action="append", default=[], help="repeatable; default: all")
    ap.add_argument("--size-mib", type=float, default=96)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out-root", type=Path, default=default_root())
    ap.add_argument("--list", action="store_true", help="print the catalogue as JSON and exit")
    args = ap.parse_args()
    if args.list:
        print(json.dumps({"families": families.catalogue(), "not_built": families.NOT_BUILT}))
        return
    for name in args.family or list(families.FAMILIES):
        print(json.dumps(ensure_checkpoint(name, args.size_mib, args.seed, args.out_root)), flush=True)


if __name__ == "__main__":
    main()
