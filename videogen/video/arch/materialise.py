"""Building modules on the meta device and materialising them with random weights.

Why not ``torch.device("meta")`` + ``module.to_empty(device)``: ``to_empty`` hands back
uninitialised memory for *buffers* too, and several models compute non-persistent buffers
in ``__init__`` that no checkpoint carries (Wan's RoPE tables, CogVideoX's sin-cos position
embedding, CLIP's ``position_ids``, Llama's ``inv_freq``). A real ``from_pretrained`` keeps
those as constructed. So, like diffusers' own loader, we put only *parameters* on meta
(buffers are computed for real on the CPU, they are small), then allocate each parameter
on the target device directly in its final dtype (no full-precision copy first), move the
buffers there unchanged, and fill the parameters with random values.

Random values stay sane (finite, variance-preserving) so a forward pass is meaningful for
memory and speed: torch layers use their own ``reset_parameters``; transformers models
their own ``initialize_weights``; anything else falls back to ones for 1-d/0-d scales,
zeros for biases and N(0, 0.02) for tables (e.g. ``scale_shift_table``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn


@contextlib.contextmanager
def default_dtype(dtype: torch.dtype | None) -> Iterator[None]:
    """Construct under ``dtype`` as the default, as ``from_pretrained(torch_dtype=...)`` does."""
    if dtype is None or not dtype.is_floating_point:
        yield
        return
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


@contextlib.contextmanager
def on_meta(include_buffers: bool) -> Iterator[None]:
    """Parameters (and, if asked, buffers) created inside go to the meta device.

    ``include_buffers=False`` keeps computed buffers real: needed before materialising.
    ``include_buffers=True`` allocates nothing at all: enough for counting parameters.
    """
    from accelerate import init_empty_weights

    with init_empty_weights(include_buffers=include_buffers):
        yield


def retie(module: nn.Module) -> None:
    """Re-tie transformers' shared weights (T5's ``shared`` / ``encoder.embed_tokens``).

    accelerate's meta context re-creates every parameter assigned inside it, so a tie made
    during construction is lost; tying again outside it, still on meta, restores it before
    anything is allocated twice.
    """
    for root in _transformers_roots(module):
        root.tie_weights()


def keep_fp32_names(module: nn.Module, dtype: torch.dtype | None) -> set[str]:
    """Module-name segments whose parameters stay float32 under ``dtype``, as each library's loader does."""
    if dtype is None or dtype == torch.float32:
        return set()
    names = set(getattr(module, "_keep_in_fp32_modules", None) or [])
    if _is_transformers(module):
        # transformers upcasts ``_keep_in_fp32_modules`` only for fp16; the strict list for fp16 and bf16.
        if dtype != torch.float16:
            names = set()
        if dtype in (torch.float16, torch.bfloat16):
            names |= set(getattr(module, "_keep_in_fp32_modules_strict", None) or [])
    return names


def _is_transformers(module: nn.Module) -> bool:
    return type(module).__module__.startswith("transformers.")


def _param_dtype(name: str, param: torch.Tensor, dtype: torch.dtype | None, keep_fp32: set[str]) -> torch.dtype:
    if dtype is None or not param.is_floating_point():
        return param.dtype
    if keep_fp32 and keep_fp32.intersection(name.split(".")):
        return torch.float32
    return dtype


def materialise(
    module: nn.Module, device: torch.device | str, dtype: torch.dtype | None, seed: int | None = 0
) -> nn.Module:
    """Allocate every meta parameter on ``device`` (in ``dtype``), move buffers there, fill with random weights."""
    device = torch.device(device)
    keep_fp32 = keep_fp32_names(module, dtype)
    # old tensor id -> (old, new): tied parameters stay tied; holding the old one keeps its id unique
    replaced: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    for mod_name, mod in module.named_modules():
        for name, param in list(mod._parameters.items()):
            if param is None:
                continue
            if id(param) not in replaced:
                full_name = f"{mod_name}.{name}" if mod_name else name
                data = torch.empty(param.shape, dtype=_param_dtype(full_name, param, dtype, keep_fp32), device=device)
                replaced[id(param)] = (param, nn.Parameter(data, requires_grad=param.requires_grad))
            mod._parameters[name] = replaced[id(param)][1]
        for name, buf in list(mod._buffers.items()):
            if buf is None:
                continue
            if buf.is_meta:
                raise RuntimeError(f"buffer {mod_name}.{name} is on the meta device: build with include_buffers=False")
            if id(buf) not in replaced:
                replaced[id(buf)] = (buf, buf.to(device))
            mod._buffers[name] = replaced[id(buf)][1]
    replaced.clear()
    # Seeded so a preset always gets the same weights, without disturbing the caller's RNG streams.
    forked = [device] if device.type not in ("cpu", "meta") else []
    with torch.random.fork_rng(devices=forked, device_type=device.type if forked else "cuda", enabled=seed is not None):
        if seed is not None:
            torch.manual_seed(seed)
        randomise(module)
    return module.eval()


@torch.no_grad()
def randomise(module: nn.Module) -> None:
    """Fill every parameter with sane random values (see the module docstring)."""
    covered: set[int] = set()
    for sub in _transformers_roots(module):
        _clear_hf_initialized(sub)
        sub.initialize_weights()
        covered.update(id(p) for p in sub.parameters())
    for mod in module.modules():
        reset = getattr(mod, "reset_parameters", None)
        own = [p for p in mod.parameters(recurse=False) if id(p) not in covered]
        if callable(reset) and own:
            reset()
            covered.update(id(p) for p in mod.parameters(recurse=False))
    for name, param in module.named_parameters():
        if id(param) in covered:
            continue
        covered.add(id(param))
        leaf = name.rsplit(".", 1)[-1]
        if leaf.endswith("bias"):
            param.zero_()
        elif param.ndim <= 1:
            param.fill_(1.0)  # norm scales, scalar multipliers
        else:
            param.normal_(0.0, 0.02)


def _transformers_roots(module: nn.Module) -> list[nn.Module]:
    """Outermost transformers models inside ``module`` (their ``initialize_weights`` handles sub-models)."""
    from transformers import PreTrainedModel

    roots: list[nn.Module] = []

    def visit(mod: nn.Module) -> None:
        if isinstance(mod, PreTrainedModel):
            roots.append(mod)
            return
        for child in mod.children():
            visit(child)

    visit(module)
    return roots


def _clear_hf_initialized(module: nn.Module) -> None:
    # Construction on meta ran transformers' init already and flagged everything as done.
    for mod in module.modules():
        mod.__dict__.pop("_is_hf_initialized", None)
    for tensor in list(module.parameters()) + list(module.buffers()):
        tensor.__dict__.pop("_is_hf_initialized", None)
