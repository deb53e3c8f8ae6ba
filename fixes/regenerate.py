"""Regenerate (or check) the reference fix of vLLM 0.23.0's Llama4 files.

    python fixes/regenerate.py            # rewrite fixes/llama4/*.diff
    python fixes/regenerate.py --check    # exit 1 if they differ from what eagerlint produces
    python fixes/regenerate.py --apply DIR
                                          # write the two fixed files into DIR (for the benchmark)

The 0.23.0 wheel is fetched once into the cache (bench/vllm_source.py), the two
files are copied to a scratch folder, and eagerlint itself produces the diffs:
`llama4.py` with safe fixes only, `mllama4.py` with `--unsafe-fixes` (the
partition-drain rewrite is unsafe by design; see fixes/README.md).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "bench"))
import vllm_source  # noqa: E402

MODELS = "vllm/model_executor/models"
FILES = {"llama4.py": ["--fix"], "mllama4.py": ["--fix", "--unsafe-fixes"]}
VERSION = "0.23.0"


def _eagerlint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eagerlint", "check", "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def diffs() -> dict[str, str]:
    """The unified diff eagerlint produces for each file, keyed by file name."""
    src = vllm_source.source(VERSION) / MODELS
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / MODELS).mkdir(parents=True)
        for name, flags in FILES.items():
            shutil.copy(src / name, work / MODELS / name)
            flags = [f for f in flags if f != "--fix"]
            result = _eagerlint("--diff", "--quiet", *flags, f"{MODELS}/{name}", cwd=work)
            if result.returncode not in (0, 1) or not result.stdout:
                raise SystemExit(f"eagerlint produced no diff for {name}: {result.stderr}")
            out[name] = result.stdout
    return out


def apply(target: Path) -> None:
    """Write eagerlint-fixed copies of the two files into `target`."""
    src = vllm_source.source(VERSION) / MODELS
    target.mkdir(parents=True, exist_ok=True)
    for name, flags in FILES.items():
        shutil.copy(src / name, target / name)
        result = _eagerlint(*flags, "--quiet", name, cwd=target)
        if result.returncode not in (0, 1):
            raise SystemExit(f"eagerlint failed on {name}: {result.stderr}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--apply", type=Path, metavar="DIR")
    args = parser.parse_args()
    if args.apply:
        apply(args.apply)
        return 0
    status = 0
    for name, text in diffs().items():
        path = HERE / "llama4" / f"{name}.diff"
        if args.check:
            if not path.exists() or path.read_text() != text:
                print(f"{path.relative_to(ROOT)} is out of date", file=sys.stderr)
                status = 1
        else:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
