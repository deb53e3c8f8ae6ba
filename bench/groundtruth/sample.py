"""A seeded random sample of a release's files to label blind.

    python bench/groundtruth/sample.py vllm 0.33.0 --size 100 > bench/groundtruth/vllm-0.33.0.sample

Labelling every function a stream reaches in a whole vLLM or SGLang release is more than
one sitting; a simple random sample of the files that define a loader or a producer is
not.  The frame is every `.py` file of the package whose text holds `def load_weights`,
`def _load_weights` or `weights_iterator`; the sample is `random.Random(seed).sample` of
the frame in path order.  Recall and precision on a sampled tree count only sites and
findings in the sampled files (`score.py`), so the figures say "on files of this kind",
not "on the whole tree".
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import vllm_source  # noqa: E402

FRAME = re.compile(rb"def _?load_weights\b|weights_iterator")
SEED = 20261203


def frame(root: Path, project: str) -> list[str]:
    package = root / vllm_source.package(project)
    return sorted(
        p.relative_to(root).as_posix() for p in package.rglob("*.py") if FRAME.search(p.read_bytes())
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("project")
    ap.add_argument("version")
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    files = frame(vllm_source.source(args.version, args.project), args.project)
    chosen = sorted(random.Random(args.seed).sample(files, min(args.size, len(files))))
    print(f"# {args.project} {args.version}: {len(chosen)} of {len(files)} files, seed {args.seed}")
    print("\n".join(chosen))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
