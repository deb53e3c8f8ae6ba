"""Recall and precision of eagerlint against ground truth labelled blind.

    python bench/groundtruth/score.py                 # every labelled tree: the table
    python bench/groundtruth/score.py --tree tokenspeed-0.1.1 --misses
    python bench/groundtruth/score.py --update        # rewrite figures.json (the floor `make test` keeps)

Each `<project>-<version>.jsonl` here holds one line per function a weight stream
reaches, labelled by someone who had not seen eagerlint's output (GUIDE.md is all
they had). A site is *positive* when its verdict is `full` (every element kept at
once, bounded streams included) or `multi-pass`. A finding belongs to the
innermost labelled function whose lines hold it, in the same file; it is a true
finding when that site is positive and of its kind (EL008 for `multi-pass`, the
other rules for `full`), a false alarm otherwise, and *unlabelled* when no
labelled function holds it (counted as a false alarm here, and listed).

A tree with a `<tree>.sample` file (written by `sample.py`) was labelled only in the
files it lists: the whole package is checked (calls across files are followed as a
user's run follows them), and only the findings in those files are scored.

- recall: positive sites with at least one true finding / positive sites;
- precision: true findings / all findings;
- safe-fixable sites fixed: sites labelled `safe_autofix` that got a safe fix.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import vllm_source  # noqa: E402

FIGURES = HERE / "figures.json"
TREES = {
    "vllm-omni-0.30.0": ("vllm-omni", "0.30.0"),
    "tokenspeed-0.1.1": ("tokenspeed", "0.1.1"),
    "tpu-inference-0.32.0": ("tpu-inference", "0.32.0"),
    "vllm-0.33.0": ("vllm", "0.33.0"),
    "sglang-0.5.23": ("sglang", "0.5.23"),
    "lmdeploy-0.18.0": ("lmdeploy", "0.18.0"),
}
POSITIVE = {"full", "multi-pass"}
FLAGS = ("--output-format", "json", "--exit-zero", "--no-cache")


@dataclass(frozen=True)
class Site:
    path: str
    function: str
    line: int
    end_line: int
    verdict: str
    safe_autofix: bool
    reason: str

    def holds(self, path: str, row: int) -> bool:
        return path == self.path and self.line <= row <= self.end_line

    def accepts(self, code: str) -> bool:
        return self.verdict in POSITIVE and (code == "EL008") == (self.verdict == "multi-pass")


@dataclass
class Score:
    tree: str
    positives: list[Site] = field(default_factory=list)
    found: list[Site] = field(default_factory=list)
    true: list[dict[str, object]] = field(default_factory=list)
    false: list[tuple[dict[str, object], Site]] = field(default_factory=list)
    unlabelled: list[dict[str, object]] = field(default_factory=list)
    fixable: list[Site] = field(default_factory=list)
    fixed: list[Site] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return len(self.found) / len(self.positives) if self.positives else 1.0

    @property
    def precision(self) -> float:
        total = len(self.true) + len(self.false) + len(self.unlabelled)
        return len(self.true) / total if total else 1.0


def labels(tree: str) -> list[Site]:
    rows = [json.loads(line) for line in (HERE / f"{tree}.jsonl").read_text().splitlines() if line.strip()]
    return [
        Site(
            r["path"],
            r["function"],
            r["line"],
            r["end_line"],
            r["verdict"],
            bool(r["safe_autofix"]),
            r["reason"],
        )
        for r in rows
    ]


def sample(tree: str) -> frozenset[str] | None:
    """The files a sampled tree was labelled in (None: the whole tree was)."""
    path = HERE / f"{tree}.sample"
    if not path.exists():
        return None
    return frozenset(line for line in path.read_text().splitlines() if line and not line.startswith("#"))


def findings(project: str, version: str) -> list[dict[str, object]]:
    src = vllm_source.source(version, project)
    result = subprocess.run(
        [sys.executable, "-m", "eagerlint", "check", vllm_source.package(project), *FLAGS],
        cwd=src,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    if result.returncode != 0:
        raise SystemExit(f"eagerlint failed on {project} {version}: {result.stderr[-2000:]}")
    data: list[dict[str, object]] = json.loads(result.stdout)
    return data


def innermost(sites: list[Site], path: str, row: int, code: str) -> Site | None:
    """The innermost labelled function holding `row`; of its labels (a function that
    keeps everything and also reads its stream twice has two), the one that accepts
    `code` when there is one."""
    holding = [s for s in sites if s.holds(path, row)]
    if not holding:
        return None
    span = min(s.end_line - s.line for s in holding)
    inner = [s for s in holding if s.end_line - s.line == span]
    return next((s for s in inner if s.accepts(code)), inner[0])


def score(tree: str) -> Score:
    project, version = TREES[tree]
    sites = labels(tree)
    out = Score(tree, positives=[s for s in sites if s.verdict in POSITIVE])
    out.fixable = [s for s in out.positives if s.safe_autofix]
    found: set[Site] = set()
    fixed: set[Site] = set()
    scope = sample(tree)
    for f in findings(project, version):
        if scope is not None and str(f["filename"]) not in scope:
            continue
        location = f["location"]
        assert isinstance(location, dict)
        site = innermost(sites, str(f["filename"]), int(location["row"]), str(f["code"]))
        if site is None:
            out.unlabelled.append(f)
        elif site.accepts(str(f["code"])):
            out.true.append(f)
            found.add(site)
            fix = f["fix"]
            if isinstance(fix, dict) and fix.get("applicability") == "safe":
                fixed.add(site)
        else:
            out.false.append((f, site))
    out.found = [s for s in out.positives if s in found]
    out.fixed = [s for s in out.fixable if s in fixed]
    return out


def figures(s: Score) -> dict[str, float | int]:
    return {
        "positive_sites": len(s.positives),
        "found": len(s.found),
        "recall": round(s.recall, 3),
        "findings": len(s.true) + len(s.false) + len(s.unlabelled),
        "true_findings": len(s.true),
        "precision": round(s.precision, 3),
        "safe_fixable_sites": len(s.fixable),
        "safe_fixable_fixed": len(s.fixed),
    }


def table(scores: list[Score]) -> str:
    lines = [
        "| tree | positive sites | found | recall | findings | true | false | unlabelled | precision "
        "| safe-fixable sites fixed |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines.extend(
        f"| {s.tree} | {len(s.positives)} | {len(s.found)} | {s.recall:.2f} | "
        f"{len(s.true) + len(s.false) + len(s.unlabelled)} | {len(s.true)} | {len(s.false)} | "
        f"{len(s.unlabelled)} | {s.precision:.2f} | {len(s.fixed)} of {len(s.fixable)} |"
        for s in scores
    )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", action="append", choices=sorted(TREES))
    ap.add_argument("--misses", action="store_true", help="list positive sites without a finding")
    ap.add_argument("--false", action="store_true", help="list false and unlabelled findings")
    ap.add_argument("--update", action="store_true", help="write figures.json")
    args = ap.parse_args()
    scores = [score(t) for t in (args.tree or sorted(TREES))]
    print(table(scores))
    for s in scores:
        if args.misses:
            for site in s.positives:
                if site not in s.found:
                    print(f"miss {s.tree} {site.path}:{site.line} {site.function} [{site.verdict}]")
                    print(f"     {site.reason}")
        if args.false:
            for f, site in s.false:
                where = f"{f['filename']}:{f['location']}"
                print(f"false {s.tree} {f['code']} {where} in {site.function} [{site.verdict}]")
            for f in s.unlabelled:
                print(f"unlabelled {s.tree} {f['code']} {f['filename']}:{f['location']} {f['scope']}")
    if args.update:
        FIGURES.write_text(json.dumps({s.tree: figures(s) for s in scores}, indent=1) + "\n")
        print(f"wrote {FIGURES.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
