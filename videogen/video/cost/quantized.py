"""Bytes of a denoiser in a quantized weights mode (``videogen.video.weights``), counted on the meta device.

``stored_sizes`` gives each parameter's and buffer's bytes as ``videogen.video.quantize`` leaves them:

- ``fp8_storage``: diffusers' own ``enable_layerwise_casting`` runs on a copy of the meta module, so what it
  skips (norms, embeddings, ``proj_in``/``proj_out``, the model's float32 and class skip patterns) is exactly
  what stays at the dtype; every tensor it casts is one byte per element.
- ``int8`` / ``fp8`` (torchao weight-only): each ``nn.Linear`` weight outside the model's float32 modules
  (``weights.torchao_keeps``, diffusers' rule) becomes 1 byte per element plus a float32 scale per output row
  (torchao 0.18's ``Int8Tensor`` also keeps an int8 zero point per row; ``Float8Tensor`` does not).

``gguf_bytes`` reads a GGUF file's header: quantized tensors stay in the file's blocks; float32/float16 tensors
are loaded at the dtype (float32 inside the model's float32 modules).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from videogen.video.weights import torchao_keeps

_FLOAT32_BYTES = 4
# Bytes per output row beside the 1-byte weights: the float32 scale (and int8's int8 zero point).
_ROW_BYTES = {"int8": _FLOAT32_BYTES + 1, "fp8": _FLOAT32_BYTES}


def stored_sizes(module: nn.Module, dtype: torch.dtype, weights: str) -> dict[int, int]:
    """``id(tensor)`` -> bytes of each parameter or buffer of ``module`` (a meta module in ``dtype``) that the
    ``weights`` mode stores differently; every other tensor is held as without it."""
    sizes: dict[int, int] = {}
    if weights == "fp8_storage":
        tensors = [*module.named_parameters(remove_duplicate=False), *module.named_buffers(remove_duplicate=False)]
        cast = copy.deepcopy(module)  # the meta modules are shared (``meta_models``): never hook the original
        cast.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=dtype)
        copies = [*cast.named_parameters(remove_duplicate=False), *cast.named_buffers(remove_duplicate=False)]
        for (name, original), (copy_name, stored) in zip(tensors, copies, strict=True):
            assert name == copy_name, (name, copy_name)
            if stored.dtype == torch.float8_e4m3fn:
                sizes[id(original)] = stored.numel()
    elif weights in _ROW_BYTES:
        keep_modules = list(getattr(module, "_keep_in_fp32_modules", None) or [])
        for fqn, layer in module.named_modules():
            if isinstance(layer, nn.Linear) and not torchao_keeps(f"{fqn}.weight", keep_modules):
                rows, columns = layer.weight.shape
                sizes[id(layer.weight)] = rows * columns + rows * _ROW_BYTES[weights]
    return sizes


def gguf_bytes(path: str, module: nn.Module, dtype: torch.dtype) -> int:
    """Bytes of a denoiser read from the GGUF file at ``path`` (diffusers' loader: ``load_gguf_checkpoint``)."""
    import gguf

    plain = {gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16}
    keep_modules = list(getattr(module, "_keep_in_fp32_modules", None) or [])
    total = 0
    for tensor in gguf.GGUFReader(path).tensors:
        elements = int(tensor.n_elements)
        kept = bool(set(keep_modules).intersection(tensor.name.split(".")))  # the GGUF quantizer's rule
        if tensor.tensor_type not in plain and not kept:
            total += int(tensor.n_bytes)  # stays in its quantized blocks
        elif kept:
            total += elements * _FLOAT32_BYTES  # diffusers dequantizes the model's float32 modules
        else:
            total += elements * dtype.itemsize
    buffers = sum(b.numel() * b.element_size() for b in module.buffers())
    return total + buffers
