"""The catalogue: vLLM 0.23.0 model classes that build on CPU from a small random config.

Each ``Family`` says how to write a checkpoint that the real class loads: a
``config.json`` (a function of hidden size and layer count, so checkpoints.py can
scale it), and the tensor names and shapes of a real checkpoint of that
architecture, taken from the transformers class on the meta device (no memory, no
init) or composed from several when vLLM's model has no transformers twin. Runs in
the harness venv.

A family is one registry architecture; ``cls`` is the vLLM class it must build
(measure.py refuses anything else). ``why`` is one line on what the family exercises.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

DTYPE = torch.bfloat16
TensorSpec = tuple[tuple[int, ...], torch.dtype]
Config = dict[str, Any]
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Family:
    name: str
    arch: str  # the registry architecture written into config.json
    cls: str  # the vLLM class it must build
    config: Callable[[int, int], Config]  # (hidden, layers) -> config.json
    tensors: Callable[[Config], dict[str, TensorSpec]]
    why: str
    model_config: dict[str, Any] = field(default_factory=dict)  # extra ModelConfig arguments
    dtype: str = "bfloat16"
    speculative: str | None = None  # a SpeculativeConfig method: built as a draft model
    stub_modules: tuple[str, ...] = ()
    layer_step: int = 1
    max_layers: int = 64
    files: Callable[[Config], dict[str, str]] | None = None

    def extra_files(self, config: Config) -> dict[str, str]:
        return self.files(config) if self.files else {}


# -- helpers -------------------------------------------------------------------------


def hf_config(config: Config) -> Any:
    """The transformers config object for a config.json dict."""
    from transformers import AutoConfig

    d = dict(config)
    return AutoConfig.for_model(d.pop("model_type"), **d)


def hf_tensors(
    cls_name: str, config: Any, prefix: str = "", drop: Callable[[str], bool] | None = None
) -> dict[str, TensorSpec]:
    """Names, shapes and dtypes of a transformers model's saved tensors.

    ``named_parameters`` lists a tied parameter once, as save_pretrained writes it;
    persistent buffers are saved too. Floating tensors are written in DTYPE.
    """
    import transformers

    cls = getattr(transformers, cls_name)
    with torch.device("meta"):
        model = cls(config)
    out: dict[str, TensorSpec] = {}
    persistent = {
        f"{mod_name}.{b}" if mod_name else b
        for mod_name, mod in model.named_modules()
        for b in mod._buffers
        if b not in mod._non_persistent_buffers_set
    }
    items = [*model.named_parameters(), *((n, b) for n, b in model.named_buffers() if n in persistent)]
    undo = hub_renames(config)
    for name, t in items:
        if drop is not None and drop(name):
            continue
        out[prefix + undo(name)] = (tuple(t.shape), DTYPE if t.dtype.is_floating_point else t.dtype)
    return out


def hub_renames(config: Any) -> Callable[[str], str]:
    """transformers 5 renames some checkpoint tensors when it loads them (its
    ``conversion_mapping``); the checkpoints on the hub, which vLLM reads, keep the
    old names. Undo the plain renamings; a merge or split (``WeightConverter``) is
    refused, for the family to spell out its names itself."""
    import re

    from transformers.conversion_mapping import WeightRenaming, get_checkpoint_conversion_mapping

    pairs: list[tuple[str, str, bool]] = []  # (model name part, hub name part, anchored)
    for rule in get_checkpoint_conversion_mapping(config.model_type) or []:
        if not isinstance(rule, WeightRenaming):
            raise NotImplementedError(f"{config.model_type}: {type(rule).__name__} in its conversion mapping")
        for src, dst in zip(rule.source_patterns, rule.target_patterns, strict=True):
            anchored = src.startswith("^")
            hub = re.sub(r"\\(.)", r"\1", src.lstrip("^"))
            if not re.fullmatch(r"[\w.]+", hub):
                raise NotImplementedError(f"{config.model_type}: renaming pattern {src!r}")
            pairs.append((dst, hub, anchored))

    def undo(name: str) -> str:
        for model_part, hub_part, anchored in pairs:
            if anchored and name.startswith(model_part):
                return hub_part + name[len(model_part) :]
            if not anchored and model_part in name:
                return name.replace(model_part, hub_part)
        return name

    return undo


def dims(hidden: int, head_dim: int = 64) -> dict[str, int]:
    heads = max(1, hidden // head_dim)
    return {
        "hidden_size": hidden,
        "num_attention_heads": heads,
        "num_key_value_heads": max(1, heads // 2),
        "intermediate_size": 2 * hidden,
        "vocab_size": max(1024, 2 * hidden),
    }


def bert_config(hidden: int, layers: int, arch: str, model_type: str = "bert") -> Config:
    d = dims(hidden)
    return {
        "model_type": model_type,
        "architectures": [arch],
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": d["num_attention_heads"],
        "intermediate_size": 4 * hidden,
        "vocab_size": d["vocab_size"],
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "pad_token_id": 0,
        "dtype": "bfloat16",
    }


def roberta_config(hidden: int, layers: int, arch: str, model_type: str = "roberta") -> Config:
    c = bert_config(hidden, layers, arch, model_type)
    c.update(pad_token_id=1, bos_token_id=0, eos_token_id=2, max_position_embeddings=514, type_vocab_size=1)
    return c


def decoder_config(hidden: int, layers: int, arch: str, model_type: str, **extra: Any) -> Config:
    c: Config = {
        "model_type": model_type,
        "architectures": [arch],
        **dims(hidden),
        "num_hidden_layers": layers,
        "max_position_embeddings": 2048,
        "tie_word_embeddings": False,
        "dtype": "bfloat16",
    }
    c.update(extra)
    return c


def from_hf(cls_name: str, **kw: Any) -> Callable[[Config], dict[str, TensorSpec]]:
    def tensors(config: Config) -> dict[str, TensorSpec]:
        return hf_tensors(cls_name, hf_config(config), **kw)

    return tensors


@functools.cache
def llama4_make_checkpoint() -> Any:
    path = HERE.parent / "llama4_memory" / "make_checkpoint.py"
    spec = importlib.util.spec_from_file_location("llama4_make_checkpoint", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def llama4_config(kind: str) -> Callable[[int, int], Config]:
    """bench/llama4_memory's config, with the hidden size given instead of derived."""

    def config(hidden: int, layers: int) -> Config:
        mc = llama4_make_checkpoint()
        h = max(128, hidden)
        size_mib = 64 * 4 * h * h * mc.DTYPE.itemsize / (1 << 20)  # the size at which it picks h
        cfg = mc.build_config(kind, size_mib, layers)
        d: Config = json.loads(cfg.to_json_string(use_diff=False))
        d["dtype"] = "bfloat16"
        return d

    return config


