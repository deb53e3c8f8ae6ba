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
    # A draft model: {"method": SpeculativeConfig method, "target": folder of the target's config}
    speculative: dict[str, str] | None = None
    stub_modules: tuple[str, ...] = ()
    # (module, table, key, value): a named size the family adds to a vLLM size table
    register: tuple[tuple[str, str, str, list[int]], ...] = ()
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


def build_meta(family: Family) -> dict[str, Any]:
    """What measure.py needs to build the family's class (eagerlint_checkpoint.json)."""
    return {
        "family": family.name,
        "arch": family.arch,
        "class": family.cls,
        "dtype": family.dtype,
        "model_config": family.model_config,
        "speculative": family.speculative,
        "stub_modules": list(family.stub_modules),
        "register": [list(r) for r in family.register],
    }


DEFAULT_PACKED = {"qkv_proj": ["q_proj", "k_proj", "v_proj"], "gate_up_proj": ["gate_proj", "up_proj"]}


@functools.cache
def _vllm_ready() -> Any:
    sys.path.insert(0, str(HERE))
    import measure

    measure.L4.stub_llama4_fast_image_processor()
    measure.install_stubs()
    measure.L4.prepare_vllm()
    return measure


def vllm_shapes(family: Family, config: Config, split: bool = True) -> dict[str, TensorSpec]:
    """The vLLM model's own parameters, with fused projections split back into the
    checkpoint's parts (``qkv_proj`` -> ``q_proj``/``k_proj``/``v_proj`` by the layer's
    ``output_sizes``, names from the class's ``packed_modules_mapping``), and vocabulary
    embeddings at their unpadded size. Built on the meta device: no memory, no init."""
    import tempfile

    measure = _vllm_ready()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "config.json").write_text(json.dumps(config))
        for name, text in family.extra_files(config).items():
            (Path(tmp) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(tmp) / name).write_text(text)
        model, _ = measure.build_model(tmp, build_meta(family), device="meta")
    packed = {**DEFAULT_PACKED, **getattr(model, "packed_modules_mapping", {})} if split else {}
    modules = dict(model.named_modules())
    out: dict[str, TensorSpec] = {}
    for name, p in model.named_parameters():
        dtype = DTYPE if p.dtype.is_floating_point else p.dtype
        mod_name, _, leaf = name.rpartition(".")
        short = mod_name.rsplit(".", 1)[-1]
        sizes = getattr(modules.get(mod_name), "output_sizes", None)
        parts = packed.get(short)
        if sizes and parts and len(parts) == len(sizes) and p.shape[0] == sum(sizes):
            for part, size in zip(parts, sizes, strict=True):
                out[f"{mod_name[: -len(short)]}{part}.{leaf}"] = ((size, *p.shape[1:]), dtype)
        else:
            shape = tuple(p.shape)
            org = getattr(modules.get(mod_name), "org_vocab_size", None)
            if org is not None and shape[0] > org:
                shape = (org, *shape[1:])  # vocab embeddings are padded; checkpoints are not
            out[name] = (shape, dtype)
    return out


def from_vllm(
    family_name: str,
    rename: Callable[[str], str | None],
    extra: Callable[[Config], dict[str, TensorSpec]] | None = None,
    split: bool = True,
) -> Callable[[Config], dict[str, TensorSpec]]:
    """Checkpoint names from the vLLM class itself (for classes with no transformers
    twin): ``rename`` maps a (split) vLLM parameter name to the checkpoint's, or None to
    leave it out; ``extra`` adds tensors the model does not hold (ones load_weights skips);
    ``split=False`` keeps fused projections fused (checkpoints that store them so)."""

    def tensors(config: Config) -> dict[str, TensorSpec]:
        out = {}
        for name, spec in vllm_shapes(FAMILIES[family_name], config, split).items():
            new = rename(name)
            if new is not None:
                out[new] = spec
        if extra is not None:
            out.update(extra(config))
        return out

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


