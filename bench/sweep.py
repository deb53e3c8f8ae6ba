"""check, --diff, --fix and a second --fix over whole engine releases; every count should be 0.

    python bench/sweep.py [--release vllm==0.33.0 ...] [--json FILE]

Each release's Python source comes from its PyPI wheel (`bench/vllm_source.py`, cached
in ~/.cache/eagerlint, never committed) and is copied into a temporary folder, where:

1. `check` reports the findings, and its stderr the files that are errors;
2. `check --diff` prints what would change;
3. `check --fix` rewrites the copy;
4. a second `check --fix` must change nothing;
5. the diff of step 2, applied with `patch -p1` to a fresh copy, must give exactly the
   bytes step 3 wrote; and every file step 3 wrote must still compile.

Columns: Python files; findings; crashes (a signal, an exit code other than 0, 1 or 2,
a traceback or an internal error, in any step); parse failures (a syntax error or a
file eagerlint cannot analyse); other errors (read errors); files fixed; fixed files
that do not compile; non-idempotent files (changed by the second --fix); diff
mismatches (files where the applied diff differs from what --fix wrote, or a diff
that does not apply).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import vllm_source  # noqa: E402

RELEASES = (
    "vllm==0.6.6",
    "vllm==0.8.5",
    "vllm==0.10.0",
    "vllm==0.11.0",
    "vllm==0.23.0",
    "vllm==0.24.0",
    "vllm==0.33.0",
    "sglang==0.5.23",
    "lmdeploy==0.18.0",
    "vllm-omni==0.30.0",
    "tokenspeed==0.1.1",
    "tpu-inference==0.32.0",
)


@dataclass(frozen=True)
class Row:
    release: str
    files: int
    findings: int
    crashes: int
    parse_failures: int
    other_errors: int
    fixed: int
    fixed_not_compiling: int
    non_idempotent: int
    diff_mismatches: int


@dataclass(frozen=True)
class Step:
    code: int
    stdout: bytes
    stderr: str

    @property
    def crashed(self) -> bool:
        lines = self.stderr.splitlines()
        return (
            self.code not in (0, 1, 2)
            or "Traceback" in self.stderr
            or any(": internal error: " in line for line in lines)
        )

    def errors(self, kinds: tuple[str, ...]) -> set[str]:
        """The files named by error lines of the given kinds."""
        found = set()
        for line in self.stderr.splitlines():
            for kind in kinds:
                marker = f": {kind}: "
                if line.startswith("eagerlint: error: ") and marker in line:
                    found.add(line[len("eagerlint: error: ") : line.index(marker)])
        return found


def eagerlint(*args: str, cwd: Path) -> Step:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "eagerlint"), *args], cwd=cwd, capture_output=True, check=False
    )
    return Step(done.returncode, done.stdout, done.stderr.decode(errors="replace"))


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.blake2b(p.read_bytes(), digest_size=16).hexdigest()
        for p in sorted(root.rglob("*.py"))
        if p.is_file()
    }


def compiles(path: Path) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
            return True
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False


def sweep(release: str, work: Path) -> Row:
    project, _, version = release.partition("==")
    package = vllm_source.package(project)
    source = vllm_source.source(version, project) / package
    tree, fresh = work / "tree", work / "fresh"
    shutil.copytree(source, tree / package)
    shutil.copytree(source, fresh / package)
    flags = ("--no-cache", "--output-format", "json", "--exit-zero")

    check = eagerlint("check", *flags, package, cwd=tree)
    diff = eagerlint("check", "--diff", "--no-cache", "--quiet", package, cwd=tree)
    before = digests(tree)
    fix = eagerlint("check", "--fix", *flags, package, cwd=tree)
    after = digests(tree)
    again = eagerlint("check", "--fix", *flags, package, cwd=tree)
    final = digests(tree)
    steps = (check, diff, fix, again)

    fixed = {name for name, d in after.items() if before.get(name) != d}
    applied = subprocess.run(["patch", "-s", "-p1", "--binary"], input=diff.stdout, cwd=fresh, check=False)
    patched = digests(fresh)
    mismatches = {name for name in after if patched.get(name) != after[name]}
    parse_kinds = ("syntax error", "cannot analyse")
    return Row(
        release=release,
        files=len(before),
        findings=len(json.loads(check.stdout or b"[]")),
        crashes=sum(s.crashed for s in steps),
        parse_failures=len(set().union(*(s.errors(parse_kinds) for s in steps))),
        other_errors=len(set().union(*(s.errors(("read error", "write error")) for s in steps))),
        fixed=len(fixed),
        fixed_not_compiling=sum(not compiles(tree / name) for name in fixed),
        non_idempotent=sum(1 for name, d in final.items() if after.get(name) != d),
        diff_mismatches=len(mismatches) + (applied.returncode != 0),
    )


COLUMNS = (
    ("release", "release"),
    ("files", "files"),
    ("findings", "findings"),
    ("crashes", "crashes"),
    ("parse_failures", "parse failures"),
    ("other_errors", "other errors"),
    ("fixed", "files fixed"),
    ("fixed_not_compiling", "fixed, not compiling"),
    ("non_idempotent", "non-idempotent"),
    ("diff_mismatches", "diff mismatches"),
)


def table(rows: list[Row]) -> list[str]:
    lines = ["| " + " | ".join(title for _, title in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        values = asdict(row)
        lines.append(
            "| "
            + " | ".join(f"{values[key]:,}" if key != "release" else values[key] for key, _ in COLUMNS)
            + " |"
        )
    totals = {key: sum(getattr(r, key) for r in rows) for key, _ in COLUMNS[1:]}
    lines.append(
        f"| **{len(rows)} releases** | " + " | ".join(f"**{totals[k]:,}**" for k, _ in COLUMNS[1:]) + " |"
    )
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--release", action="append", help="project==version (default: the twelve in RELEASES)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = []
    for release in args.release or RELEASES:
        with tempfile.TemporaryDirectory(prefix="eagerlint-sweep-") as work:
            rows.append(sweep(release, Path(work)))
        print(f"{release}: done", file=sys.stderr, flush=True)
    print("\n".join(table(rows)))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")
    bad = (
        "crashes",
        "parse_failures",
        "other_errors",
        "fixed_not_compiling",
        "non_idempotent",
        "diff_mismatches",
    )
    return 1 if any(getattr(r, key) for r in rows for key in bad) else 0


if __name__ == "__main__":
    raise SystemExit(main())
