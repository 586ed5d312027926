"""Empty tensors on the meta device, in a module's dtype: the inputs every cost probe (shared and per family) builds.

A leaf module: the families' probes import it, and ``probes`` imports the families."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

_META = torch.device("meta")


def module_dtype(module: nn.Module) -> torch.dtype:
    """The dtype a module computes in: its first floating-point parameter's (float32 for one with none)."""
    return next((p.dtype for p in module.parameters() if p.is_floating_point()), torch.float32)


def meta_tensors(module: nn.Module) -> Callable[..., torch.Tensor]:
    """``t(*shape, dtype=...)``: empty meta tensors, in ``module``'s dtype unless told (the families' probes)."""
    dt = module_dtype(module)

    def t(*shape: int, dtype: torch.dtype = dt) -> torch.Tensor:
        return torch.empty(*shape, device=_META, dtype=dtype)

    return t