def eagle3_config(hidden: int, layers: int) -> Config:
    d = dims(hidden)
    return {
        "model_type": "llama",
        "architectures": ["LlamaForCausalLMEagle3"],
        **d,
        "num_hidden_layers": 1,
        "draft_vocab_size": d["vocab_size"] // 2,
        "max_position_embeddings": 2048,
        "rms_norm_eps": 1e-5,
        "tie_word_embeddings": False,
        "dtype": "bfloat16",
    }


def target_llama(config: Config) -> dict[str, str]:
    """The target model's config (the draft is built against it; it is never loaded)."""
    target = {
        k: config[k]
        for k in (
            "hidden_size",
            "num_attention_heads",
            "num_key_value_heads",
            "intermediate_size",
            "vocab_size",
        )
    }
    target.update(
        model_type="llama", architectures=["LlamaForCausalLM"], num_hidden_layers=4, dtype="bfloat16"
    )
    target.update(max_position_embeddings=2048, rms_norm_eps=1e-5)
    return {"target/config.json": json.dumps(target, indent=2)}


def eagle3_name(name: str) -> str | None:
    if name == "draft_id_to_target_id":
        return "d2t"
    name = name.replace("model.layers.0.", "midlayer.")
    return name.removeprefix("model.")


def eagle3_extra(config: Config) -> dict[str, TensorSpec]:
    # The target-to-draft vocabulary mask, which load_weights drops.
    return {"t2d": ((config["vocab_size"],), torch.bool)}


def qwen3_target(config: Config) -> dict[str, str]:
    files = target_llama(config)
    target = json.loads(files["target/config.json"])
    target.update(model_type="qwen3", architectures=["Qwen3ForCausalLM"], head_dim=64)
    return {"target/config.json": json.dumps(target, indent=2)}


def dflash_config(hidden: int, layers: int) -> Config:
    d = dims(hidden)
    return {
        "model_type": "qwen3",
        "architectures": ["DFlashDraftModel"],
        **d,
        "head_dim": 64,
        "num_hidden_layers": layers,
        "max_position_embeddings": 2048,
        "rms_norm_eps": 1e-6,
        "tie_word_embeddings": False,
        "block_size": 16,
        "dflash_config": {"mask_token_id": 1, "target_layer_ids": [0, 1, 2]},
        "dtype": "bfloat16",
    }


def dflash_name(name: str) -> str | None:
    if name == "draft_id_to_target_id":
        return None  # optional: the drafts on the hub ship none
    if name.startswith("model.embed_tokens."):
        return None  # shared with the target
    return name.removeprefix("model.")


def bagel_config(hidden: int, layers: int) -> Config:
    llm = decoder_config(hidden, layers, "Qwen2ForCausalLM", "qwen2")
    llm.update(head_dim=64, rope_theta=10000.0, use_sliding_window=False, rms_norm_eps=1e-6)
    vit = {
        "model_type": "siglip_vision_model",
        "hidden_size": 128,
        "intermediate_size": 256,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "image_size": 56,
        "patch_size": 14,
        "num_channels": 3,
    }
    return {
        "model_type": "bagel",
        "architectures": ["BagelForConditionalGeneration"],
        "llm_config": llm,
        "vit_config": vit,
        "vit_max_num_patch_per_side": 4,
        "dtype": "bfloat16",
    }


