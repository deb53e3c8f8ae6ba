"""Speed of eagerlint on the whole vLLM 0.33.0 package, against ruff, Fixit and the floors.

    python bench/speed/run.py [--repeats 5] [--fixit-subtree vllm/model_executor/models]

Every row is a fresh process, timed wall-clock from start to exit, repeated and
reduced to the median, all in one run on one machine; peak RSS is the child's
`ru_maxrss`.  Ratios are to ruff's cold run.  Rows:

* eagerlint cold (`--no-cache`) and warm (result cache filled by a first run);
* `ruff check --isolated --select C4,PERF`, cold (`--no-cache`) and with its cache;
* Fixit 2 with one built-in rule, on a subtree (the whole tree takes minutes);
* one file, the way pre-commit calls a hook (process start included);
* eagerlint as the core issue left it (commit `CORE_COMMIT`, the last before the
  flow issue's first commit), cold, extracted with `git archive`;
* with `--baseline COMMIT` (repeatable): eagerlint at that commit against today's
  build, cold, their runs interleaved (A B A B ...) so that both see the same
  machine load: the before/after of a change;
* floors: starting Python and importing libcst (what any run that parses pays),
  reading every file, `ast.parse` of every file, libcst parsing just
  the files eagerlint has to parse (those that pass its byte prefilter), and
  libcst parsing just the functions it starts from (its units), serially.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import vllm_source  # noqa: E402

VERSION = "0.33.0"
CORE_COMMIT = "48d4d3e"
ONE_FILE = "vllm/model_executor/models/llama4.py"


@dataclass(frozen=True)
class Row:
    label: str
    seconds: float
    rss_mb: float
    findings: str = ""


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every timed process: bytecode caching on, as after a normal
    install (a sandbox's PYTHONDONTWRITEBYTECODE would make each run recompile every
    module changed since the last `.pyc` was written)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **(extra or {})}


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and stdout of one fresh process."""
    env = env if env is not None else child_env()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    out = proc.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024, out


def measure(
    label: str,
    cmd: list[str],
    cwd: Path,
    repeats: int,
    prepare: list[str] | None = None,
    count: callable | None = None,
    env: dict[str, str] | None = None,
    warmup: bool = True,
) -> Row:  # type: ignore[valid-type]
    """The median of `repeats` timed runs, after one untimed run (page cache, `.pyc`)."""
    times, rss, out = [], [], ""
    if warmup:
        if prepare:
            subprocess.run(prepare, cwd=cwd, capture_output=True, check=False)
        timed(cmd, cwd, env)
    for _ in range(repeats):
        if prepare:
            subprocess.run(prepare, cwd=cwd, capture_output=True, check=False)
        seconds, peak, out = timed(cmd, cwd, env)
        times.append(seconds)
        rss.append(peak)
    return Row(label, statistics.median(times), max(rss), count(out) if count else "")


def checkout(commit: str) -> Path:
    """The `eagerlint` package at `commit`, extracted once into the cache."""
    dest = vllm_source.cache_dir() / f"core-{commit}"
    if not (dest / "eagerlint" / "__init__.py").exists():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit, "eagerlint"], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def interleaved(
    labels: tuple[str, str],
    cmds: tuple[list[str], list[str]],
    envs: tuple[dict[str, str], dict[str, str]],
    cwd: Path,
    repeats: int,
    count: callable,  # type: ignore[valid-type]
) -> list[Row]:
    """Two commands timed in alternation after one warm-up each: their medians."""
    for cmd, env in zip(cmds, envs, strict=True):
        timed(cmd, cwd, env)
    runs: list[list[tuple[float, float, str]]] = [[], []]
    for _ in range(repeats):
        for i in (0, 1):
            runs[i].append(timed(cmds[i], cwd, envs[i]))
    return [
        Row(
            label,
            statistics.median(r[0] for r in rs),
            max(r[1] for r in rs),
            count(rs[-1][2]),  # type: ignore[misc]
        )
        for label, rs in zip(labels, runs, strict=True)
    ]


