"""ROCm process environment, applied before torch is imported.

HIP's allocator and MIOpen read their settings once, when torch initialises the
device, so they must be in ``os.environ`` before ``import torch``. The same
mapping goes into each Ray worker's ``runtime_env`` so it holds in replicas too.

Device visibility (``HIP_VISIBLE_DEVICES`` / ``ROCR_VISIBLE_DEVICES``) is Ray's
job and is deliberately never touched here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, MutableMapping

from videogen.paths import cache_root

# Ray assigns GPUs by setting these itself; setting them here would fight it.
RAY_OWNED_VARS = frozenset({"HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES"})


def default_rocm_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ROCm settings VideoGen wants, before operator overrides."""
    environ = os.environ if environ is None else environ
    miopen_dir = os.path.join(cache_root(environ), "miopen")
    return {
        # Fewer OOMs from fragmentation with video-sized activations.
        "PYTORCH_HIP_ALLOC_CONF": "expandable_segments:True,garbage_collection_threshold:0.8",
        # FAST find mode: no exhaustive kernel search on the first conv (minutes on a cold cache).
        "MIOPEN_FIND_MODE": "FAST",
        # A writable, persistent place for MIOpen's kernel db and compiled kernels.
        "MIOPEN_USER_DB_PATH": miopen_dir,
        "MIOPEN_CUSTOM_CACHE_DIR": miopen_dir,
        # Flash/memory-efficient SDPA kernels on RDNA3/CDNA via AOTriton.
        "TORCH_ROCM_AOTRITON_ENABLE_EXPERIMENTAL": "1",
        # Kernel arguments in device memory: lower launch latency on MI200/MI300.
        "HIP_FORCE_DEV_KERNARG": "1",
    }


def rocm_env_vars(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The effective ROCm mapping: defaults, with any value the operator set winning.

    This is what ``apply_rocm_env`` puts in the process and what the Serve
    builder puts in each worker's ``runtime_env.env_vars``.
    """
    environ = os.environ if environ is None else environ
    merged = default_rocm_env(environ)
    for key in merged:
        if environ.get(key):
            merged[key] = environ[key]
    assert not RAY_OWNED_VARS & merged.keys()
    return merged


def apply_rocm_env(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Put the ROCm mapping into the environment; warn if torch got there first."""
    environ = os.environ if environ is None else environ
    values = rocm_env_vars(environ)
    for key, value in values.items():
        environ.setdefault(key, value)
    if environ is os.environ and "torch" in sys.modules:
        # Too late for the allocator; say so rather than pretend.
        print("videogen: warning: torch was imported before the ROCm environment was applied", file=sys.stderr)
    return values


def rocm_env_snapshot(environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """What this process actually has, for runtime diagnostics."""
    environ = os.environ if environ is None else environ
    keys = sorted(set(default_rocm_env(environ)) | RAY_OWNED_VARS)
    return {key: environ.get(key) for key in keys}