def bagel_tensors(config: Config) -> dict[str, TensorSpec]:
    """A BAGEL checkpoint: Qwen2 LM and SigLIP tower (transformers names, as the real
    ones), the connector, and generation-only tensors that load_weights filters out."""
    from transformers import Qwen2Config, SiglipVisionConfig

    llm = Qwen2Config.from_dict(config["llm_config"])
    vit = SiglipVisionConfig.from_dict(config["vit_config"])
    out = hf_tensors("Qwen2ForCausalLM", llm, prefix="language_model.")
    # transformers 5 dropped SigLIP's `vision_model.` level; checkpoints keep it.
    out.update(
        hf_tensors("SiglipVisionModel", vit, prefix="vit_model.vision_model.", drop=lambda n: "head." in n)
    )
    # The real checkpoint's patch embedding is a linear layer: (out, p * p * c).
    pe = "vit_model.vision_model.embeddings.patch_embedding.weight"
    out[pe] = ((vit.hidden_size, vit.patch_size * vit.patch_size * vit.num_channels), DTYPE)
    h, v = llm.hidden_size, vit.hidden_size
    out.update(
        {
            "connector.fc1.weight": ((h, v), DTYPE),
            "connector.fc1.bias": ((h,), DTYPE),
            "connector.fc2.weight": ((h, h), DTYPE),
            "connector.fc2.bias": ((h,), DTYPE),
            "vit_pos_embed.pos_embed": ((config["vit_max_num_patch_per_side"] ** 2, h), DTYPE),
            # generation-only, skipped by load_weights
            "latent_pos_embed.pos_embed": ((64, h), DTYPE),
            "llm2vae.weight": ((64, h), DTYPE),
            "vae2llm.weight": ((h, 64), DTYPE),
            "time_embedder.mlp.0.weight": ((h, 256), DTYPE),
        }
    )
    for i in range(llm.num_hidden_layers):
        out[f"language_model.model.layers.{i}.mlp_moe_gen.down_proj.weight"] = ((h, 64), DTYPE)
    return out


def colpali_config(hidden: int, layers: int) -> Config:
    d = dims(hidden)
    text = {
        "model_type": "gemma",
        **d,
        "num_key_value_heads": 1,
        "head_dim": 64,
        "num_hidden_layers": layers,
        "hidden_activation": "gelu_pytorch_tanh",
        "max_position_embeddings": 2048,
    }
    vision = {
        "model_type": "siglip_vision_model",
        "hidden_size": 128,
        "intermediate_size": 256,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "image_size": 56,
        "patch_size": 14,
        "projection_dim": hidden,
    }
    vlm = {
        "model_type": "paligemma",
        "text_config": text,
        "vision_config": vision,
        "projection_dim": hidden,
        "hidden_size": hidden,
        "image_token_index": d["vocab_size"] - 1,
        "vocab_size": d["vocab_size"],
    }
    return {
        "model_type": "colpali",
        "architectures": ["ColPaliForRetrieval"],
        "vlm_config": vlm,
        "embedding_dim": None,
        "dtype": "bfloat16",
    }


def colpali_name(name: str) -> str | None:
    """vidore/colpali-v1.3-hf names: everything under ``vlm.``; Gemma ties its head."""
    if name.startswith("language_model.lm_head."):
        return None
    if name.startswith("custom_text_proj."):
        return name.replace("custom_text_proj.", "embedding_proj_layer.")
    return "vlm." + name


NEMOTRON_PARSE_CONFIG = '''"""A stand-in for Nemotron-Parse's remote configuration (trust_remote_code)."""

from transformers import MBartConfig, PretrainedConfig


class NemotronParseConfig(PretrainedConfig):
    model_type = "nemotron_parse"

    def __init__(self, encoder=None, decoder=None, image_size=(64, 64), **kwargs):
        super().__init__(**kwargs)
        encoder = dict(encoder or {})
        self.encoder = PretrainedConfig(**encoder)
        self.encoder.args = encoder.get("args", {})
        self.decoder = decoder if isinstance(decoder, MBartConfig) else MBartConfig(**(decoder or {}))
        self.image_size = list(image_size)
'''

# RADIO's ViT sizes are a fixed table (vit_small ... vit_huge); Nemotron-Parse's neck
# needs the huge width (1280), whose 32 layers alone are 1.2 GiB: the family adds the
# same width with two layers.
RADIO_TINY = "eagerlint_vit_1280_2layers_patch16"