def floor_script(kind: str) -> str:
    return {
        "read": "import pathlib\nfor p in pathlib.Path('vllm').rglob('*.py'): p.read_bytes()",
        "ast": "import ast, pathlib\nfor p in pathlib.Path('vllm').rglob('*.py'):\n"
        "    try: ast.parse(p.read_bytes())\n    except SyntaxError: pass",
        "libcst": "import pathlib, libcst\nfrom eagerlint.prefilter import may_contain_streams\n"
        "from eagerlint.model import AnalysisOptions\no = AnalysisOptions()\n"
        "for p in pathlib.Path('vllm').rglob('*.py'):\n    d = p.read_bytes()\n"
        "    if may_contain_streams(d, o): libcst.parse_module(d)",
        # The functions eagerlint starts from (its units), parsed alone: what its
        # design cannot avoid, before helpers, analysis and process start-up.
        "units": UNITS
        + "        libcst.parse_module(('if 1:\\n' if b.indent else '') + b.text(a.outline.lines))",
        # The same functions through CPython's parser: what an `ast` screen would pay.
        "ast-units": UNITS + "        ast.parse(" + SNIPPET + ")",
    }[kind]


# Reads the tree, applies the prefilter and the outline, and loops over the units.
SNIPPET = "('if 1:\\n' if b.indent else '') + b.text(a.outline.lines)"
UNITS = (
    "import ast, pathlib, libcst\nfrom eagerlint.prefilter import may_contain_streams, decode\n"
    "from eagerlint.model import AnalysisOptions\nfrom eagerlint.outline import outline\n"
    "from eagerlint.analysis.module import ModuleView\nfrom eagerlint.analysis.source import ModuleSource\n"
    "from eagerlint.engine import units\no = AnalysisOptions()\n"
    "for p in pathlib.Path('vllm').rglob('*.py'):\n    d = p.read_bytes()\n"
    "    if not may_contain_streams(d, o): continue\n    t, _ = decode(d)\n"
    "    a = ModuleView(ModuleSource(t, outline(t), str(p)), o)\n"
    "    for b, _ in units(a):\n"
)


