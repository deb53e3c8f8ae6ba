"""Fetch a vLLM release's Python source from its PyPI wheel into a cache.

    python bench/vllm_source.py 0.23.0      # prints the folder holding vllm/

The wheel is downloaded once (`pip download --no-deps --only-binary :all:`)
into $EAGERLINT_CACHE/wheels (default ~/.cache/eagerlint) and only its `.py`
files are extracted, into $EAGERLINT_CACHE/src/<version>.  Nothing of vLLM is
ever written into this repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path


def cache_dir() -> Path:
    return Path(os.environ.get("EAGERLINT_CACHE", Path.home() / ".cache" / "eagerlint"))


def wheel(version: str) -> Path:
    wheels = cache_dir() / "wheels"
    found = sorted(wheels.glob(f"vllm-{version}-*.whl"))
    if found:
        return found[0]
    wheels.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary",
            ":all:",
            f"vllm=={version}",
            "-d",
            str(wheels),
        ],
        check=True,
    )
    found = sorted(wheels.glob(f"vllm-{version}-*.whl"))
    if not found:
        raise SystemExit(f"pip did not produce a vllm {version} wheel in {wheels}")
    return found[0]


def source(version: str) -> Path:
    """The folder that holds `vllm/` for `version`, extracted if needed."""
    target = cache_dir() / "src" / version
    stamp = target / ".complete"
    if stamp.exists():
        return target
    with zipfile.ZipFile(wheel(version)) as archive:
        for member in archive.namelist():
            if member.startswith("vllm/") and member.endswith(".py"):
                archive.extract(member, target)
    stamp.write_text("ok\n")
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: vllm_source.py VERSION")
    print(source(sys.argv[1]))