def nemotron_parse_config(hidden: int, layers: int) -> Config:
    decoder = {
        "d_model": 1024,  # the neck's output width
        "decoder_layers": layers,
        "decoder_attention_heads": 16,
        "decoder_ffn_dim": 2048,
        "encoder_layers": 0,
        "vocab_size": 4096,
        "max_position_embeddings": 1024,
        "scale_embedding": True,
    }
    encoder = {"args": {"model": RADIO_TINY, "cpe_max_size": 256, "register_multiple": 8, "teachers": []}}
    return {
        "model_type": "nemotron_parse",
        "architectures": ["NemotronParseForConditionalGeneration"],
        "auto_map": {"AutoConfig": "configuration_nemotron_parse.NemotronParseConfig"},
        "encoder": encoder,
        "decoder": decoder,
        "image_size": [64, 64],
        "is_encoder_decoder": True,
        "dtype": "bfloat16",
    }


def nemotron_parse_name(name: str) -> str | None:
    """The hub's names: RADIO blocks under ``radio_model.model.blocks``."""
    radio = "encoder.model_encoder."
    if name.startswith(radio + "model.encoder.layers."):
        return radio + "radio_model.model.blocks." + name[len(radio + "model.encoder.layers.") :]
    if name.startswith(radio):
        return radio + "radio_model." + name[len(radio) :]
    return name


JINA_CONFIG = '''"""A stand-in for Jina's remote XLM-RoBERTa configuration (trust_remote_code)."""

from transformers import XLMRobertaConfig


class XLMRobertaFlashConfig(XLMRobertaConfig):
    def __init__(self, rotary_emb_base=10000.0, lora_rank=4, lora_alpha=1, lora_adaptations=None, **kwargs):
        super().__init__(**kwargs)
        self.rotary_emb_base = rotary_emb_base
        self.rope_parameters = {"rope_type": "default", "rope_theta": rotary_emb_base}
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha
        self.lora_adaptations = lora_adaptations or []
'''

JINA_ADAPTATIONS = ["retrieval.query", "retrieval.passage", "separation", "classification", "text-matching"]


def jina_config(arch: str) -> Callable[[int, int], Config]:
    def config(hidden: int, layers: int) -> Config:
        c = roberta_config(hidden, layers, arch, "xlm-roberta")
        c.update(
            position_embedding_type="rotary",
            rotary_emb_base=10000.0,
            auto_map={"AutoConfig": "configuration_xlm_roberta.XLMRobertaFlashConfig"},
            lora_rank=4,
            lora_alpha=1,
            lora_adaptations=JINA_ADAPTATIONS,
        )
        if arch.startswith("ColBERT"):
            c["colbert_dim"] = 128
        return c

    return config


# vLLM's names -> the Jina flash-attention implementation's (inverse of its mapper)
JINA_NAMES = {
    "embeddings.LayerNorm": "emb_ln",
    "attn.qkv_proj": "mixer.Wqkv",
    "attn.out_proj": "mixer.out_proj",
    "attn_ln": "norm1",
    "mlp.up_proj": "mlp.fc1",
    "mlp.down_proj": "mlp.fc2",
    "mlp_ln": "norm2",
}


def jina_name(name: str) -> str | None:
    if name.startswith("colbert_linear."):
        return name.replace("colbert_linear.", "linear.")
    for new, old in JINA_NAMES.items():
        name = name.replace(new, old)
    return "roberta." + name.removeprefix("model.")


