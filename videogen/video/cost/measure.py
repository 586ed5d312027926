"""FLOPs and peak live bytes of one call on the meta device.

On the meta device an op allocates nothing and computes nothing, but every op still runs
with its real shapes, so ``torch.utils.flop_counter.FlopCounterMode`` counts a real-size
forward in about a second whatever the input size, and a dispatch mode that watches which
tensors are alive sees the activation memory the call would need.

Two things differ from a GPU run and are corrected here:

- Attention. On the meta (and CPU) device ``scaled_dot_product_attention`` falls back to
  the math path, which materialises the N x N score matrix. GPUs run a fused kernel (flash,
  memory-efficient, cuDNN) whose memory is linear in N. ``_FusedAttention`` reroutes every
  SDPA call to ``aten._scaled_dot_product_efficient_attention``, whose meta kernel returns
  only the output; its FLOP formula (4·B·H·Nq·Nk·D) is the same count the math path gives.
- Memory. ``_LiveBytes`` counts the bytes of every storage an op creates, from the op's
  return until the last tensor viewing it dies (weakref finalisers; torch keeps one Python
  object per tensor while C++ holds it). Parameters, buffers and the inputs are excluded:
  they are the weights and latents, counted separately. The caching allocator's rounding
  and fragmentation are not modelled (a margin is added in ``memory``).

The modes are thread-local (torch keeps mode stacks per thread), so measuring in one
thread does not disturb generation in another.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import FlopCounterMode

_SDPA_ARGS = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa")


@dataclass(frozen=True)
class Measurement:
    flops: int
    peak_bytes: int
    # Every SDPA call as (2·B·H·(Dqk + Dv), Nq, Nk): its FLOPs are the product. None when some
    # attention ran outside the fused path (then its FLOPs are only inside ``flops``).
    attention: tuple[tuple[int, int, int], ...] | None = None


class _FusedAttention(TorchFunctionMode):
    """Run SDPA as the memory-efficient fused kernel (see the module docstring), noting each call's shape."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[int, int, int]] | None = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is not F.scaled_dot_product_attention:
            return func(*args, **kwargs)
        call = dict(zip(_SDPA_ARGS, args, strict=False))  # the positional ones; the rest come as kwargs
        call.update(kwargs)
        query, key, value = call["query"], call["key"], call["value"]
        if query.ndim != 4:
            self.calls = None
            return func(*args, **kwargs)
        if self.calls is not None:
            b, h, nq, dqk = query.shape
            self.calls.append((2 * b * h * (dqk + value.shape[-1]), nq, key.shape[-2]))
        if call.get("enable_gqa") and key.shape[1] != query.shape[1]:
            repeat = query.shape[1] // key.shape[1]
            key, value = key.repeat_interleave(repeat, 1), value.repeat_interleave(repeat, 1)
        # The mask changes neither the FLOPs nor the kernel's memory (the mask tensor itself was
        # made by the model and is already counted), and the meta kernel wants a float bias.
        with torch.no_grad():
            return torch.ops.aten._scaled_dot_product_efficient_attention(
                query, key, value, None, False, 0.0, bool(call.get("is_causal", False)), scale=call.get("scale")
            )[0]


def _storage_key(tensor: torch.Tensor) -> tuple[int, int] | None:
    try:
        storage = tensor.untyped_storage()
    except (RuntimeError, NotImplementedError):  # tensors without storage (e.g. nested/sparse)
        return None
    return storage._cdata, storage.nbytes()


class _LiveBytes(TorchDispatchMode):
    """Peak of the bytes held by storages the ops created (see the module docstring)."""

    def __init__(self, exclude: Iterable[torch.Tensor]) -> None:
        super().__init__()
        self._excluded = {key[0] for key in map(_storage_key, exclude) if key is not None}
        self._refs: dict[int, list[int]] = {}  # storage -> [live tensors, bytes]
        self.live = 0
        self.peak = 0

    def _track(self, tensor: torch.Tensor) -> None:
        key = _storage_key(tensor)
        if key is None or key[0] in self._excluded:
            return
        entry = self._refs.get(key[0])
        if entry is None:
            entry = self._refs[key[0]] = [0, key[1]]
            self.live += key[1]
            self.peak = max(self.peak, self.live)
        entry[0] += 1
        weakref.finalize(tensor, self._release, key[0])

    def _release(self, storage: int) -> None:
        entry = self._refs.get(storage)
        if entry is None:
            return
        entry[0] -= 1
        if entry[0] == 0:
            self.live -= entry[1]
            del self._refs[storage]

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for value in tree_flatten(out)[0]:
            if isinstance(value, torch.Tensor):
                self._track(value)
        return out


def measure(call: Callable[[], object], *, exclude: Iterable[torch.Tensor] = ()) -> Measurement:
    """FLOPs and peak activation bytes of ``call()``, which must run on meta tensors.

    ``exclude``: tensors that exist before the call (weights, inputs); their storages and
    views of them are not activations.
    """
    live = _LiveBytes(exclude)
    attention = _FusedAttention()
    with torch.no_grad(), attention, FlopCounterMode(display=False) as flops, live:
        result = call()
    del result
    calls = tuple(attention.calls) if attention.calls is not None else None
    return Measurement(flops=int(flops.get_total_flops()), peak_bytes=int(live.peak), attention=calls)


def module_tensors(*modules: torch.nn.Module) -> list[torch.Tensor]:
    """Parameters and buffers of ``modules``: what ``measure`` must not count as activations."""
    return [t for m in modules for t in (*m.parameters(), *m.buffers())]
