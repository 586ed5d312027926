"""Applying a ``VideoLoadPolicy`` to a loaded diffusers pipeline: placement and VAE memory savers.

Torch and diffusers are imported inside the functions that need them, so importing
this module does not initialise HIP before ``videogen.rocm_env`` has run.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

from videogen.video.policy import VideoLoadPolicy
from videogen.video.policy_overrides import GPU_PLACEMENTS, PLACEMENTS, Placement

logger = logging.getLogger(__name__)


class Rung(NamedTuple):
    """A placement rung: where the weights live, which VAE memory savers are on, and the denoisers' weights mode
    (``videogen.video.weights``; an 8-bit one on admission's quantized rungs) (the one rung type)."""

    placement: Placement
    vae_tiling: bool
    vae_slicing: bool
    weights: str = "bf16"

    @property
    def name(self) -> str:
        return (
            self.placement
            + ("+tiling" if self.vae_tiling else "")
            + ("+slicing" if self.vae_slicing else "")
            + (f"+{self.weights}" if self.weights != "bf16" else "")
        )


# The admission ladder, cheapest first: each rung trades speed for memory. All on the GPU, + VAE tiling,
# + VAE slicing, then each offload placement in ``GPU_PLACEMENTS`` order with both VAE savers on.
PLACEMENT_LADDER: tuple[Rung, ...] = (
    Rung("gpu", False, False),
    Rung("gpu", True, False),
    Rung("gpu", True, True),
    *(Rung(placement, True, True) for placement in GPU_PLACEMENTS if placement != "gpu"),
)


def set_vae_memory(vae: Any, *, tiling: bool, slicing: bool) -> None:
    """Switch VAE tiling/slicing, tolerating VAEs that lack either."""
    for enabled, on, off, what in (
        (tiling, "enable_tiling", "disable_tiling", "tiling"),
        (slicing, "enable_slicing", "disable_slicing", "slicing"),
    ):
        method = getattr(vae, on if enabled else off, None)
        if method is None:
            if enabled:
                logger.info("VAE %s has no %s; skipped", type(vae).__name__, what)
            continue
        try:
            method()
        except NotImplementedError:
            if enabled:
                logger.info("VAE %s does not implement %s; skipped", type(vae).__name__, what)


def apply_group_offload(pipe: Any, device: str) -> None:
    """Block-level group offloading for every model component; the VAE stays on the GPU.

    The VAE is small next to the transformer, and group offloading with streams on
    an autoencoder whose first pass runs tiled is known not to work (diffusers warns).
    """
    import torch
    from diffusers.hooks import apply_group_offloading

    onload = torch.device(device)
    components = {k: v for k, v in getattr(pipe, "components", {}).items() if isinstance(v, torch.nn.Module)}
    unsupported = [
        k for k, v in components.items() if k != "vae" and getattr(v, "_supports_group_offloading", True) is False
    ]
    if unsupported:
        logger.warning("group offload unsupported by %s; using model CPU offload instead", ", ".join(unsupported))
        pipe.enable_model_cpu_offload(device=device)
        return
    kwargs = {
        "onload_device": onload,
        "offload_device": torch.device("cpu"),
        "offload_type": "block_level",
        "num_blocks_per_group": 1,
        "use_stream": onload.type == "cuda",  # HIP streams on ROCm: overlap transfers with compute
    }
    for name, module in components.items():
        if name == "vae":
            module.to(onload)
        elif hasattr(module, "enable_group_offload"):
            module.enable_group_offload(**kwargs)
        else:  # e.g. transformers text encoders
            apply_group_offloading(module=module, **kwargs)


def apply_load_policy(pipe: Any, policy: VideoLoadPolicy) -> None:
    """Place a loaded diffusers pipeline per ``policy`` and set VAE tiling/slicing."""
    vae = getattr(pipe, "vae", None)
    if vae is not None:
        # Before placement: group offloading checks tiling on the modules it hooks.
        set_vae_memory(vae, tiling=policy.vae_tiling, slicing=policy.vae_slicing)
    placement = policy.placement
    if placement == "cpu":
        pipe.to("cpu")
    elif placement == "gpu":
        pipe.to(policy.device)
    elif placement == "model_cpu_offload":
        pipe.enable_model_cpu_offload(device=policy.device)
    elif placement == "sequential_offload":
        pipe.enable_sequential_cpu_offload(device=policy.device)
    elif placement == "group_offload":
        apply_group_offload(pipe, policy.device)
    else:  # pragma: no cover - pydantic guards the literal
        raise ValueError(f"placement: unknown placement {placement!r}; allowed: {', '.join(PLACEMENTS)}")


def move_to_rung(pipe: Any, policy: VideoLoadPolicy, current: Rung, target: Rung) -> Rung:
    """Re-place a loaded pipeline from rung ``current`` to ``target``; the rung it is at afterwards.

    VAE tiling/slicing are switches; a placement change first removes the offload hooks the
    old placement installed (diffusers' ``remove_all_hooks``), then places the pipeline again.
    A quantized rung converts a bf16 denoiser in place (``quantize.apply_weights``, with its fallback) and
    places it again. The conversion is one way: a converted denoiser stays converted (a reload restores it).
    """
    placement, tiling, slicing, weights = target
    convert = weights != current.weights and current.weights == "bf16"
    if placement == current.placement and not convert:
        vae = getattr(pipe, "vae", None)
        if vae is not None:
            set_vae_memory(vae, tiling=tiling, slicing=slicing)
        return target._replace(weights=current.weights)
    remove_hooks = getattr(pipe, "remove_all_hooks", None)
    if remove_hooks is not None:
        remove_hooks()
    reached = current.weights
    if convert:
        from videogen.video.quantize import apply_weights

        reached = apply_weights(pipe, policy, requested=weights)["applied"]
    apply_load_policy(
        pipe, policy.model_copy(update={"placement": placement, "vae_tiling": tiling, "vae_slicing": slicing})
    )
    return target._replace(weights=reached)


def free_device_memory() -> None:
    """Give back what a failed (out-of-memory) call left in the allocator's cache."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def settle_interrupted(pipe: Any) -> None:
    """Do what a pipeline does at the end of a call it did not reach: offload its models again
    (model CPU offload would otherwise leave the denoiser on the GPU) and reset stateful hooks."""
    free_hooks = getattr(pipe, "maybe_free_model_hooks", None)
    if free_hooks is None:
        return
    try:
        free_hooks()
    except Exception:  # (the cancel is what the caller must see)
        logger.warning("could not offload %s after a cancel", type(pipe).__name__, exc_info=True)