def jina_lora_tensors(config: Config) -> dict[str, TensorSpec]:
    """jina-embeddings-v3: every linear and the word embedding carry LoRA adapters
    (``parametrizations.weight.original`` + ``.0.lora_A``/``.0.lora_B``, one per task),
    merged by load_weights."""
    out: dict[str, TensorSpec] = {}
    rank, tasks = config["lora_rank"], len(config["lora_adaptations"])
    for name, spec in FAMILIES["jina-v3"].tensors.__wrapped__(config).items():  # type: ignore[attr-defined]
        shape, dtype = spec
        if (
            name.endswith(".weight")
            and len(shape) == 2
            and ("mixer." in name or "mlp." in name or "word_emb" in name)
        ):
            base = name[: -len(".weight")] + ".parametrizations.weight"
            out[base + ".original"] = spec
            if "embeddings" in name:  # the embedding's A and B are swapped (see jina_merge_lora_weights)
                out[base + ".0.lora_A"] = ((tasks, shape[0], rank), dtype)
                out[base + ".0.lora_B"] = ((tasks, rank, shape[1]), dtype)
            else:
                out[base + ".0.lora_A"] = ((tasks, rank, shape[1]), dtype)
                out[base + ".0.lora_B"] = ((tasks, shape[0], rank), dtype)
        else:
            out[name] = spec
    return out


def wrapped(
    plain: Callable[[Config], dict[str, TensorSpec]], outer: Callable[[Config], dict[str, TensorSpec]]
) -> Any:
    outer.__wrapped__ = plain  # type: ignore[attr-defined]
    return outer


def cheers_config(hidden: int, layers: int) -> Config:
    text = decoder_config(hidden, layers, "Qwen2ForCausalLM", "qwen2")
    del text["model_type"], text["architectures"]
    text.update(head_dim=64, rope_theta=1_000_000.0, rms_norm_eps=1e-6)
    vae = {"ch": 32, "ch_mult": [1, 2], "num_res_blocks": 1, "z_channels": 4, "in_channels": 3, "out_ch": 3}
    return {
        "model_type": "umm",
        "architectures": ["CheersForConditionalGeneration"],
        "text_config": text,
        "vision_representation_config": {
            "hidden_size": 128,
            "intermediate_size": 256,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": 64,
            "patch_size": 16,
        },
        "vae_encoder_config": {**vae, "resolution": 64},
        "vae_decoder_config": {**vae, "resolution": 64},
        "dtype": "bfloat16",
    }


CHEERS_NAMES = {  # vLLM prefix -> checkpoint prefix (inverse of its hf_to_vllm_mapper)
    "language_model.model.": "model.language_model.",
    "vision_representation.vision_model.": "model.vision_representation.",
    "und_projector.": "model.und_projector.",
    "vae_model.": "model.vae_model.",
    "vae_decoder_projector.": "model.vae_decoder_projector.",
    "language_model.lm_head.": "lm_head.",
}


def cheers_name(name: str) -> str | None:
    for new, old in CHEERS_NAMES.items():
        if name.startswith(new):
            return old + name[len(new) :]
    return name


def cheers_extra(config: Config) -> dict[str, TensorSpec]:
    """Generation-only tensors of a real checkpoint, which load_weights filters out."""
    h = config["text_config"]["hidden_size"]
    return {
        "model.time_embed.mlp.0.weight": ((h, 256), DTYPE),
        "model.gen_projector.weight": ((h, h), DTYPE),
        "model.hi_gate.weight": ((h, h), DTYPE),
        "model.hi_projector.weight": ((h, h), DTYPE),
        "model.vae_model.decoder.conv_in.weight": ((64, 4, 3, 3), DTYPE),
        "text_loss_fc.weight": ((h, h), DTYPE),
    }


def ernie_head(arch: str, hf_cls: str) -> Family:
    kind = "sequence" if "Sequence" in arch else "token"
    return Family(
        f"ernie-{kind}-cls",
        arch,
        arch,
        lambda h, n: {**bert_config(h, n, arch, "ernie"), "use_task_id": True, "num_labels": 4},
        from_hf(hf_cls),
        "list(weights) used three times (EL002, no fix)",
        model_config=POOLING,
    )