def llama4_tensors(kind: str) -> Callable[[Config], dict[str, TensorSpec]]:
    def tensors(config: Config) -> dict[str, TensorSpec]:
        from transformers import Llama4Config, Llama4TextConfig

        cfg = Llama4TextConfig.from_dict(config) if kind == "causal" else Llama4Config.from_dict(config)
        shapes = llama4_make_checkpoint().tensor_shapes(cfg, kind)
        return {n: (tuple(s), DTYPE) for n, s in shapes.items()}

    return tensors


# -- the catalogue ---------------------------------------------------------------------

POOLING = {"runner": "pooling"}


def _families() -> list[Family]:
    return [
        Family(
            "llama4-causal",
            "Llama4ForCausalLM",
            "Llama4ForCausalLM",
            llama4_config("causal"),
            llama4_tensors("causal"),
            "the reference case: a list comprehension over the stream (EL001, safe fix)",
            stub_modules=(),
            layer_step=2,
        ),
        Family(
            "llama4-conditional",
            "Llama4ForConditionalGeneration",
            "Llama4ForConditionalGeneration",
            llama4_config("conditional"),
            llama4_tensors("conditional"),
            "the reference case: helpers that drain the stream into lists (EL004, unsafe fix)",
            layer_step=2,
        ),
        Family(
            "bert-embed",
            "BertModel",
            "BertEmbeddingModel",
            lambda h, n: bert_config(h, n, "BertModel"),
            from_hf("BertModel"),
            "list(weights) scanned for a prefix, then loaded (EL002, no fix: used twice)",
            model_config=POOLING,
        ),
        Family(
            "bert-splade",
            "BertSpladeSparseEmbeddingModel",
            "BertSpladeSparseEmbeddingModel",
            lambda h, n: {
                **bert_config(h, n, "BertSpladeSparseEmbeddingModel"),
                "tie_word_embeddings": False,
            },
            lambda c: {
                **hf_tensors("BertForMaskedLM", hf_config(c)),
                # Older checkpoints (naver/splade-*) also carry the decoder's bias by this name.
                "cls.predictions.decoder.bias": ((c["vocab_size"],), DTYPE),
            },
            "list(weights) split into model and MLM-head lists (EL002 safe fix + EL003)",
            model_config=POOLING,
        ),
        Family(
            "roberta-embed",
            "RobertaModel",
            "RobertaEmbeddingModel",
            lambda h, n: roberta_config(h, n, "RobertaModel"),
            from_hf("RobertaModel"),
            "list(weights) scanned for a prefix, then loaded (EL002, no fix: used twice)",
            model_config=POOLING,
        ),
        Family(
            "colbert-bert",
            "HF_ColBERT",
            "ColBERTModel",
            # No colbert_dim: vLLM 0.23.0's ColBERTModel builds its projection before
            # nn.Module.__init__ when the config gives one (AttributeError); without, the
            # projection is sized from the checkpoint's linear.weight, as for real ones.
            lambda h, n: bert_config(h, n, "HF_ColBERT"),
            lambda c: {
                **hf_tensors("BertModel", hf_config(c), prefix="bert."),
                "linear.weight": ((128, c["hidden_size"]), DTYPE),
            },
            "list(weights) split into backbone and projection lists (EL002 safe fix + EL003)",
            model_config=POOLING,
        ),
        Family(
            "ernie-embed",
            "ErnieModel",
            "ErnieEmbeddingModel",
            lambda h, n: {**bert_config(h, n, "ErnieModel", "ernie"), "use_task_id": True},
            from_hf("ErnieModel"),
            "list(weights) used three times (EL002, no fix)",
            model_config=POOLING,
        ),
        Family(
            "granitemoe",
            "GraniteMoeForCausalLM",
            "GraniteMoeForCausalLM",
            lambda h, n: decoder_config(
                h, n, "GraniteMoeForCausalLM", "granitemoe", num_local_experts=4, num_experts_per_tok=2
            ),
            from_hf("GraniteMoeForCausalLM"),
            "a loop that splits fused expert weights into a new list (EL003)",
        ),
        Family(
            "granitemoeshared",
            "GraniteMoeSharedForCausalLM",
            "GraniteMoeSharedForCausalLM",
            lambda h, n: decoder_config(
                h,
                n,
                "GraniteMoeSharedForCausalLM",
                "granitemoeshared",
                num_local_experts=4,
                num_experts_per_tok=2,
                shared_intermediate_size=h,
            ),
            from_hf("GraniteMoeSharedForCausalLM"),
            "a loop that splits fused expert weights into a new list (EL003)",
        ),
    ]


FAMILIES: dict[str, Family] = {f.name: f for f in _families()}


def catalogue() -> list[dict[str, Any]]:
    return [{"family": f.name, "arch": f.arch, "class": f.cls, "why": f.why} for f in FAMILIES.values()]


# Classes (or architectures) that the catalogue has no family for, with why: the
# driver quotes these for every class the fix changed that it could not build.
NOT_BUILT: dict[str, str] = {}
