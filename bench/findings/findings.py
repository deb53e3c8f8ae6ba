"""eagerlint's findings on a whole engine release, as a reviewable list.

    python bench/findings/findings.py 0.33.0            # print code, path, scope per finding
    python bench/findings/findings.py 0.33.0 --update   # rewrite vllm-0.33.0.expected.json
    python bench/findings/findings.py 0.33.0 --check    # exit 1 if the findings changed
    python bench/findings/findings.py 0.5.23 --project sglang   # the same for SGLang
    python bench/findings/findings.py 0.33.0 --select EL010 --check   # a default-off rule alone

The release's `.py` files come from its PyPI wheel (bench/vllm_source.py). The
expected lists are what tests/test_engine_findings.py compares against, so that a
change in what eagerlint reports on real code shows up in review; every entry
has a verdict in <project>-<version>.md.  A rule that is off by default is listed
on its own (`--select EL010`: <project>-<version>.EL010.expected.json and .md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import vllm_source  # noqa: E402

Entry = tuple[str, str, str]


def findings(version: str, project: str = "vllm", select: str | None = None) -> list[dict[str, object]]:
    src = vllm_source.source(version, project)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "eagerlint",
            "check",
            project,
            "--output-format",
            "json",
            "--exit-zero",
            "--no-cache",
            *(["--select", select] if select else []),
        ],
        cwd=src,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    if result.returncode != 0:
        raise SystemExit(f"eagerlint failed: {result.stderr}")
    data: list[dict[str, object]] = json.loads(result.stdout)
    return data


def entries(found: list[dict[str, object]]) -> list[Entry]:
    return sorted({(str(f["code"]), str(f["filename"]), str(f["scope"])) for f in found})


def expected_path(version: str, project: str = "vllm", select: str | None = None) -> Path:
    return HERE / f"{list_name(version, project, select)}.expected.json"


def list_name(version: str, project: str = "vllm", select: str | None = None) -> str:
    """`vllm-0.33.0`, or `vllm-0.33.0.EL010` for a rule listed on its own."""
    return f"{project}-{version}" + (f".{select}" if select else "")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("version")
    ap.add_argument("--project", default="vllm")
    ap.add_argument("--select", help="list only these rules (for a rule that is off by default)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--update", action="store_true")
    mode.add_argument("--check", action="store_true")
    args = ap.parse_args()
    found = findings(args.version, args.project, args.select)
    current = entries(found)
    path = expected_path(args.version, args.project, args.select)
    if args.update:
        path.write_text(json.dumps([list(e) for e in current], indent=1) + "\n")
        print(f"wrote {len(current)} entries to {path.relative_to(ROOT)}")
        return 0
    if args.check:
        expected = [tuple(e) for e in json.loads(path.read_text())]
        if expected != current:
            for e in sorted(set(expected) - set(current)):
                print("gone:", *e)
            for e in sorted(set(current) - set(expected)):
                print("new: ", *e)
            return 1
        print(f"{len(current)} entries, as expected")
        return 0
    for f in found:
        loc = f["location"]
        assert isinstance(loc, dict)
        print(f"{f['code']}  {f['filename']}:{loc['row']}  {f['scope']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
