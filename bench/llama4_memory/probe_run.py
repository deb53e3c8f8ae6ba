"""eagerlint.probe on vLLM 0.23.0's real Llama4 classes, next to what eagerlint's rules report.

Cases: each class stock and as eagerlint fixes it (fixes/regenerate.py), and the conditional
class with vLLM 0.24.0's hand-written load_weights (upstream_variant.py: a partition that
buffers its small side as yielded) and the same with that side buffer cloned. Each case is one
probe_load.py process in the harness venv (setup.sh) on a small random checkpoint
(make_checkpoint.py); the static column is `eagerlint check` on the files the class loads with.

Run it with eagerlint's own python, which the static column needs:

    .venv/bin/python bench/llama4_memory/probe_run.py [--size-mib 64] [--json out.json]

Prints a markdown table and the full verdicts (README: "The weights probe").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "fixes"), str(HERE)]
import regenerate  # noqa: E402
import run as memory_run  # noqa: E402
import upstream_variant  # noqa: E402
import vllm_source  # noqa: E402

MIB = 1 << 20
ARCH = {"causal": "Llama4ForCausalLM", "conditional": "Llama4ForConditionalGeneration"}
# The files a class loads its weights through: the conditional class hands its language model's
# weights to Llama4ForCausalLM.load_weights (AutoWeightsLoader calls a child's own load_weights).
FILES = {"causal": ("llama4.py",), "conditional": ("mllama4.py", "llama4.py")}


@dataclass(frozen=True)
class Case:
    cls: str
    variant: str  # a key of variant_dirs()


CASES = (
    Case("causal", "stock"),
    Case("causal", "fixed"),
    Case("conditional", "stock"),
    Case("conditional", "fixed"),
    Case("conditional", "0.24.0"),
    Case("conditional", "0.24.0, side buffers cloned"),
)


def variant_dirs(root: Path) -> dict[str, str]:
    """Each variant's folder of llama4.py and mllama4.py ('stock': vLLM's own files)."""
    regenerate.apply(root / "fixed")
    return {
        "stock": "stock",
        "fixed": str(root / "fixed"),
        "0.24.0": str(upstream_variant.build(root / "upstream")),
        "0.24.0, side buffers cloned": str(upstream_variant.build(root / "upstream-cloned", clone=True)),
    }


def probe_case(py: str, case: Case, checkpoint: str, variant_dir: str) -> dict[str, Any]:
    cmd = [py, str(HERE / "probe_load.py"), "--cls", case.cls, "--checkpoint", checkpoint]
    proc = subprocess.run([*cmd, "--variant", variant_dir], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise RuntimeError(f"probe_load.py failed ({proc.returncode}) for {case}")
    result: dict[str, Any] = memory_run.last_json_line(proc.stdout)
    if result["arch"] != ARCH[case.cls]:
        raise RuntimeError(f"{case}: the checkpoint built {result['arch']}")
    return result


def static_findings(case: Case, variant_dir: str) -> list[str]:
    """`eagerlint check` on the case's files: 'EL001 Llama4ForCausalLM.load_weights (llama4.py:802)'."""
    where = vllm_source.source("0.23.0") / regenerate.MODELS if variant_dir == "stock" else Path(variant_dir)
    cmd = [sys.executable, "-m", "eagerlint", "check", "--no-cache", "--exit-zero", "--output-format", "json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([*cmd, *FILES[case.cls]], cwd=where, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"eagerlint failed on {where}: {out.stderr}")
    return [
        f"{f['code']} {f['scope']} ({f['filename']}:{f['location']['row']})" for f in json.loads(out.stdout)
    ]


def measure_all(size_mib: float, root: Path) -> list[dict[str, Any]]:
    py = memory_run.venv_python()
    dirs = variant_dirs(root)
    checkpoints = {cls: memory_run.ensure_checkpoint(py, cls, size_mib) for cls in ARCH}
    rows = []
    for case in CASES:
        print(f"probing {case.cls} {case.variant} ...", file=sys.stderr, flush=True)
        ckpt = checkpoints[case.cls]
        result = probe_case(py, case, ckpt["dir"], dirs[case.variant])
        rows.append(
            {
                **result,
                "label": case.variant,
                "checkpoint": ckpt["dir"],
                "checkpoint_bytes": ckpt["total_bytes"],
                "static": static_findings(case, dirs[case.variant]),
            }
        )
    return rows


def fmt_mib(n: int) -> str:
    return f"{n / MIB:.1f}"


def reuse_cell(row: dict[str, Any]) -> str:
    reuse = row["reuse"]
    if reuse["state_sha256"] == row["plain_state_sha256"]:
        return "state identical to the plain load"
    return (
        f"**state differs**: {len(reuse['kept_at_end'])} overwritten tensors still referenced at the end, "
        f"{len(reuse['corrupted'])} of {row['params']} parameters hold NaN"
    )


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| class | variant | tensors read (MiB) | high-water, tensors | high-water MiB | "
        "reuse mode | static rules (`eagerlint check`) |"
    )
    lines = [head, "|---|---|---|---|---|---|---|"]
    for r in rows:
        count = r["count"]
        cells = [
            r["arch"],
            r["label"],
            f"{count['read']} ({fmt_mib(count['read_bytes'])})",
            f"{count['peak_count']} (element {count['peak_at']})",
            fmt_mib(count["peak_bytes"]),
            reuse_cell(r),
            "; ".join(f"`{s.split(' ', 1)[0]}` {s.split(' ', 1)[1]}" for s in r["static"]) or "nothing",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdicts(rows: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"- {r['arch']}, {r['label']}, {mode}: {r[mode]['verdict']}"
        for r in rows
        for mode in ("count", "reuse")
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mib", type=float, default=64, help="approximate checkpoint size")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="eagerlint-probe-variants-") as tmp:
        rows = measure_all(args.size_mib, Path(tmp))
    facts = memory_run.machine_facts()
    if args.json:
        args.json.write_text(
            json.dumps({"machine": facts, "size_mib": args.size_mib, "rows": rows}, indent=2)
        )
    print(
        f"Date: {facts['date']}. Machine: nproc={facts['nproc']}, MemTotal={facts['MemTotal']}, "
        f"kernel {facts['kernel']}. vLLM 0.23.0 on the CPU platform, torch 2.13.0+cpu; random bf16 "
        f"checkpoints of about {args.size_mib:g} MiB, read by safetensors_weights_iterator through the probe."
    )
    print()
    print(table(rows))
    print()
    print(verdicts(rows))


if __name__ == "__main__":
    main()
