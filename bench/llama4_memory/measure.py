"""One host-memory measurement of a real vLLM 0.23.0 Llama4 ``load_weights`` on CPU.

Run it in a fresh process of the harness venv (see setup.sh): the numbers are
process-wide, so anything loaded earlier in the same process would blur them.

    python measure.py --cls causal --checkpoint DIR --loader runai --variant stock
    python measure.py --cls conditional --checkpoint DIR --loader runai --variant /tmp/handfix

``--variant DIR`` replaces ``vllm.model_executor.models.llama4`` and/or
``.mllama4`` with ``DIR/llama4.py`` / ``DIR/mllama4.py`` (full module files
derived from 0.23.0). Prints one JSON line on stdout.

Memory figures (MiB):
* ``rss_anon_before``: RssAnon just before ``load_weights``. Parameters are
  allocated but mostly untouched, so most of their pages are not yet resident.
* ``rss_anon_peak``: the highest RssAnon seen by a sampling thread during the load.
  RssAnon excludes file-backed pages, so the safetensors loader's mmap of the
  checkpoint does not count, only private copies do.
* ``transient``: rss_anon_peak - rss_anon_before - parameter bytes: what the load
  held on top of the model it filled.
* ``malloc``: by default glibc's mmap threshold is pinned (see
  pin_malloc_mmap_threshold) so freed tensors leave RssAnon; ``--malloc default``
  keeps glibc's adaptive threshold.
* ``hwm_transient``: the same from the kernel's VmHWM (reset via clear_refs), which
  cannot miss a short spike but counts file-backed pages too (so for the
  safetensors loader it includes the mmapped checkpoint pages touched).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import socket
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

MIB = 1 << 20
MODELS_PKG = "vllm.model_executor.models"
VARIANT_MODULES = ("llama4", "mllama4")
SAMPLE_INTERVAL_S = 0.001


class VariantFinder(importlib.abc.MetaPathFinder):
    """Serve chosen ``vllm.model_executor.models.*`` modules from other files.

    First on sys.meta_path, so every import path (the registry's lazy
    ``import_module``, ``from .llama4 import ...`` inside mllama4) gets the
    variant under the module's real name, and relative imports resolve against
    the real package.
    """

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        file = self.files.get(fullname)
        return None if file is None else importlib.util.spec_from_file_location(fullname, file)


def pin_malloc_mmap_threshold() -> bool:
    """Make every glibc allocation >= 128 KiB its own mmap, returned to the OS on free.

    By default glibc raises its mmap threshold (up to 32 MiB) after freeing a large
    block, so later freed tensors stay in the heap: RssAnon then includes 100-250 MiB
    of dead memory at a 2 GiB checkpoint, varying between identical runs. Setting the
    threshold explicitly turns that adaptation off, so RssAnon tracks live tensors,
    which is what load_weights is judged on.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_mmap_threshold = -3  # from malloc.h
    return bool(libc.mallopt(m_mmap_threshold, 128 * 1024))


def install_variant(variant: str) -> list[str]:
    if variant == "stock":
        return []
    root = Path(variant).resolve()
    files = {f"{MODELS_PKG}.{m}": root / f"{m}.py" for m in VARIANT_MODULES if (root / f"{m}.py").is_file()}
    if not files:
        sys.exit(f"variant dir {root} has neither llama4.py nor mllama4.py")
    sys.meta_path.insert(0, VariantFinder(files))
    return sorted(str(f) for f in files.values())