def colqwen3_config(hidden: int, layers: int) -> Config:
    d = dims(hidden)
    text = {
        "model_type": "qwen3_vl_text",
        **d,
        "head_dim": 64,
        "num_hidden_layers": layers,
        "max_position_embeddings": 2048,
        "rms_norm_eps": 1e-6,
        "rope_parameters": {"rope_type": "default", "rope_theta": 5_000_000.0, "mrope_section": [8, 12, 12]},
        "tie_word_embeddings": True,
    }
    vision = {**qwen_vision("qwen3_vl", hidden), "deepstack_visual_indexes": [0, 1]}
    return qwen_multimodal("colqwen3", "ColQwen3", text, vision, d["vocab_size"])


def qwen_vision(model_type: str, hidden: int) -> Config:
    """A two-block Qwen-VL vision tower projecting to the text width `hidden`."""
    return {
        "model_type": model_type,
        "depth": 2,
        "hidden_size": 128,
        "intermediate_size": 256,
        "num_heads": 2,
        "in_channels": 3,
        "patch_size": 16,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "out_hidden_size": hidden,
        "num_position_embeddings": 64,
    }


def qwen_multimodal(
    model_type: str, arch: str, text: Config, vision: Config, vocab: int, **extra: Any
) -> Config:
    """A ColQwen config around a text and a vision config: media tokens at the top of
    the vocabulary, a 128-wide tied projection head, bf16."""
    return {
        "model_type": model_type,
        "architectures": [arch],
        "text_config": text,
        "vision_config": vision,
        "image_token_id": vocab - 3,
        "video_token_id": vocab - 2,
        "vision_start_token_id": vocab - 4,
        **extra,
        "embed_dim": 128,
        "tie_word_embeddings": True,
        "dtype": "bfloat16",
    }


def colqwen3_name(name: str) -> str | None:
    """TomoroAI's layout: the backbone under ``vlm.model.``; the head ties."""
    if name.startswith("language_model.lm_head."):
        return None
    if name.startswith("custom_text_proj."):
        return name.replace("custom_text_proj.", "embedding_proj_layer.")
    if name.startswith("language_model.model."):
        return "vlm.model.language_model." + name[len("language_model.model.") :]
    return "vlm.model." + name


def colqwen3_5_config(hidden: int, layers: int) -> Config:
    """Qwen3.5's hybrid stack: three Gated DeltaNet layers to one full-attention layer."""
    d = dims(hidden)
    text = {
        "model_type": "qwen3_5_text",
        **d,
        "head_dim": 64,
        "num_hidden_layers": layers,
        "max_position_embeddings": 2048,
        "rms_norm_eps": 1e-6,
        "layer_types": ["linear_attention" if (i + 1) % 4 else "full_attention" for i in range(layers)],
        "linear_conv_kernel_dim": 4,
        "linear_key_head_dim": 32,
        "linear_value_head_dim": 32,
        "linear_num_key_heads": 2,
        "linear_num_value_heads": 4,
        "rope_parameters": {
            "rope_type": "default",
            "rope_theta": 10_000_000.0,
            "mrope_section": [2, 3, 3],
            "partial_rotary_factor": 0.25,
        },
        "tie_word_embeddings": True,
    }
    vision = qwen_vision("qwen3_5", hidden)
    return qwen_multimodal(
        "qwen3_5", "ColQwen3_5", text, vision, d["vocab_size"], vision_end_token_id=d["vocab_size"] - 5
    )


def colqwen3_5_name(name: str) -> str | None:
    """The ColPali layout its hf_to_vllm_mapper undoes: `language_model.` for the text
    model, `visual.` as in vLLM, the head tied."""
    if name.startswith("language_model.lm_head."):
        return None
    if name.startswith("language_model.model."):
        return "language_model." + name[len("language_model.model.") :]
    return name


