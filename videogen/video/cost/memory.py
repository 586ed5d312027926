"""Weight bytes and peak device memory per placement (and per weights mode of the denoisers: ``cost.quantized``).

A request runs in stages, one module at a time: text encoding, (i2v) image encoding and
VAE encoding, denoising, VAE decoding. Each stage's device peak is the weights resident on
the device during it plus that stage's activation peak (``calibrate``). The request's peak
is the largest stage. What is resident depends on the placement, as diffusers and
accelerate implement them:

- ``gpu``: every component, all the time.
- ``model_cpu_offload``: only the running component (accelerate moves each model in when its
  forward starts and the previous one out).
- ``group_offload`` (block level, one block per group, CUDA/HIP streams, VAE kept on the
  device; see ``videogen.video.placement``): the VAE, the running component's parameters
  outside its block lists, and two of its largest blocks (the running one and the one being
  prefetched). A transformers text encoder has no block list among its direct children, so
  diffusers offloads it as one group: all of it is resident while it runs.
- ``sequential_offload``: one leaf module at a time; the largest leaf (often an embedding table).
- ``cpu``: nothing on the device.

Approximations, stated: the activation peaks are live-tensor peaks measured on the meta
device (``measure``), not allocator peaks; ``required_bytes`` adds a fixed overhead for the
runtime's own allocations (context, cuBLAS/hipBLAS workspaces, not seen by torch's
allocator statistics) and a fraction for allocator rounding and fragmentation. Latents,
prompt embeddings and scheduler state are a few MB and are covered by the same margin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from videogen.video.arch.materialise import keep_fp32_names
from videogen.video.arch.preset import ArchPreset
from videogen.video.cost.meta_models import component_key, meta_module
from videogen.video.cost.quantized import gguf_bytes, stored_sizes
from videogen.video.policy_overrides import PLACEMENTS, Placement

GIB = float(1 << 30)
# Device memory the runtime takes beyond torch's allocations (context, BLAS workspaces, kernels).
RUNTIME_OVERHEAD_BYTES = 1 << 30
# Allocator rounding and fragmentation on top of the live-tensor peak.
FRAGMENTATION = 0.10
_PREFETCHED_GROUPS = 2


@dataclass(frozen=True)
class Residency:
    """Bytes of one component on the device while it runs, per placement."""

    full: int
    group: int  # parameters outside its block lists + two largest blocks
    leaf: int  # its largest leaf module


def _tensor_bytes(
    module: nn.Module, dtype: torch.dtype, keep: set[str], prefix: str = "", sizes: Mapping[int, int] | None = None
) -> int:
    """Bytes of ``module``'s tensors in ``dtype``; ``sizes``: the tensors a quantized weights mode stores otherwise."""
    sizes = sizes or {}
    total = 0
    seen: set[int] = set()
    for name, p in module.named_parameters(prefix=prefix):
        if id(p) in seen:
            continue
        seen.add(id(p))
        if id(p) in sizes:
            total += sizes[id(p)]
            continue
        if p.is_floating_point():
            element = 4 if keep and keep.intersection(name.split(".")) else torch.empty((), dtype=dtype).element_size()
        else:
            element = p.element_size()
        total += p.numel() * element
    for b in module.buffers():
        total += sizes.get(id(b), b.numel() * b.element_size())
    return total


def weight_bytes(
    preset: ArchPreset, dtype: torch.dtype, weights: str = "bf16", gguf_file: str | None = None
) -> dict[str, int]:
    """Bytes of each component's parameters and buffers as the loader would hold them in ``dtype``
    (modules a library keeps in float32, e.g. Wan's norms and time embedding, at 4 bytes), the denoisers in the
    ``weights`` mode (``cost.quantized``)."""
    return {name: r.full for name, r in component_residency(preset, dtype, weights, gguf_file).items()}


def residency(module: nn.Module, dtype: torch.dtype, weights: str = "bf16", gguf_file: str | None = None) -> Residency:
    keep = keep_fp32_names(module, dtype)
    sizes = stored_sizes(module, dtype, weights)
    full = _tensor_bytes(module, dtype, keep, sizes=sizes)
    blocks = [
        _tensor_bytes(block, dtype, keep, sizes=sizes)
        for child in module.children()
        if isinstance(child, (nn.ModuleList, nn.Sequential))
        for block in child
    ]
    group = full - sum(blocks) + _PREFETCHED_GROUPS * max(blocks, default=0)
    leaves = [_tensor_bytes(m, dtype, keep, sizes=sizes) for m in module.modules() if not list(m.children())]
    res = Residency(full=full, group=min(full, group), leaf=max(leaves, default=0))
    if weights == "gguf" and gguf_file:
        # The file's names need not be the module's (an original-format checkpoint): its total, each part scaled.
        ratio = gguf_bytes(gguf_file, module, dtype) / max(full, 1)
        res = Residency(full=round(full * ratio), group=round(res.group * ratio), leaf=round(res.leaf * ratio))
    return res


def component_residency(
    preset: ArchPreset, dtype: torch.dtype, weights: str = "bf16", gguf_file: str | None = None
) -> dict[str, Residency]:
    """Each component's residency; the weights mode applies to the denoisers only (GGUF: the one denoiser)."""
    out = {}
    quantized = [preset.denoiser] if weights == "gguf" else preset.denoisers
    for comp in preset.components:
        mode = weights if comp.name in quantized else "bf16"
        key = (component_key(comp), str(dtype), mode, gguf_file if mode == "gguf" else None)
        if key not in _RESIDENCY:
            _RESIDENCY[key] = residency(meta_module(comp, dtype), dtype, mode, gguf_file)
        out[comp.name] = _RESIDENCY[key]
    return out


_RESIDENCY: dict[tuple[str, str, str, str | None], Residency] = {}


@dataclass(frozen=True)
class Stage:
    """One stage of a request: the components it runs and its activation peak."""

    name: str
    components: tuple[str, ...]
    activation_bytes: int


def stage_peak(stage: Stage, placement: Placement, res: dict[str, Residency], total_weights: int) -> int:
    """Device bytes during ``stage`` under ``placement`` (weights resident + activations)."""
    if placement == "cpu":
        return 0
    running = [res[name] for name in stage.components if name in res]
    if placement == "gpu":
        weights = total_weights
    elif placement == "model_cpu_offload":
        weights = sum(r.full for r in running)
    elif placement == "group_offload":
        vae = res["vae"].full if "vae" in res else 0
        weights = vae + sum(res[name].group for name in stage.components if name in res and name != "vae")
    elif placement == "sequential_offload":
        weights = max((r.leaf for r in running), default=0)
    else:
        raise ValueError(f"placement: unknown placement {placement!r}; allowed: {', '.join(PLACEMENTS)}")
    return weights + stage.activation_bytes


def required_bytes(peak: int) -> int:
    """What must be free on the device for a live-tensor peak of ``peak`` bytes."""
    return 0 if peak == 0 else int(peak * (1 + FRAGMENTATION)) + RUNTIME_OVERHEAD_BYTES