def stub_llama4_fast_image_processor() -> None:
    # mllama4 imports two resolution helpers from this module, which imports
    # torchvision; no torchvision works with torch 2.13.0+cpu here. Neither helper
    # runs during construction or weight loading.
    name = "transformers.models.llama4.image_processing_llama4_fast"
    stub = types.ModuleType(name)

    def unused(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("stubbed by the eagerlint memory harness")

    stub.find_supported_resolutions = unused  # type: ignore[attr-defined]
    stub.get_best_fit = unused  # type: ignore[attr-defined]
    sys.modules[name] = stub


def prepare_vllm() -> None:
    """Make vLLM run on CPU, in this process only."""
    import vllm.platforms as platforms
    from vllm.platforms.cpu import CpuPlatform

    platforms._current_platform = CpuPlatform()  # before any vLLM module caches the platform

    import vllm.model_executor.models.registry as registry

    def run_here(fn: Callable[[], Any]) -> Any:
        return fn()

    # The registry inspects model classes in a `python -m` subprocess, which
    # would see neither the stub above nor the variant finder.
    registry._run_in_subprocess = run_here


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_model(checkpoint: str) -> tuple[Any, Any]:
    """The real vLLM model class for the checkpoint's architecture, and its VllmConfig."""
    import torch
    from vllm.config import DeviceConfig, ModelConfig, VllmConfig, set_current_vllm_config
    from vllm.distributed import init_distributed_environment, initialize_model_parallel
    from vllm.model_executor.model_loader.utils import initialize_model
    from vllm.utils.torch_utils import set_default_torch_dtype

    cfg = VllmConfig(
        model_config=ModelConfig(model=checkpoint, skip_tokenizer_init=True, dtype="bfloat16"),
        device_config=DeviceConfig(device="cpu"),
    )
    with set_current_vllm_config(cfg):
        init_distributed_environment(
            world_size=1,
            rank=0,
            local_rank=0,
            distributed_init_method=f"tcp://127.0.0.1:{free_port()}",
            backend="gloo",
        )
        initialize_model_parallel(1, 1)
        # As vLLM's own loader does: parameters created in the model dtype on CPU.
        with set_default_torch_dtype(cfg.model_config.dtype), torch.device("cpu"):
            return initialize_model(vllm_config=cfg), cfg


def weights_iterator(loader: str, checkpoint: str) -> Iterator[tuple[str, Any]]:
    from vllm.model_executor.model_loader import weight_utils

    files = sorted(str(p) for p in Path(checkpoint).glob("*.safetensors"))
    make = (
        weight_utils.runai_safetensors_weights_iterator
        if loader == "runai"
        else weight_utils.safetensors_weights_iterator
    )
    it: Iterator[tuple[str, Any]] = make(files, False)
    return it


def status_kib(*fields: str) -> dict[str, int]:
    out: dict[str, int] = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in fields:
                out[key] = int(rest.split()[0])
    return out


class PeakSampler:
    """Background thread recording the highest RssAnon while the load runs."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, status_kib("RssAnon")["RssAnon"])
            self.samples += 1
            time.sleep(SAMPLE_INTERVAL_S)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, status_kib("RssAnon")["RssAnon"])


def reset_hwm() -> bool:
    """Reset VmHWM to the current RSS ("5" in clear_refs, Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def state_hash(model: Any) -> str:
    """sha256 over the sorted state dict: names, dtypes, shapes and raw bytes."""
    import torch

    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        t = t.detach().contiguous().cpu()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}\n".encode())
        h.update(t.view(-1).view(torch.uint8).numpy().data)  # raw bytes, any dtype (numpy has no bf16)
    return h.hexdigest()


def mib(kib: int) -> float:
    return round(kib / 1024, 1)


def measure(cls: str, checkpoint: str, loader: str, variant: str, malloc: str) -> dict[str, Any]:
    # Before torch and vLLM import, so every large buffer they allocate follows it.
    malloc_pinned = malloc == "pinned" and pin_malloc_mmap_threshold()
    os.environ.setdefault("VLLM_CACHE_ROOT", tempfile.mkdtemp(prefix="eagerlint-vllm-cache-"))
    variant_files = install_variant(variant)
    stub_llama4_fast_image_processor()
    prepare_vllm()
    model, cfg = build_model(checkpoint)
    arch = type(model).__name__
    want = {"causal": "Llama4ForCausalLM", "conditional": "Llama4ForConditionalGeneration"}[cls]
    if arch != want:
        sys.exit(f"checkpoint built {arch}, expected {want} for --cls {cls}")
    module_file = sys.modules[type(model).__module__].__file__
    param_bytes = sum(p.numel() * p.element_size() for p in model.parameters())

    import gc

    gc.collect()
    weights = weights_iterator(loader, checkpoint)
    before = status_kib("RssAnon", "VmRSS")
    hwm_ok = reset_hwm()
    t0 = time.perf_counter()
    with PeakSampler() as sampler:
        loaded = model.load_weights(weights)
    seconds = time.perf_counter() - t0
    hwm = status_kib("VmHWM")["VmHWM"]
    del weights
    gc.collect()
    after = status_kib("RssAnon")["RssAnon"]
    missing = sorted({n for n, _ in model.named_parameters()} - set(loaded or ()))
    import torch
    import transformers
    import vllm

    return {
        "cls": cls,
        "arch": arch,
        "variant": variant,
        "variant_files": variant_files,
        "module_file": module_file,
        "loader": loader,
        "runai_memory_limit": os.environ.get("RUNAI_STREAMER_MEMORY_LIMIT"),
        "malloc": "pinned mmap threshold 128 KiB" if malloc_pinned else "glibc default",
        "checkpoint": checkpoint,
        "model_dtype": str(cfg.model_config.dtype),
        "param_mib": round(param_bytes / MIB, 1),
        "rss_anon_before_mib": mib(before["RssAnon"]),
        "rss_anon_peak_mib": mib(sampler.peak_kib),
        "rss_anon_after_mib": mib(after),
        # Cross-check that does not depend on how many parameter pages were already
        # resident before the load: everything the load held beyond its end state.
        "peak_minus_after_mib": mib(sampler.peak_kib - after),
        "transient_mib": round((sampler.peak_kib * 1024 - before["RssAnon"] * 1024 - param_bytes) / MIB, 1),
        "hwm_transient_mib": (
            round((hwm * 1024 - before["VmRSS"] * 1024 - param_bytes) / MIB, 1) if hwm_ok else None
        ),
        "samples": sampler.samples,
        "load_seconds": round(seconds, 2),
        "loaded_params": len(loaded or ()),
        "missing_params": missing,
        "state_sha256": state_hash(model),
        "versions": {
            "vllm": vllm.__version__,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cls", choices=("causal", "conditional"), required=True)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--loader", choices=("runai", "safetensors"), required=True)
    ap.add_argument("--variant", default="stock", help="'stock' or a dir with llama4.py and/or mllama4.py")
    ap.add_argument(
        "--malloc",
        choices=("pinned", "default"),
        default="pinned",
        help="pin glibc's mmap threshold (default) or leave glibc's adaptive one",
    )
    args = ap.parse_args()
    # vLLM logs to stdout; keep stdout for the one JSON line the driver parses.
    with contextlib.redirect_stdout(sys.stderr):
        result = measure(args.cls, args.checkpoint, args.loader, args.variant, args.malloc)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
