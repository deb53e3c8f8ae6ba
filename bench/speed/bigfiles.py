"""Cost per MB on generated big files: eagerlint's time should grow linearly with size.

    python bench/speed/bigfiles.py [--sizes 1,10,100] [--functions 10000] [--json FILE]

Every file is generated (never committed) into $EAGERLINT_CACHE/bigfiles:

* `models-<N>mb.py`: model files the way engines write them, repeated to N MB: an
  attention, an MLP, a decoder layer and a causal LM class per model, whose only unit
  is `load_weights`; one model in ten materializes its stream (a fixable finding).
  About 12 % of the text is in units and 10 % of units hold a finding (vLLM 0.33.0:
  8 % and 6 %);
* `functions-<K>.py`: K functions in one file, every one a unit with a finding and
  half of them handing the stream to a helper defined further down: the worst case
  for finding a node's position and resolving a call by name.

Each file is checked (`check --no-cache`) and diffed (`check --diff --no-cache`, the
fix loop without the write), one fresh process per row, timed wall-clock, with the
child's peak RSS.  Rows: seconds, seconds per MB, RSS, findings.  The machine is
shared and noisy, so the point is the ratio between rows, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import vllm_source  # noqa: E402

MODEL = '''

class Model{i}Attention(nn.Module):
    """Multi-headed attention of generated model {i}."""

    def __init__(self, config, quant_config=None, prefix: str = "") -> None:
        super().__init__()
        self.hidden_size = config.hidden_size
        tp_size = get_tensor_model_parallel_world_size()
        self.total_num_heads = config.num_attention_heads
        assert self.total_num_heads % tp_size == 0
        self.num_heads = self.total_num_heads // tp_size
        self.total_num_kv_heads = config.num_key_value_heads
        self.num_kv_heads = max(1, self.total_num_kv_heads // tp_size)
        self.head_dim = self.hidden_size // self.total_num_heads
        self.q_size = self.num_heads * self.head_dim
        self.kv_size = self.num_kv_heads * self.head_dim
        self.scaling = self.head_dim**-0.5
        self.qkv_proj = QKVParallelLinear(
            self.hidden_size,
            self.head_dim,
            self.total_num_heads,
            self.total_num_kv_heads,
            bias=False,
            quant_config=quant_config,
            prefix=f"{{prefix}}.qkv_proj",
        )
        self.o_proj = RowParallelLinear(
            self.total_num_heads * self.head_dim,
            self.hidden_size,
            bias=False,
            quant_config=quant_config,
            prefix=f"{{prefix}}.o_proj",
        )
        self.rotary_emb = get_rope(self.head_dim, max_position=config.max_position_embeddings)
        self.attn = Attention(self.num_heads, self.head_dim, self.scaling, num_kv_heads=self.num_kv_heads)

    def forward(self, positions: torch.Tensor, hidden_states: torch.Tensor) -> torch.Tensor:
        qkv, _ = self.qkv_proj(hidden_states)
        q, k, v = qkv.split([self.q_size, self.kv_size, self.kv_size], dim=-1)
        q, k = self.rotary_emb(positions, q, k)
        attn_output = self.attn(q, k, v)
        output, _ = self.o_proj(attn_output)
        return output


class Model{i}MLP(nn.Module):
    def __init__(self, hidden_size: int, intermediate_size: int, quant_config=None) -> None:
        super().__init__()
        self.gate_up_proj = MergedColumnParallelLinear(
            hidden_size, [intermediate_size] * 2, bias=False, quant_config=quant_config
        )
        self.down_proj = RowParallelLinear(
            intermediate_size, hidden_size, bias=False, quant_config=quant_config
        )
        self.act_fn = SiluAndMul()

    def forward(self, x):
        gate_up, _ = self.gate_up_proj(x)
        x = self.act_fn(gate_up)
        x, _ = self.down_proj(x)
        return x


class Model{i}DecoderLayer(nn.Module):
    def __init__(self, config, quant_config=None, prefix: str = "") -> None:
        super().__init__()
        self.self_attn = Model{i}Attention(config, quant_config, prefix=f"{{prefix}}.self_attn")
        self.mlp = Model{i}MLP(config.hidden_size, config.intermediate_size, quant_config)
        self.input_layernorm = RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(config.hidden_size, eps=config.rms_norm_eps)

    def forward(self, positions, hidden_states, residual):
        # Self Attention
        if residual is None:
            residual = hidden_states
            hidden_states = self.input_layernorm(hidden_states)
        else:
            hidden_states, residual = self.input_layernorm(hidden_states, residual)
        hidden_states = self.self_attn(positions=positions, hidden_states=hidden_states)
        # Fully Connected
        hidden_states, residual = self.post_attention_layernorm(hidden_states, residual)
        hidden_states = self.mlp(hidden_states)
        return hidden_states, residual


class Model{i}Model(nn.Module):
    """The backbone of generated model {i}: embeddings, decoder layers, final norm."""

    def __init__(self, *, vllm_config, prefix: str = "") -> None:
        super().__init__()
        config = vllm_config.model_config.hf_config
        quant_config = vllm_config.quant_config
        self.config = config
        self.padding_idx = config.pad_token_id
        self.vocab_size = config.vocab_size
        if get_pp_group().is_first_rank or (config.tie_word_embeddings and get_pp_group().is_last_rank):
            self.embed_tokens = VocabParallelEmbedding(
                self.vocab_size, config.hidden_size, quant_config=quant_config
            )
        else:
            self.embed_tokens = PPMissingLayer()
        self.start_layer, self.end_layer, self.layers = make_layers(
            config.num_hidden_layers,
            lambda prefix: Model{i}DecoderLayer(config, quant_config, prefix=prefix),
            prefix=f"{{prefix}}.layers",
        )
        if get_pp_group().is_last_rank:
            self.norm = RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        else:
            self.norm = PPMissingLayer()
        self.make_empty_intermediate_tensors = make_empty_intermediate_tensors_factory(
            ["hidden_states", "residual"], config.hidden_size
        )

    def get_input_embeddings(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.embed_tokens(input_ids)

    def forward(self, input_ids, positions, intermediate_tensors=None, inputs_embeds=None):
        if get_pp_group().is_first_rank:
            if inputs_embeds is not None:
                hidden_states = inputs_embeds
            else:
                hidden_states = self.get_input_embeddings(input_ids)
            residual = None
        else:
            assert intermediate_tensors is not None
            hidden_states = intermediate_tensors["hidden_states"]
            residual = intermediate_tensors["residual"]
        for layer in self.layers[self.start_layer : self.end_layer]:
            hidden_states, residual = layer(positions, hidden_states, residual)
        if not get_pp_group().is_last_rank:
            return IntermediateTensors({{"hidden_states": hidden_states, "residual": residual}})
        hidden_states, _ = self.norm(hidden_states, residual)
        return hidden_states


class Model{i}ForCausalLM(nn.Module):
    """Generated model {i}."""

    packed_modules_mapping = {{"qkv_proj": ["q_proj", "k_proj", "v_proj"]}}  # noqa: E501

    def __init__(self, config, quant_config=None, prefix: str = "") -> None:
        super().__init__()
        self.config = config
        self.embed_tokens = VocabParallelEmbedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(
            [
                Model{i}DecoderLayer(config, quant_config, f"{{prefix}}.layers.{{n}}")
                for n in range(config.num_layers)
            ]
        )
        self.norm = RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.lm_head = ParallelLMHead(config.vocab_size, config.hidden_size)

    def forward(self, input_ids, positions, intermediate_tensors=None):
        hidden_states = self.embed_tokens(input_ids)
        residual = None
        for layer in self.layers:
            hidden_states, residual = layer(positions, hidden_states, residual)
        hidden_states, _ = self.norm(hidden_states, residual)
        return hidden_states

    def compute_logits(self, hidden_states, sampling_metadata):
        return self.logits_processor(self.lm_head, hidden_states, sampling_metadata)

    def load_weights(self, weights):
        stacked_params_mapping = [("qkv_proj", "q_proj", "q"), ("qkv_proj", "k_proj", "k")]
        params_dict = dict(self.named_parameters())
        loaded_params: set[str] = set()
        {stream}
        for name, loaded_weight in weights:
            if "rotary_emb.inv_freq" in name:
                continue
            for param_name, weight_name, shard_id in stacked_params_mapping:
                if weight_name not in name:
                    continue
                name = name.replace(weight_name, param_name)
                param = params_dict[name]
                param.weight_loader(param, loaded_weight, shard_id)
                break
            else:
                param = params_dict[name]
                weight_loader = getattr(param, "weight_loader", default_weight_loader)
                weight_loader(param, loaded_weight)
            loaded_params.add(name)
        return loaded_params
'''

# One model in `FINDING_EVERY` materializes its stream (a fixable EL001); the others stream.
FINDING_EVERY = 10
MATERIALIZED = 'weights = [(name.replace("model.", ""), w) for name, w in weights]'
STREAMED = 'weights = ((name.replace("model.", ""), w) for name, w in weights)'

FUNCTION = """

