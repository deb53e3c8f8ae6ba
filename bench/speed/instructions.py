"""Instructions, not seconds: eagerlint today against another commit, under callgrind.

    python bench/speed/instructions.py BASELINE_COMMIT [--version 0.33.0]

Wall-clock time on a shared two-core machine moves by 10-20% from run to run;
the number of instructions a run executes does not (valgrind's callgrind counts
them, the same total twice for the same binary and input).  Each side analyses
every file of the tree serially in one process (no pool, pyc files warmed
first), so the ratio is the analysis' own cost, start-up and imports included.
Takes a few minutes per side (callgrind runs ~50x slower).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(HERE))
import vllm_source  # noqa: E402
from run import checkout  # noqa: E402

SERIAL = """
import pathlib, sys
from eagerlint.config import Settings
from eagerlint.pipeline import FixMode, check_bytes, make_project
files = sorted(pathlib.Path(sys.argv[1]).rglob('*.py'))
settings = Settings(root=pathlib.Path.cwd())
project = make_project(files, settings)
found = sum(len(check_bytes(p.read_bytes(), str(p), settings, FixMode.NONE, project).findings) for p in files)
print(found)
"""


def instructions(package: Path, src: Path, tree: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(package)
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "serial.py"
        script.write_text(SERIAL)
        subprocess.run([sys.executable, str(script), tree], cwd=src, env=env, check=True, capture_output=True)
        out = Path(tmp) / "callgrind.out"
        valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        run = subprocess.run(
            [*valgrind, sys.executable, str(script), tree],
            cwd=src,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    match = re.search(r"Collected : (\d+)", run.stderr)
    assert match, run.stderr[-2000:]
    return int(match.group(1)), run.stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("baseline")
    ap.add_argument("--version", default="0.33.0")
    ap.add_argument("--project", default="vllm")
    args = ap.parse_args()
    src = vllm_source.source(args.version, args.project)
    tree = vllm_source.package(args.project)
    today, today_found = instructions(ROOT, src, tree)
    base, base_found = instructions(checkout(args.baseline), src, tree)
    print("| build | instructions | ratio | findings |\n|---|---|---|---|")
    print(f"| `{args.baseline}` | {base:,} | 1.000 | {base_found} |")
    print(f"| today | {today:,} | {today / base:.3f} | {today_found} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
