"""The measured memory effect of the Llama4 fix, in a few lines, from the committed figures.

    python bench/llama4_memory/summary.py            # results-pinned.json (make bench-memory wrote it)

Nothing is measured here: `make demo` prints what `make bench-memory` measured on vLLM
0.23.0's real classes and loaders (see README.md in this folder for how).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOADERS = {"runai": "runai_streamer (private copies)", "runai, limit=0": "runai_streamer, memory limit 0"}


def lines(data: dict[str, object]) -> list[str]:
    rows = data["rows"]
    assert isinstance(rows, list)
    machine = data["machine"]
    assert isinstance(machine, dict)
    by = {(r["arch"], r["label"], r["loader_case"]): r for r in rows}
    size = rows[0]["total_bytes"] / 2**20
    out = [
        f"Measured {machine['date']} by `make bench-memory` (bench/llama4_memory): a {size:,.0f} MiB "
        f"{rows[0]['model_dtype'].removeprefix('torch.')} checkpoint, vLLM {rows[0]['versions']['vllm']}'s "
        "own classes; transient host RAM during load_weights (peak RssAnon beyond the parameters):"
    ]
    for arch in dict.fromkeys(r["arch"] for r in rows):
        for case, loader in LOADERS.items():
            stock, fixed = by.get((arch, "stock", case)), by.get((arch, "fixed", case))
            if stock is None or fixed is None:
                continue
            before, after = stock["transient_mib"], fixed["transient_mib"]
            ratio = before / after if after > 0 else float("inf")
            same = "state identical" if stock["state_sha256"] == fixed["state_sha256"] else "STATE DIFFERS"
            out.append(
                f"  {arch}, {loader}: stock {stock['transient_mib']:,.0f} MiB -> fixed "
                f"{fixed['transient_mib']:,.0f} MiB ({ratio:.1f}x less; {same})"
            )
    out.append(
        "  (fixed = fixes/: llama4.py's safe fix, mllama4.py's unsafe partition rewrite; under a "
        "buffer-reusing loader that one still loads the vision weights wrong: README, The weights probe)"
    )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="?", type=Path, default=HERE / "results-pinned.json")
    args = ap.parse_args()
    print("\n".join(lines(json.loads(args.results.read_text()))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
