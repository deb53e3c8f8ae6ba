"""Build the *upstream hand fix* as a variant of vLLM 0.23.0's two Llama4 files.

vLLM 0.24.0 fixed both files by hand, but its files do not import against
0.23.0 (`maybe_remap_moe_expert_param_name` is new in 0.24.0).  This script
takes the 0.23.0 files and swaps in 0.24.0's own methods: `Llama4ForCausalLM.load_weights`
in llama4.py; in mllama4.py, `Llama4ForConditionalGeneration.load_weights`
(minus the one call to the new remapping helper, a no-op for checkpoints
without remapped expert names) replacing 0.23.0's method and its two
draining helpers.  The result is written to a cache folder, never to the repo.

    python bench/llama4_memory/upstream_variant.py DIR
    python bench/llama4_memory/upstream_variant.py --clone-side-buffers DIR

0.24.0's mllama4 streams the language-model weights and buffers the small rest (vision and
projector weights, expert scales) as they were yielded; `--clone-side-buffers` makes those
two lists keep `weight.clone()` instead, the version a buffer-reusing loader cannot corrupt
(probe_load.py's reuse mode tells the two apart).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import vllm_source

MODELS = "vllm/model_executor/models"
SIDE_BUFFERS = ("other_weights", "expert_scale_weights")


def _method(tree: ast.Module, cls: str, name: str) -> ast.FunctionDef:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == name:
                    return item
    raise LookupError(f"{cls}.{name}")


def _span(fn: ast.FunctionDef) -> tuple[int, int]:
    start = min([fn.lineno, *(d.lineno for d in fn.decorator_list)]) - 1
    assert fn.end_lineno is not None
    return start, fn.end_lineno


def swap(old_text: str, new_text: str, cls: str, name: str, drop: tuple[str, ...] = ()) -> str:
    old_lines = old_text.splitlines(keepends=True)
    new_tree, old_tree = ast.parse(new_text), ast.parse(old_text)
    start, end = _span(_method(new_tree, cls, name))
    replacement = new_text.splitlines(keepends=True)[start:end]
    cuts = [_span(_method(old_tree, cls, name)), *(_span(_method(old_tree, cls, d)) for d in drop)]
    for cut_start, cut_end in sorted(cuts, reverse=True):
        is_target = (cut_start, cut_end) == cuts[0]
        old_lines[cut_start:cut_end] = replacement if is_target else []
    return "".join(old_lines)


def clone_side_buffers(mllama4: str) -> str:
    for side in SIDE_BUFFERS:
        kept = f"{side}.append((renamed, weight))"
        if mllama4.count(kept) != 1:
            raise SystemExit(f"0.24.0's load_weights changed shape: `{kept}` was not found once")
        mllama4 = mllama4.replace(kept, f"{side}.append((renamed, weight.clone()))")
    return mllama4


def build(target: Path, clone: bool = False) -> Path:
    old = vllm_source.source("0.23.0") / MODELS
    new = vllm_source.source("0.24.0") / MODELS
    target.mkdir(parents=True, exist_ok=True)
    llama4 = swap(
        (old / "llama4.py").read_text(), (new / "llama4.py").read_text(), "Llama4ForCausalLM", "load_weights"
    )
    (target / "llama4.py").write_text(llama4)
    mllama4 = swap(
        (old / "mllama4.py").read_text(),
        (new / "mllama4.py").read_text(),
        "Llama4ForConditionalGeneration",
        "load_weights",
        drop=("_separate_and_rename_weights", "_handle_expert_scale_broadcasting"),
    )
    remap = "                    renamed = maybe_remap_moe_expert_param_name(renamed, params_dict)\n"
    if mllama4.count(remap) != 1:
        raise SystemExit("0.24.0's load_weights changed shape: the remapping line was not found once")
    mllama4 = mllama4.replace(remap, "")
    if clone:
        mllama4 = clone_side_buffers(mllama4)
    compile(mllama4, "mllama4.py", "exec")
    (target / "mllama4.py").write_text(mllama4)
    return target


if __name__ == "__main__":
    args = sys.argv[1:]
    clone = "--clone-side-buffers" in args
    args = [a for a in args if a != "--clone-side-buffers"]
    if len(args) != 1:
        raise SystemExit("usage: upstream_variant.py [--clone-side-buffers] DIR")
    print(build(Path(args[0]), clone))