def tree_counts(src: Path) -> tuple[int, int]:
    """Files past the prefilter and units (functions eagerlint starts from)."""
    script = UNITS.replace("import ast, pathlib, libcst", "import ast, pathlib") + "        n += 1\n"
    script = "n = m = 0\n" + script.replace("    t, _ = decode(d)\n", "    m += 1\n    t, _ = decode(d)\n")
    out = subprocess.run(
        [sys.executable, "-c", script + "print(m, n)"], cwd=src, capture_output=True, text=True, check=True
    )
    files, units = out.stdout.split()
    return int(files), int(units)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--fixit-subtree", default="vllm/model_executor/models")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--baseline", action="append", default=[], metavar="COMMIT")
    ap.add_argument("--skip-floors", action="store_true", help="only the eagerlint and ruff rows")
    args = ap.parse_args()
    src = vllm_source.source(VERSION)
    py = sys.executable
    bindir = Path(py).parent
    eagerlint = [str(bindir / "eagerlint"), "check"]
    ruff = [str(bindir / "ruff"), "check", "--isolated", "--select", "C4,PERF", "--exit-zero"]
    fixit = [str(bindir / "fixit"), "--rules", "fixit.rules.no_redundant_list_comprehension", "lint"]
    files = sum(1 for _ in (src / "vllm").rglob("*.py"))
    n = args.repeats

    def eagerlint_count(out: str) -> str:
        return str(len(json.loads(out))) if out.strip().startswith("[") else "?"

    def ruff_count(out: str) -> str:
        return str(sum(1 for line in out.splitlines() if ":" in line and line.split(":")[0].endswith(".py")))

    cache = str(src / ".eagerlint_cache")
    rows = [
        measure(
            "ruff C4+PERF, cold (`--no-cache`)",
            [*ruff, "--no-cache", "--output-format", "concise", "vllm"],
            src,
            n,
            count=ruff_count,
        ),
        measure(
            "ruff C4+PERF, warm (its cache)",
            [*ruff, "--output-format", "concise", "vllm"],
            src,
            n,
            count=ruff_count,
        ),
        measure(
            "eagerlint, cold (`--no-cache`)",
            [*eagerlint, "--no-cache", "--output-format", "json", "--exit-zero", "vllm"],
            src,
            n,
            count=eagerlint_count,
        ),
        measure(
            "eagerlint, cold (cache cleared before each run)",
            [*eagerlint, "--output-format", "json", "--exit-zero", "vllm"],
            src,
            n,
            prepare=["rm", "-rf", cache],
            count=eagerlint_count,
        ),
        measure(
            "eagerlint, warm (cache filled)",
            [*eagerlint, "--output-format", "json", "--exit-zero", "vllm"],
            src,
            n,
            count=eagerlint_count,
        ),
        measure(
            f"eagerlint, one file, process start included (`{ONE_FILE}`)",
            [*eagerlint, "--no-cache", "--output-format", "json", "--exit-zero", ONE_FILE],
            src,
            n,
            count=eagerlint_count,
        ),
        measure(
            f"eagerlint at the core commit `{CORE_COMMIT}`, cold",
            [py, "-m", "eagerlint", "check", "--no-cache", "--output-format", "json", "--exit-zero", "vllm"],
            src,
            n,
            count=eagerlint_count,
            env=child_env({"PYTHONPATH": str(checkout(CORE_COMMIT))}),
        ),
    ]
    cold = [py, "-m", "eagerlint", "check", "--no-cache", "--output-format", "json", "--exit-zero", "vllm"]
    for commit in args.baseline:
        rows += interleaved(
            (
                f"eagerlint today, cold, interleaved with `{commit}`",
                f"eagerlint at `{commit}`, cold, interleaved",
            ),
            (cold, cold),
            (child_env({"PYTHONPATH": str(ROOT)}), child_env({"PYTHONPATH": str(checkout(commit))})),
            src,
            n,
            eagerlint_count,
        )
    if args.skip_floors:
        return report(rows, src, files, n, args)
    rows += [
        measure("floor: start Python and `import libcst`", [py, "-c", "import libcst"], src, n),
        measure("floor: read every file", [py, "-c", floor_script("read")], src, n),
        measure("floor: `ast.parse` every file", [py, "-c", floor_script("ast")], src, n),
        measure(
            "floor: libcst-parse the files past eagerlint's prefilter",
            [py, "-c", floor_script("libcst")],
            src,
            max(1, n // 2),
        ),
        measure(
            "floor: libcst-parse only eagerlint's units (serial)",
            [py, "-c", floor_script("units")],
            src,
            max(1, n // 2),
        ),
        measure(
            "floor: `ast.parse` only eagerlint's units (serial)",
            [py, "-c", floor_script("ast-units")],
            src,
            n,
        ),
    ]
    if shutil.which(fixit[0]):
        rows.append(
            measure(
                f"Fixit 2.2.1, one rule, subtree `{args.fixit_subtree}` only",
                [*fixit, args.fixit_subtree],
                src,
                1,
                warmup=False,
            )
        )
    return report(rows, src, files, n, args)


def report(rows: list[Row], src: Path, files: int, n: int, args: argparse.Namespace) -> int:
    base = rows[0].seconds
    passed, units = tree_counts(src)
    now = datetime.datetime.now(datetime.timezone.utc)
    facts = (
        f"Date: {now:%Y-%m-%d %H:%M} UTC. Machine: nproc={os.cpu_count()}, "
        f"{platform.machine()}, Python {platform.python_version()}, kernel {platform.release()}. "
        f"Tree: vLLM {VERSION}, {files} files, {passed} past eagerlint's prefilter, {units} units. "
        f"One untimed warm-up, then the median of {n} fresh processes per row "
        f"({max(1, n // 2)} for the two libcst-parse floors; Fixit: 1, no warm-up)."
    )
    lines = [
        facts,
        "",
        "| run | wall s | ratio to ruff cold | peak RSS MB | findings |",
        "|---|---|---|---|---|",
    ]
    lines.extend(
        f"| {r.label} | {r.seconds:.2f} | {r.seconds / base:.2f} | {r.rss_mb:.0f} | {r.findings} |"
        for r in rows
    )
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
