"""fixes/: the Llama4 reference fix is eagerlint's own output and matches upstream.

The mllama4 check runs the real `Llama4ForConditionalGeneration` weight-loading
methods of three versions of the file — vLLM 0.23.0 as shipped, 0.23.0 fixed by
eagerlint, and vLLM 0.24.0's hand fix — against the same synthetic checkpoint,
with vLLM's loader classes replaced by recorders.  Every version must load the
same parameters in the same order within each group (streamed language-model
weights, buffered expert scales, broadcast scalars, vision/projector weights).
"""

from __future__ import annotations

import ast
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "fixes"))
sys.path.insert(0, str(ROOT / "bench"))
import regenerate  # noqa: E402
import vllm_source  # noqa: E402

MODELS = "vllm/model_executor/models"
CLASS = "Llama4ForConditionalGeneration"
METHODS = (
    "_rename_weight_for_modelopt_checkpoint",
    "_separate_and_rename_weights",
    "_handle_expert_scale_broadcasting",
    "_load_other_weights",
    "load_weights",
)


def test_committed_diffs_regenerate_byte_for_byte() -> None:
    for name, text in regenerate.diffs().items():
        assert (ROOT / "fixes" / "llama4" / f"{name}.diff").read_text() == text, name


@pytest.fixture(scope="module")
def fixed_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        regenerate.apply(Path(tmp))
        yield Path(tmp)


# -- recorders standing in for vLLM and torch -------------------------------------------


class Tensor:
    def __init__(self, name: str, numel: int, log: list[tuple[str, ...]]) -> None:
        self.name, self._numel, self.log = name, numel, log

    def numel(self) -> int:
        return self._numel

    def item(self) -> str:
        return self.name


class Data:
    def __init__(self, name: str, numel: int, log: list[tuple[str, ...]]) -> None:
        self.name, self._numel, self.log = name, numel, log

    def numel(self) -> int:
        return self._numel

    def fill_(self, value: str) -> None:
        self.log.append(("broadcast", self.name, value))


class Param:
    def __init__(self, name: str, numel: int, log: list[tuple[str, ...]]) -> None:
        self.name = name
        self.data = Data(name, numel, log)
        self.log = log

    def weight_loader(self, param: Param, weight: Tensor, shard: Any = None) -> None:
        self.log.append(("other", self.name, weight.name))


class StageMissingLayer:
    pass


def build(source: str, log: list[tuple[str, ...]], params: dict[str, Param]) -> Any:
    """The class's weight-loading methods, executed against recorders."""
    tree = ast.parse(source)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == CLASS)
    lines = source.splitlines(keepends=True)
    body = "".join(
        "".join(lines[item.lineno - 1 : item.end_lineno])
        for item in cls.body
        if isinstance(item, ast.FunctionDef) and item.name in METHODS
    )

    class AutoWeightsLoader:
        def __init__(self, model: Any, **_: Any) -> None:
            self.call = 0

        def load_weights(self, weights: Iterable[tuple[str, Tensor]]) -> set[str]:
            self.call += 1
            names = set()
            for name, weight in weights:  # noqa: EL003 (a recorder)
                log.append((f"auto{self.call}", name, weight.name))
                names.add(name)
            return names

    namespace: dict[str, Any] = {
        "Iterable": Iterable,
        "torch": SimpleNamespace(Tensor=Tensor),
        "AutoWeightsLoader": AutoWeightsLoader,
        "StageMissingLayer": StageMissingLayer,
        "default_weight_loader": lambda param, weight: log.append(("other", param.name, weight.name)),
        "maybe_remap_moe_expert_param_name": lambda name, params_dict: name,
    }
    exec(compile(f"class Model:\n{body}", "<mllama4>", "exec"), namespace)
    model = namespace["Model"]()
    model.use_data_parallel = False
    model.named_parameters = lambda: list(params.items())
    model.language_model = model.vision_model = model.multi_modal_projector = object()
    return model


def checkpoint(log: list[tuple[str, ...]]) -> tuple[list[tuple[str, Tensor]], dict[str, Param]]:
    stream: list[tuple[str, Tensor]] = []
    params: dict[str, Param] = {}
    for layer in range(3):
        for part in ("self_attn.o_proj.weight", "feed_forward.experts.down_proj"):
            name = f"language_model.model.layers.{layer}.{part}"
            stream.append((name, Tensor(name, 64, log)))
        # A scalar expert scale whose parameter spans all experts: broadcast.
        scale = f"language_model.model.layers.{layer}.feed_forward.experts.w13_weight_scale"
        stream.append((scale, Tensor(scale, 1, log)))
        params[scale] = Param(scale, 8, log)
        # An expert scale with no such parameter: buffered for the second load.
        odd = f"language_model.model.layers.{layer}.feed_forward.experts.w2_input_scale"
        stream.append((odd, Tensor(odd, 4, log)))
    # ModelOpt naming, renamed into the language model.
    stream.append(("model.norm.weight", Tensor("model.norm.weight", 16, log)))
    for name in ("vision_model.patch_embedding.weight", "multi_modal_projector.linear_1.weight"):
        stream.append((name, Tensor(name, 32, log)))
        params[name] = Param(name, 32, log)
    return stream, params


def run(source: str) -> tuple[dict[str, list[tuple[str, ...]]], set[str]]:
    log: list[tuple[str, ...]] = []
    stream, params = checkpoint(log)
    model = build(source, log, params)
    loaded = model.load_weights(iter(stream))
    groups: dict[str, list[tuple[str, ...]]] = {}
    for entry in log:
        groups.setdefault(entry[0], []).append(entry)
    return groups, loaded


def test_fixed_mllama4_loads_like_stock_and_like_upstream(fixed_dir: Path) -> None:
    stock = run((vllm_source.source("0.23.0") / MODELS / "mllama4.py").read_text())
    ours = run((fixed_dir / "mllama4.py").read_text())
    upstream = run((vllm_source.source("0.24.0") / MODELS / "mllama4.py").read_text())
    groups, _loaded = ours
    assert set(groups) == {"auto1", "auto2", "broadcast", "other"}
    assert len(groups["auto1"]) == 7 and len(groups["broadcast"]) == 3 and len(groups["other"]) == 2
    assert ours == stock
    assert ours == upstream


def test_fixed_llama4_method_is_upstreams(fixed_dir: Path) -> None:
    def method(source: str) -> str:
        tree = ast.parse(source)
        cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Llama4ForCausalLM")
        fn = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "load_weights")
        return ast.dump(fn, include_attributes=False)

    upstream = (vllm_source.source("0.24.0") / MODELS / "llama4.py").read_text()
    assert method((fixed_dir / "llama4.py").read_text()) == method(upstream)