def colqwen3_5_tensors(config: Config) -> dict[str, TensorSpec]:
    """A real Qwen3.5 checkpoint stores each GDN layer's fused `in_proj_qkvz` as
    `in_proj_qkv` (q, k, v rows) and `in_proj_z`."""
    text = config["text_config"]
    z_rows = text["linear_num_value_heads"] * text["linear_value_head_dim"]
    out: dict[str, TensorSpec] = {}
    for name, (shape, dtype) in from_vllm("colqwen3_5", colqwen3_5_name)(config).items():
        if ".in_proj_qkvz." in name:
            out[name.replace(".in_proj_qkvz.", ".in_proj_qkv.")] = ((shape[0] - z_rows, *shape[1:]), dtype)
            out[name.replace(".in_proj_qkvz.", ".in_proj_z.")] = ((z_rows, *shape[1:]), dtype)
        else:
            out[name] = (shape, dtype)
    return out


def _more_families() -> list[Family]:
    return [
        Family(
            "bge-m3",
            "BgeM3EmbeddingModel",
            "BgeM3EmbeddingModel",
            lambda h, n: roberta_config(h, n, "BgeM3EmbeddingModel", "xlm-roberta"),
            lambda c: {
                **hf_tensors("XLMRobertaModel", hf_config(c)),
                # bge-m3's two heads (sparse_linear.pt, colbert_linear.pt on the hub)
                "sparse_linear.weight": ((1, c["hidden_size"]), DTYPE),
                "sparse_linear.bias": ((1,), DTYPE),
                "colbert_linear.weight": ((c["hidden_size"], c["hidden_size"]), DTYPE),
                "colbert_linear.bias": ((c["hidden_size"],), DTYPE),
            },
            "itertools.tee: the backbone branch is read to the end before the heads' (EL005)",
            model_config=POOLING,
        ),
        Family(
            "colbert-modernbert",
            "ColBERTModernBertModel",
            "ColBERTModernBertModel",
            lambda h, n: {
                "model_type": "modernbert",
                "architectures": ["ColBERTModernBertModel"],
                "hidden_size": h,
                "num_hidden_layers": n,
                "num_attention_heads": max(1, h // 64),
                "intermediate_size": 2 * h,
                "vocab_size": max(1024, 2 * h),
                "max_position_embeddings": 512,
                "colbert_dim": 128,
                "pad_token_id": 0,
                "dtype": "bfloat16",
            },
            lambda c: {
                **hf_tensors("ModernBertModel", hf_config(c)),
                "linear.weight": ((128, c["hidden_size"]), DTYPE),
            },
            "a helper lists the stream and splits off the projection (EL004, no fix)",
            model_config=POOLING,
        ),
        Family(
            "eagle3-llama",
            "LlamaForCausalLMEagle3",
            "Eagle3LlamaForCausalLM",
            eagle3_config,
            from_vllm("eagle3-llama", eagle3_name, eagle3_extra),
            "a loop that keeps every renamed tensor in a dict (EL003)",
            speculative={"method": "eagle3", "target": "target"},
            files=target_llama,
            max_layers=1,
        ),
        Family(
            "dflash-qwen3",
            "DFlashDraftModel",
            "DFlashQwen3ForCausalLM",
            dflash_config,
            from_vllm("dflash-qwen3", dflash_name),
            "a loop that keeps every renamed tensor in a dict (EL003)",
            speculative={"method": "dflash", "target": "target"},
            files=qwen3_target,
        ),
        Family(
            "colpali",
            "ColPaliForRetrieval",
            "ColPaliModel",
            colpali_config,
            from_vllm("colpali", colpali_name),
            "list(weights) split into model and projection lists (EL002 safe fix + EL003)",
            model_config=POOLING,
        ),
        Family(
            "nemotron-parse",
            "NemotronParseForConditionalGeneration",
            "NemotronParseForConditionalGeneration",
            nemotron_parse_config,
            from_vllm("nemotron-parse", nemotron_parse_name),
            "a loop that splits the stream into encoder and decoder lists (EL003); RADIO lists its part",
            model_config={"trust_remote_code": True},
            files=lambda c: {"configuration_nemotron_parse.py": NEMOTRON_PARSE_CONFIG},
            register=(
                (
                    "vllm.transformers_utils.configs.radio",
                    "VIT_TIMM_DIM_BY_NAME",
                    RADIO_TINY,
                    [1280, 2, 16, 5120],
                ),
            ),
            max_layers=4,
        ),
        Family(
            "colbert-jina",
            "ColBERTJinaRobertaModel",
            "ColBERTJinaRobertaModel",
            jina_config("ColBERTJinaRobertaModel"),
            from_vllm("colbert-jina", jina_name, split=False),
            "list(weights) split into backbone and projection lists (EL002 safe fix + EL003)",
            model_config={**POOLING, "trust_remote_code": True},
            files=lambda c: {"configuration_xlm_roberta.py": JINA_CONFIG},
        ),
        Family(
            "jina-v3",
            "XLMRobertaModel",
            "RobertaEmbeddingModel",
            jina_config("XLMRobertaModel"),
            wrapped(from_vllm("jina-v3", jina_name, split=False), jina_lora_tensors),
            "LoRA adapters merged in a dict of the whole stream (EL004, no fix)",
            model_config={**POOLING, "trust_remote_code": True},
            files=lambda c: {"configuration_xlm_roberta.py": JINA_CONFIG},
        ),
        ernie_head("ErnieForSequenceClassification", "ErnieForSequenceClassification"),
        ernie_head("ErnieForTokenClassification", "ErnieForTokenClassification"),
        Family(
            "colqwen3",
            "ColQwen3",
            "ColQwen3Model",
            colqwen3_config,
            from_vllm("colqwen3", colqwen3_name),
            "list(weights) scanned for prefixes, then split (EL002, no fix: used three times)",
            model_config=POOLING,
        ),
        Family(
            "colqwen3_5",
            "ColQwen3_5",
            "ColQwen3_5Model",
            colqwen3_5_config,
            colqwen3_5_tensors,
            "list(weights) split into a projection list and a backbone list for AutoWeightsLoader (EL003)",
            model_config=POOLING,
        ),
        Family(
            "cheers",
            "CheersForConditionalGeneration",
            "CheersForConditionalGeneration",
            cheers_config,
            from_vllm("cheers", cheers_name, cheers_extra),
            "a loop that filters generation tensors into one list for AutoWeightsLoader (EL003)",
        ),
        Family(
            "bagel",
            "BagelForConditionalGeneration",
            "BagelForConditionalGeneration",
            bagel_config,
            bagel_tensors,
            "a loop that filters generation tensors into one list for AutoWeightsLoader (EL003)",
        ),
    ]


FAMILIES: dict[str, Family] = {f.name: f for f in [*_families(), *_more_families()]}


def catalogue() -> list[dict[str, Any]]:
    return [{"family": f.name, "arch": f.arch, "class": f.cls, "why": f.why} for f in FAMILIES.values()]


# Classes (or architectures) that the catalogue has no family for, with why: the
# driver quotes these for every class the fix changed that it could not build.
NOT_BUILT: dict[str, str] = {
    "Terratorch": "needs the terratorch package (timm, torchvision, lightning): no torchvision build "
    "matches torch 2.13.0+cpu here",
    "Eagle3DeepseekV2ForCausalLM": "a deepseek_v3 draft's architecture is rewritten by SpeculativeConfig "
    "to Eagle3DeepSeekMTPModel, which vLLM 0.23.0's registry does not know (ValidationError)",
    "Fairseq2LlamaForCausalLM": "load_weights unwraps fairseq2's .pt layout ({'model_key': ...}); "
    "runai_safetensors_weights_iterator cannot produce it",
}
