"""eagerlint.probe on torch tensors; run in the harness venv by test_probe_vllm.py (no pytest there).

python tests/real_vllm/probe_torch_checks.py     # prints "ok" or fails on an assert
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from eagerlint.probe import probe

ROWS, COLS = 4, 6
NBYTES = ROWS * COLS * 2  # bf16


def weights(n: int = 6) -> Iterator[tuple[str, torch.Tensor]]:
    for i in range(n):
        yield f"w{i}", torch.full((ROWS, COLS), float(i), dtype=torch.bfloat16)


def peak_when_keeping(keep: Callable[[torch.Tensor], Any]) -> int:
    stream = probe(weights())
    kept = [keep(t) for _, t in stream]
    assert len(kept) == 6
    return stream.report().peak_count


def views_keep_their_storage() -> None:
    views: list[Callable[[torch.Tensor], Any]] = [
        lambda t: t[0],
        lambda t: t.t(),
        lambda t: t.narrow(0, 1, 2),
        lambda t: t.view(-1),
        lambda t: t.contiguous(),  # already contiguous: no copy
        lambda t: t.detach(),
        lambda t: t.view(torch.int16).numpy(),  # numpy has no bf16
    ]
    assert [peak_when_keeping(v) for v in views] == [6] * len(views)


def copies_do_not() -> None:
    copies: list[Callable[[torch.Tensor], Any]] = [
        lambda t: t.clone(),
        lambda t: t.t().contiguous(),  # not contiguous: a copy
        lambda t: t.to(torch.float32),
        lambda t: t.to(torch.bfloat16, copy=True),
        lambda t: torch.empty_like(t).copy_(t),
    ]
    assert [peak_when_keeping(c) for c in copies] == [2] * len(copies)


def each_tensor_is_a_private_copy() -> None:
    source = list(weights())
    stream = probe(iter(source))
    for (name, original), (same, copy) in zip(source, stream, strict=True):
        assert name == same and torch.equal(original, copy)
        assert copy.untyped_storage().data_ptr() != original.untyped_storage().data_ptr()
    assert stream.report().read_bytes == 6 * NBYTES


def reuse_overwrites_every_dtype() -> None:
    source = [
        ("bf16", torch.ones(3, dtype=torch.bfloat16)),
        ("f32", torch.ones(3)),
        ("i64", torch.ones(3, dtype=torch.int64)),
        ("fp8", torch.ones(3).to(torch.float8_e4m3fn)),
    ]
    stream = probe(iter(source), mode="reuse")
    kept = list(stream)
    assert all(torch.isnan(t.float()).all() for name, t in kept if name != "i64")
    assert (kept[2][1] == -1).all()
    report = stream.report(loaded=kept)
    assert report.corrupted == ("bf16", "f32", "fp8") and report.overwritten == 4


def a_kept_view_of_a_reused_buffer_loads_nan() -> None:
    params = {name: torch.zeros(ROWS, COLS, dtype=torch.bfloat16) for name, _ in weights()}
    pending: list[tuple[str, torch.Tensor]] = []
    stream = probe(weights(), mode="reuse")
    for name, t in stream:
        if name == "w2":
            pending.append((name, t[1:]))
            continue
        params[name].copy_(t)
    for name, view in pending:
        params[name][1:].copy_(view)
    report = stream.report(loaded=params.items())
    assert report.corrupted == ("w2",) and report.kept_at_end == ("w2",), report
    assert torch.equal(params["w3"], torch.full((ROWS, COLS), 3.0, dtype=torch.bfloat16))


def main() -> None:
    for check in (
        views_keep_their_storage,
        copies_do_not,
        each_tensor_is_a_private_copy,
        reuse_overwrites_every_dtype,
        a_kept_view_of_a_reused_buffer_loads_nan,
    ):
        check()
    print("ok")


if __name__ == "__main__":
    main()
