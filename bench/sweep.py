"""check, --diff, --fix and a second --fix over whole engine releases; every count should be 0.

    python bench/sweep.py [--release vllm==0.33.0 ...] [--json FILE]
    python bench/sweep.py --release stdlib      # CPython's own library, see below

Each release's Python source comes from its PyPI wheel (`bench/vllm_source.py`, cached
in ~/.cache/eagerlint, never committed) and is copied into a temporary folder, where:

1. `check` reports the findings, and its stderr the files that are errors;
2. `check --diff` prints what would change;
3. `check --fix` rewrites the copy;
4. a second `check --fix` must change nothing;
5. the diff of step 2, applied with `patch -p1` to a fresh copy, must give exactly the
   bytes step 3 wrote; and every file step 3 wrote must still compile.

`stdlib` is the standard library of the Python running the script (its `.py` files,
`site-packages` left out), with a configuration that declares every common iterable
call a weight stream (`STDLIB_PRODUCERS`) and with `--unsafe-fixes` in steps 2 to 4:
every rule and every rewrite then runs on code none of them was written for.  Its
findings say nothing about precision (a dict view is no weight stream); the point is
that nothing crashes, every fixed file compiles, and `--fix` and `--diff` agree.

Columns: Python files; findings; crashes (a signal, an exit code other than 0, 1 or 2,
a traceback or an internal error, in any step); parse failures (a syntax error or a
file eagerlint cannot analyse, among the files CPython itself compiles, less the
known gaps of libcst in `LIBCST_GAPS`); other errors (read errors); files fixed; fixed files
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
import sysconfig
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


STDLIB = "stdlib"
STDLIB_PRODUCERS = (
    "items", "values", "keys", "open", "range", "enumerate", "zip", "iter", "map", "filter",
    "split", "splitlines", "readlines", "walk", "glob", "iterdir", "finditer", "listdir",
    "reversed", "chain", "groupby", "scandir",
)  # fmt: skip
# Files CPython compiles that libcst does not parse (reported as one line each, exit 2).
LIBCST_GAPS = {
    # `(no_such_global): int`, a parenthesized annotated name (line 409).
    "lib/test/test_grammar.py",
}


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


def stdlib_tree(target: Path) -> None:
    """The running Python's standard library (`.py` files only) and the configuration
    that makes every common iterable a weight stream, in `target`."""
    library = Path(sysconfig.get_paths()["stdlib"])
    skip = shutil.ignore_patterns("site-packages", "__pycache__")
    shutil.copytree(library, target / "lib", ignore=lambda d, names: _not_python(d, names) | skip(d, names))
    producers = ", ".join(f'"{name}"' for name in STDLIB_PRODUCERS)
    (target / "pyproject.toml").write_text(f"[tool.eagerlint]\nextend-stream-producers = [{producers}]\n")


def _not_python(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if not n.endswith(".py") and not (Path(folder) / n).is_dir()}


def sweep(release: str, work: Path) -> Row:
    tree, fresh = work / "tree", work / "fresh"
    fixes: tuple[str, ...] = ()
    if release == STDLIB:
        package, fixes = "lib", ("--unsafe-fixes",)
        stdlib_tree(tree)
        stdlib_tree(fresh)
    else:
        project, _, version = release.partition("==")
        package = vllm_source.package(project)
        source = vllm_source.source(version, project) / package
        shutil.copytree(source, tree / package)
        shutil.copytree(source, fresh / package)
    flags = ("--no-cache", "--output-format", "json", "--exit-zero")

    check = eagerlint("check", *flags, package, cwd=tree)
    diff = eagerlint("check", "--diff", *fixes, "--no-cache", "--quiet", package, cwd=tree)
    before = digests(tree)
    fix = eagerlint("check", "--fix", *fixes, *flags, package, cwd=tree)
    after = digests(tree)
    again = eagerlint("check", "--fix", *fixes, *flags, package, cwd=tree)
    final = digests(tree)
    steps = (check, diff, fix, again)

    fixed = {name for name, d in after.items() if before.get(name) != d}
    applied = subprocess.run(["patch", "-s", "-p1", "--binary"], input=diff.stdout, cwd=fresh, check=False)
    patched = digests(fresh)
    mismatches = {name for name in after if patched.get(name) != after[name]}
    parse_kinds = ("syntax error", "cannot analyse")
    # A syntax error CPython reports too is the right answer, not a failure.
    unparsed = set().union(*(s.errors(parse_kinds) for s in steps)) - LIBCST_GAPS
    failed = {name for name in unparsed if compiles(fresh / name)}
    return Row(
        release=release,
        files=len(before),
        findings=len(json.loads(check.stdout or b"[]")),
        crashes=sum(s.crashed for s in steps),
        parse_failures=len(failed),
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
    label = "release" if len(rows) == 1 else "releases"
    sums = " | ".join(f"**{totals[k]:,}**" for k, _ in COLUMNS[1:])
    lines.append(f"| **{len(rows)} {label}** | {sums} |")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--release", action="append", help="project==version or `stdlib` (default: the twelve in RELEASES)"
    )
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