def load_part_{i}(weights: Iterable[tuple[str, torch.Tensor]]) -> None:
    kept = [w for _, w in weights]
    for w in kept:
        w.copy_(w)
"""

HANDING_ON = """

def load_part_{i}(weights: Iterable[tuple[str, torch.Tensor]]) -> None:
    kept = [w for _, w in weights]
    copy_part_{i}(kept)
"""

HELPERS = """

def copy_part_{i}(items):
    for w in items:
        w.copy_(w)
"""


def models(megabytes: int) -> str:
    parts = ["import torch\nfrom torch import nn\n"]
    size, i = 0, 0
    while size < megabytes * 1_000_000:
        stream = MATERIALIZED if i % FINDING_EVERY == 0 else STREAMED
        parts.append(MODEL.format(i=i, stream=stream))
        size += len(parts[-1])
        i += 1
    return "".join(parts)


def functions(count: int) -> str:
    parts = ["from collections.abc import Iterable\n\nimport torch\n"]
    parts.extend((HANDING_ON if i % 2 else FUNCTION).format(i=i) for i in range(count))
    parts.extend(HELPERS.format(i=i) for i in range(1, count, 2))
    return "".join(parts)


def generated(name: str, text: str) -> Path:
    folder = vllm_source.cache_dir() / "bigfiles"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if not path.exists() or path.stat().st_size != len(text.encode()):
        path.write_text(text)
    return path


@dataclass(frozen=True)
class Row:
    file: str
    megabytes: float
    functions: int
    command: str
    seconds: float
    seconds_per_mb: float
    rss_mb: float
    findings: int


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and stdout of one fresh process."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=err)
        assert proc.stdout is not None
        out = proc.stdout.read().decode(errors="replace")
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {err.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, out


def row(path: Path, command: str) -> Row:
    eagerlint = str(Path(sys.executable).parent / "eagerlint")
    flags = ["--diff"] if command == "diff" else []
    cmd = [eagerlint, "check", *flags, "--no-cache", "--output-format", "concise", "--exit-zero", path.name]
    seconds, rss, out = timed(cmd, path.parent)
    megabytes = path.stat().st_size / 1_000_000
    findings = sum(1 for line in out.splitlines() if ": EL0" in line) if command == "check" else 0
    return Row(path.name, megabytes, functions_in(path), command, seconds, seconds / megabytes, rss, findings)


def functions_in(path: Path) -> int:
    """The `def`s of a generated file (each starts a line; no string holds one)."""
    with path.open() as lines:
        return sum(1 for line in lines if line.lstrip().startswith("def "))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1,10,100", help="MB of generated model classes, comma-separated")
    ap.add_argument("--functions", type=int, default=10_000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    files = [generated(f"functions-{args.functions}.py", functions(args.functions))]
    files += [generated(f"models-{mb}mb.py", models(int(mb))) for mb in args.sizes.split(",")]
    rows = [row(path, command) for path in files for command in ("check", "diff")]
    stamp = datetime_now()
    print(
        f"Run on {stamp}, {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}."
    )
    print()
    print("| file | MB | functions | run | wall s | s per MB | peak RSS MB | findings |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        found = str(r.findings) if r.command == "check" else ""
        print(
            f"| `{r.file}` | {r.megabytes:.1f} | {r.functions} | {r.command} | {r.seconds:.2f} "
            f"| {r.seconds_per_mb:.2f} | {r.rss_mb:.0f} | {found} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"run": stamp, "rows": [asdict(r) for r in rows]}, indent=2) + "\n")
    return 0


def datetime_now() -> str:
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


if __name__ == "__main__":
    raise SystemExit(main())
