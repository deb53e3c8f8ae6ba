"""Matrix driver: stock vs fixed vLLM 0.23.0 Llama4 files, host memory during load_weights.

Standard library only, so any python3 can drive it; each measurement runs
measure.py in a fresh process of the harness venv (built by setup.sh).

    python3 bench/llama4_memory/run.py --fixed /tmp/handfix --size-mib 2048 --json out.json

Rows: {causal, conditional} x {stock, fixed} x {runai, runai with
RUNAI_STREAMER_MEMORY_LIMIT=0, safetensors}. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MIB = 1 << 20
CLASSES = ("causal", "conditional")


@dataclass(frozen=True)
class LoaderCase:
    label: str
    loader: str
    runai_memory_limit: str | None  # None: leave the streamer's default read-ahead


LOADER_CASES = (
    LoaderCase("runai", "runai", None),
    LoaderCase("runai, limit=0", "runai", "0"),
    LoaderCase("safetensors", "safetensors", None),
)


def venv_python() -> str:
    """The harness venv's python; setup.sh is a fast no-op once it has run."""
    out = subprocess.run(
        ["bash", str(HERE / "setup.sh")], check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    return out.strip().splitlines()[-1]


def last_json_line(stdout: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return result


def ensure_checkpoint(py: str, kind: str, size_mib: float, seed: int = 0) -> dict[str, Any]:
    out = subprocess.run(
        [
            py,
            str(HERE / "make_checkpoint.py"),
            "--kind",
            kind,
            "--size-mib",
            f"{size_mib:g}",
            "--seed",
            str(seed),
        ],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    return last_json_line(out)


def measure(
    py: str, cls: str, checkpoint: str, case: LoaderCase, variant: str, malloc: str = "pinned"
) -> dict[str, Any]:
    env = dict(os.environ)
    env.pop("RUNAI_STREAMER_MEMORY_LIMIT", None)  # only the case decides, never the caller's shell
    if case.runai_memory_limit is not None:
        env["RUNAI_STREAMER_MEMORY_LIMIT"] = case.runai_memory_limit
    cmd = [py, str(HERE / "measure.py"), "--cls", cls, "--checkpoint", checkpoint]
    cmd += ["--loader", case.loader, "--variant", variant, "--malloc", malloc]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise RuntimeError(f"measure.py failed ({proc.returncode}): {' '.join(cmd)}")
    return {**last_json_line(proc.stdout), "loader_case": case.label}


def machine_facts() -> dict[str, str]:
    mem_total = next(
        line.split(":", 1)[1].strip() for line in open("/proc/meminfo") if line.startswith("MemTotal")
    )
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(len(os.sched_getaffinity(0))),
        "MemTotal": mem_total,
        "kernel": platform.release(),
    }


def fmt_ratio(num: float, den: float) -> str:
    # A transient at or below ~0 is noise around "nothing held"; a ratio to it means nothing.
    return f"{num / den:.1f}x" if den >= 1.0 else "n/a"


def fmt_mib(x: float) -> str:
    return f"{round(x):,}"  # round() to int first, so -0.3 prints as 0, not -0


def table(rows: list[dict[str, Any]]) -> str:
    stock = {(r["cls"], r["loader_case"]): r for r in rows if r["variant"] == "stock"}
    head = (
        "| class | variant | loader | ckpt MiB | largest tensor MiB | RssAnon before MiB "
        "| RssAnon peak MiB | transient MiB | VmHWM transient MiB | transient / largest "
        "| stock / this row | state sha256 | = stock |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for r in rows:
        base = stock.get((r["cls"], r["loader_case"]))
        largest = r["largest_tensor_bytes"] / MIB
        is_stock = r["variant"] == "stock"
        cells = [
            r["arch"],
            r.get("label", "stock" if is_stock else "fixed"),
            r["loader_case"],
            fmt_mib(r["total_bytes"] / MIB),
            f"{largest:g}",
            fmt_mib(r["rss_anon_before_mib"]),
            fmt_mib(r["rss_anon_peak_mib"]),
            fmt_mib(r["transient_mib"]),
            "n/a" if r["hwm_transient_mib"] is None else fmt_mib(r["hwm_transient_mib"]),
            f"{r['transient_mib'] / largest + 0.0:.1f}".replace("-0.0", "0.0"),
            "—" if is_stock or base is None else fmt_ratio(base["transient_mib"], r["transient_mib"]),
            r["state_sha256"][:12],
            "—"
            if is_stock or base is None
            else ("yes" if r["state_sha256"] == base["state_sha256"] else "NO"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(rows: list[dict[str, Any]], facts: dict[str, str]) -> str:
    v = rows[0]["versions"] if rows else {}
    return "\n".join(
        [
            f"Date: {facts['date']}. Machine: nproc={facts['nproc']}, MemTotal={facts['MemTotal']}, "
            f"kernel {facts['kernel']}. vllm {v.get('vllm')}, torch {v.get('torch')}, "
            f"transformers {v.get('transformers')}; model dtype bf16, CPU platform; "
            f"malloc: {rows[0]['malloc'] if rows else '?'}.",
            "",
            table(rows),
            "",
            "transient = peak RssAnon during model.load_weights(iterator) - RssAnon before - parameter bytes "
            "(RssAnon sampled every 1 ms; excludes file-backed pages). VmHWM transient = kernel high-water "
            "mark (reset by clear_refs) - VmRSS before - parameter bytes; it includes file-backed pages, "
            "so for safetensors (mmap) it counts the checkpoint pages touched.",
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixed", type=Path, required=True, help="dir with fixed llama4.py and/or mllama4.py")
    ap.add_argument(
        "--upstream",
        type=Path,
        help="dir with the upstream hand fix (upstream_variant.py), measured alongside",
    )
    ap.add_argument("--size-mib", type=float, default=2048, help="approximate checkpoint size")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    ap.add_argument(
        "--malloc",
        choices=("pinned", "default"),
        default="pinned",
        help="glibc mmap threshold: pinned at 128 KiB (see measure.py) or glibc's adaptive default",
    )
    args = ap.parse_args()

    py = venv_python()
    rows: list[dict[str, Any]] = []
    for cls in CLASSES:
        ckpt = ensure_checkpoint(py, cls, args.size_mib, args.seed)
        variants = [
            "stock",
            *([str(args.upstream.resolve())] if args.upstream else []),
            str(args.fixed.resolve()),
        ]
        for variant in variants:
            for case in LOADER_CASES:
                print(f"measuring {cls} {variant} {case.label} ...", file=sys.stderr, flush=True)
                r = measure(py, cls, ckpt["dir"], case, variant, args.malloc)
                label = (
                    "stock"
                    if variant == "stock"
                    else "upstream"
                    if variant == variants[1] and args.upstream
                    else "fixed"
                )
                rows.append(
                    {
                        **r,
                        "label": label,
                        "total_bytes": ckpt["total_bytes"],
                        "largest_tensor_bytes": ckpt["largest_tensor_bytes"],
                    }
                )
    facts = machine_facts()
    if args.json:
        args.json.write_text(
            json.dumps({"machine": facts, "size_mib": args.size_mib, "rows": rows}, indent=2)
        )
    print(report(rows, facts))


if __name__ == "__main__":
    main()
