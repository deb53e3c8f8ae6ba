"""`make fuzz`: many seeds, a summary, and one minimised reproducer per distinct difference.

python -m tests.fuzz.run [--seeds 20000] [--start 0] [--no-minimise]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict

from tests.fuzz import generator
from tests.fuzz.harness import Outcome, Summary, minimise, reproducer, run_seeds, shape_of


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.run", description=__doc__)
    parser.add_argument("--seeds", type=int, default=20_000, help="how many seeds (default 20000)")
    parser.add_argument("--start", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--no-minimise", action="store_true", help="print each difference as generated")
    args = parser.parse_args(argv)

    started = time.perf_counter()

    def progress(seed: int) -> None:
        done = seed - args.start + 1
        if done % 2000 == 0:
            print(f"  {done} seeds, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)

    summary = run_seeds(range(args.start, args.start + args.seeds), progress)
    elapsed = time.perf_counter() - started
    print_summary(summary, args.seeds, args.start, elapsed)
    print_reproducers(summary.differences, minimised=not args.no_minimise)
    for outcome in summary.errors:
        print(f"\n== error, seed {outcome.program.seed}: {outcome.error}\n{outcome.program.source}")
    unexpected = [d for d in summary.differences if shape_of(d.program) not in generator.BROKEN_TODAY]
    return 1 if summary.errors or unexpected else 0


def print_summary(summary: Summary, seeds: int, start: int, elapsed: float) -> None:
    print(f"seeds {start}..{start + seeds - 1}: {elapsed:.1f} s")
    print(f"programs generated:             {summary.generated}")
    print(f"programs with a safe fix:       {summary.safe_fixed}")
    print(f"  of them, import line edited:  {summary.imports_edited}")
    print(f"programs without (skipped):     {summary.skipped}")
    print(f"errors (eagerlint or compile):  {len(summary.errors)}")
    print(f"behaviour differences:          {len(summary.differences)}")
    print()
    print("shape  generated  safe-fixed  differences  what")
    for shape in ["-", *generator.SHAPES]:
        what = generator.SHAPES.get(shape, "no known shape: must stay 0")
        if shape in generator.SHAPES and shape not in generator.BROKEN_TODAY:
            what += " (fixed: must stay 0)"
        made = summary.generated_by_shape[shape]
        fixed, differing = summary.fixed_by_shape[shape], summary.differences_by_shape[shape]
        print(f"{shape:>5}  {made:>9}  {fixed:>10}  {differing:>11}  {what}")


def print_reproducers(differences: list[Outcome], minimised: bool) -> None:
    if not minimised:
        for outcome in differences:
            assert outcome.difference is not None
            print("\n== " + reproducer(outcome.program, outcome.difference))
        return
    groups: dict[str, list[int]] = defaultdict(list)
    report: dict[str, tuple[str, str]] = {}
    started = time.perf_counter()
    for outcome in differences:
        assert outcome.difference is not None
        small, difference = minimise(outcome.program, outcome.difference)
        groups[small.source].append(outcome.program.seed)
        if small.source not in report:
            report[small.source] = (shape_of(small), reproducer(small, difference, outcome.program.seed))
    print(
        f"\n{len(groups)} distinct minimised reproducers for {len(differences)} differences"
        f" (minimised in {time.perf_counter() - started:.0f} s):"
    )
    for source, seeds in sorted(groups.items(), key=lambda kv: (report[kv[0]][0], -len(kv[1]))):
        shown = ", ".join(map(str, seeds[:8])) + (", ..." if len(seeds) > 8 else "")
        print(f"\n== {len(seeds)} program(s), seeds {shown}\n{report[source][1]}")


if __name__ == "__main__":
    sys.exit(main())
