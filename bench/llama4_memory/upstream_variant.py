"""Build the *upstream hand fix* as a variant of vLLM 0.23.0's two Llama4 files.

vLLM 0.24.0 fixed both files by hand, but its files do not import against
0.23.0 (`maybe_remap_moe_expert_param_name` is new in 0.24.0).  This script
takes the 0.23.0 files and swaps in 0.24.0's own methods: `Llama4ForCausalLM.load_weights`
in llama4.py; in mllama4.py, `Llama4ForConditionalGeneration.load_weights`
(minus the one call to the new remapping helper, a no-op for checkpoints
without remapped expert names) replacing 0.23.0's method and its two
draining helpers.  The result is written to a cache folder, never to the repo.

    python bench/llama4_memory/upstream_variant.py DIR
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import vllm_source

MODELS = "vllm/model_executor/models"


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


def build(target: Path) -> Path:
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
    (target / "mllama4.py").write_text(mllama4.replace(remap, ""))
    compile(mllama4.replace(remap, ""), "mllama4.py", "exec")
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: upstream_variant.py DIR")
    print(build(Path(sys.argv[1])))
