"""Meta-device calls of each component class at a given shape, as the pipelines make them.

Each ``*_call`` returns a zero-argument callable (the thing ``measure`` runs) and the input
tensors (excluded from the activation count). Inputs are empty meta tensors of the shapes
and dtypes the diffusers 0.42 pipelines pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from videogen.video.cost.meta_tensors import module_dtype

Call = tuple[Callable[[], Any], list[torch.Tensor]]

_META = torch.device("meta")


def _t(*shape: int, dtype: torch.dtype = torch.bfloat16) -> torch.Tensor:
    return torch.empty(*shape, device=_META, dtype=dtype)


def denoiser_call(
    module: nn.Module,
    *,
    batch: int,
    frames: int,
    height: int,
    width: int,
    text_tokens: int,
    image_tokens: int = 0,
    per_token_timestep: bool = False,
    history: tuple[int, ...] = (),
    controlnet: nn.Module | None = None,
) -> Call:
    """One denoiser forward on latents of ``frames x height x width`` (latent units), batch ``batch``.

    ``history``: FramePack's packed context, latent frames of each part (clean, 2x, 4x) at the same size.
    ``controlnet``: the ControlNet the pipeline runs first at every step (AnimateDiff's control-to-video)."""
    cls = type(module).__name__
    cfg = module.config
    dt = module_dtype(module)
    b, f, h, w = batch, frames, height, width
    c = int(cfg.get("in_channels", 0))  # a family's own probe reads its own (Kandinsky 5: in_visual_dim)
    timestep = _t(b, dtype=torch.float32)
    if cls in ("WanTransformer3DModel", "WanVACETransformer3DModel"):
        x = _t(b, c, f, h, w, dtype=dt)
        ph, pw = cfg.patch_size[1], cfg.patch_size[2]
        if per_token_timestep:  # Wan 2.2 expand_timesteps: one timestep per token
            timestep = _t(b, f * (h // ph) * (w // pw), dtype=torch.float32)
        kwargs: dict[str, Any] = {
            "hidden_states": x,
            "timestep": timestep,
            "encoder_hidden_states": _t(b, text_tokens, cfg.text_dim, dtype=dt),
            "return_dict": False,
        }
        if image_tokens and cfg.image_dim:
            images, per_image = 1, image_tokens
            if getattr(cfg, "pos_embed_seq_len", None):
                # FLF2V: the pipeline hands each image's tokens as its own batch row; the image embedder folds the
                # two rows into one sequence of pos_embed_seq_len. The transformer fixes that length (a tiny model's
                # image encoder gives fewer tokens than CLIP-H's 257), so it is the one that is priced.
                images, per_image = 2, cfg.pos_embed_seq_len // 2
            kwargs["encoder_hidden_states_image"] = _t(b * images, per_image, cfg.image_dim, dtype=dt)
        if cls == "WanVACETransformer3DModel":  # VACE: the control stream runs its own blocks beside the DiT's
            # (kept + regenerated latents + the folded mask, one latent frame per frame: no reference images counted)
            kwargs["control_hidden_states"] = _t(b, cfg.vace_in_channels, f, h, w, dtype=dt)
    elif cls == "CogVideoXTransformer3DModel":
        kwargs = {
            "hidden_states": _t(b, f, c, h, w, dtype=dt),
            "encoder_hidden_states": _t(b, text_tokens, cfg.text_embed_dim, dtype=dt),
            "timestep": timestep,
            "return_dict": False,
        }
        if cfg.use_rotary_positional_embeddings:
            p, pt = cfg.patch_size, cfg.patch_size_t or 1
            n = (f // pt) * (h // p) * (w // p)
            kwargs["image_rotary_emb"] = (
                _t(n, cfg.attention_head_dim, dtype=torch.float32),
                _t(n, cfg.attention_head_dim, dtype=torch.float32),
            )
        if getattr(cfg, "ofs_embed_dim", None):
            kwargs["ofs"] = _t(1, dtype=dt)
    elif cls == "LTXVideoTransformer3DModel":
        n = f * h * w  # patch 1x1x1: the pipeline packs latents to [B, N, C]
        kwargs = {
            "hidden_states": _t(b, n, c, dtype=dt),
            "encoder_hidden_states": _t(b, text_tokens, cfg.caption_channels, dtype=dt),
            "timestep": _t(b, n, dtype=torch.float32) if per_token_timestep else timestep,
            "encoder_attention_mask": _t(b, text_tokens, dtype=dt),
            "num_frames": f,
            "height": h,
            "width": w,
            "rope_interpolation_scale": (8 / 25, 32.0, 32.0),
            "return_dict": False,
        }
    elif cls == "HunyuanVideoTransformer3DModel":
        kwargs = {
            "hidden_states": _t(b, c, f, h, w, dtype=dt),
            "timestep": timestep,
            "encoder_hidden_states": _t(b, text_tokens, cfg.text_embed_dim, dtype=dt),
            "encoder_attention_mask": _t(b, text_tokens, dtype=dt),
            "pooled_projections": _t(b, cfg.pooled_projection_dim, dtype=dt),
            "return_dict": False,
        }
        if cfg.guidance_embeds:
            kwargs["guidance"] = _t(b, dtype=torch.float32)
    elif cls == "HunyuanVideoFramepackTransformer3DModel":
        return _framepack_call(module, b, c, f, h, w, text_tokens, image_tokens, history, dt)
    elif cls == "SanaVideoTransformer3DModel":
        kwargs = {
            "hidden_states": _t(b, c, f, h, w, dtype=dt),
            "encoder_hidden_states": _t(b, text_tokens, cfg.caption_channels, dtype=dt),
            "timestep": timestep,
            "encoder_attention_mask": _t(b, text_tokens, dtype=dt),
            "return_dict": False,
        }
        if getattr(cfg, "guidance_embeds", False):
            kwargs["guidance"] = _t(b, dtype=torch.float32)
    elif cls in ("UNet3DConditionModel", "UNetMotionModel"):
        # AnimateDiff's pipeline repeats the prompt embeddings per frame; UNet3D repeats them itself.
        text_batch = b * f if cls == "UNetMotionModel" else b
        kwargs = {
            "sample": _t(b, c, f, h, w, dtype=dt),
            "timestep": timestep,
            "encoder_hidden_states": _t(text_batch, text_tokens, cfg.cross_attention_dim, dtype=dt),
            "return_dict": False,
        }
        if controlnet is not None:
            return _with_controlnet(module, controlnet, kwargs, b * f, h, w)
    else:
        probe = family_denoiser_probe(cls)
        if probe is None:
            raise NotImplementedError(f"no cost probe for denoiser class {cls}")
        return probe(
            module,
            batch=b,
            frames=f,
            height=h,
            width=w,
            text_tokens=text_tokens,
            image_tokens=image_tokens,
            per_token_timestep=per_token_timestep,
        )
    inputs = [v for v in kwargs.values() if isinstance(v, torch.Tensor)]
    inputs += [t for v in kwargs.values() if isinstance(v, tuple) for t in v if isinstance(t, torch.Tensor)]
    return (lambda: module(**kwargs)), inputs


def family_denoiser_probe(class_name: str) -> Callable[..., Call] | None:
    """A family's own probe of a denoiser class the branches above do not know (``CostFacts.denoiser_probes``)."""
    return _family_probe("denoiser_probes", class_name)


def _family_probe(kind: str, class_name: str) -> Callable[..., Call] | None:
    from videogen.video.families import FAMILY_IDS, get_cost_facts

    for family in FAMILY_IDS:
        probe = getattr(get_cost_facts(family), kind).get(class_name)
        if probe is not None:
            return probe
    return None


def _with_controlnet(
    unet: nn.Module, controlnet: nn.Module, kwargs: dict[str, Any], images: int, h: int, w: int
) -> Call:
    """``AnimateDiffControlNetPipeline``'s step: the ControlNet on every frame (the latents and the control frames as
    a batch of ``images``, the prompt per frame, as the motion UNet gets it), then the UNet with its residuals added
    to the down and mid blocks. The control frames are pixels: the ControlNet's conditioning embedding downsamples
    them to the latents' size."""
    cfg = controlnet.config
    dt = module_dtype(controlnet)
    scale = 2 ** (len(cfg.conditioning_embedding_out_channels) - 1)
    sample = _t(images, cfg.in_channels, h, w, dtype=dt)
    frames = _t(images, cfg.conditioning_channels, h * scale, w * scale, dtype=dt)

    def run():
        down, mid = controlnet(
            sample,
            kwargs["timestep"],
            encoder_hidden_states=kwargs["encoder_hidden_states"],
            controlnet_cond=frames,
            return_dict=False,
        )
        return unet(**kwargs, down_block_additional_residuals=down, mid_block_additional_residual=mid)

    return run, [sample, frames, *(v for v in kwargs.values() if isinstance(v, torch.Tensor))]


class _MetaScalar(TorchDispatchMode):
    """Answers ``.item()`` of a meta tensor with ``value``: FramePack's transformer cuts its condition sequence to
    the mask's sum, a number the meta device cannot give (the mask is full: every token)."""

    def __init__(self, value: int) -> None:
        super().__init__()
        self.value = value

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default and args[0].is_meta:
            return self.value
        return func(*args, **(kwargs or {}))


def _framepack_call(module, b, c, f, h, w, text_tokens, image_tokens, history, dt) -> Call:
    """FramePack's transformer as ``HunyuanVideoFramepackPipeline`` calls it each step: the window's latents, the
    clean / 2x / 4x history latents (``history`` frames each) and the SigLIP image tokens."""
    cfg = module.config
    clean, history_2x, history_4x = history

    def frames(n: int) -> torch.Tensor:
        return torch.arange(n, device=_META)

    kwargs = {
        "hidden_states": _t(b, c, f, h, w, dtype=dt),
        "timestep": _t(b, dtype=torch.float32),
        "encoder_hidden_states": _t(b, text_tokens, cfg.text_embed_dim, dtype=dt),
        "encoder_attention_mask": _t(b, text_tokens, dtype=dt),
        "pooled_projections": _t(b, cfg.pooled_projection_dim, dtype=dt),
        "image_embeds": _t(b, image_tokens, cfg.image_proj_dim, dtype=dt),
        "indices_latents": frames(f),
        "guidance": _t(b, dtype=torch.float32),
        "latents_clean": _t(b, c, clean, h, w, dtype=dt),
        "indices_latents_clean": frames(clean),
        "latents_history_2x": _t(b, c, history_2x, h, w, dtype=dt),
        "indices_latents_history_2x": frames(history_2x),
        "latents_history_4x": _t(b, c, history_4x, h, w, dtype=dt),
        "indices_latents_history_4x": frames(history_4x),
        "return_dict": False,
    }

    def run():
        with _MetaScalar(image_tokens + text_tokens):
            return module(**kwargs)

    return run, [v for v in kwargs.values() if isinstance(v, torch.Tensor)]


def _vae_flags(vae: nn.Module, **flags: bool) -> dict[str, bool]:
    """Set the VAE's tiling/slicing/framewise flags that exist; returns the previous values."""
    previous = {}
    for name, value in flags.items():
        if hasattr(vae, name):
            previous[name] = getattr(vae, name)
            setattr(vae, name, value)
    return previous


# 2D VAEs the pipelines hand a clip's frames as one batch: SD's, and SVD's temporal decoder (which mixes the batch's
# frames in time and takes their count)
FRAME_BATCH_VAES = ("AutoencoderKL", "AutoencoderKLTemporalDecoder")

RAW_FLAGS = {
    "use_tiling": False,
    "use_slicing": False,
    "use_framewise_decoding": False,
    "use_framewise_encoding": False,
}


def vae_decode_call(vae: nn.Module, *, frames: int, height: int, width: int) -> Call:
    """The VAE's plain decode (no tiling, no framewise split) of ``frames`` latent frames.

    A 2D VAE (``FRAME_BATCH_VAES``) decodes frames as a batch, as the SD-based video pipelines do.
    """
    dt = module_dtype(vae)
    channels = int(vae.config.latent_channels if "latent_channels" in vae.config else vae.config.z_dim)
    if type(vae).__name__ in FRAME_BATCH_VAES:
        z = _t(frames, channels, height, width, dtype=dt)
        kwargs: dict[str, Any] = {"num_frames": frames} if type(vae).__name__ == "AutoencoderKLTemporalDecoder" else {}
    else:
        z = _t(1, channels, frames, height, width, dtype=dt)
        kwargs = {"temb": _t(1, dtype=dt)} if getattr(vae.config, "timestep_conditioning", False) else {}

    def run():
        previous = _vae_flags(vae, **RAW_FLAGS)
        try:
            return vae.decode(z, return_dict=False, **kwargs)[0]
        finally:
            _vae_flags(vae, **previous)

    return run, [z, *(v for v in kwargs.values() if isinstance(v, torch.Tensor))]


def vae_encode_call(vae: nn.Module, *, frames: int, height: int, width: int) -> Call:
    """The VAE's plain encode of ``frames`` pixel frames of ``height x width``."""
    dt = module_dtype(vae)
    if type(vae).__name__ in FRAME_BATCH_VAES:
        x = _t(frames, 3, height, width, dtype=dt)
    else:
        x = _t(1, 3, frames, height, width, dtype=dt)

    def run():
        previous = _vae_flags(vae, **RAW_FLAGS)
        try:
            return vae.encode(x, return_dict=False)[0].mean
        finally:
            _vae_flags(vae, **previous)

    return run, [x]


def encoder_call(module: nn.Module, *, tokens: int) -> Call:
    """A text encoder over ``tokens`` tokens (padded to max length, as the pipelines do), or an
    image encoder on one image."""
    cls = type(module).__name__
    # No attention mask: transformers inspects a given mask's values (``.all()``), which the meta
    # device cannot answer; a full mask costs the same FLOPs as the pipelines' padded one.
    ids = torch.zeros(1, tokens, dtype=torch.long, device=_META)
    if cls.startswith(("CLIPVision", "SiglipVision")):
        size = module.config.image_size
        pixels = _t(1, 3, size, size, dtype=module_dtype(module))
        return (lambda: module(pixel_values=pixels, output_hidden_states=True)), [pixels]
    if cls == "LlavaForConditionalGeneration":
        # Run the parts the way the merged forward does, without its data-dependent checks
        # (it counts image tokens with .item(), which the meta device cannot answer).
        inner = module.model
        size = inner.vision_tower.config.image_size
        pixels = _t(1, 3, size, size, dtype=module_dtype(module))

        def run_llava():
            vision = inner.vision_tower(pixels, output_hidden_states=True).hidden_states[-2][:, 1:]
            image = inner.multi_modal_projector(vision)
            embeds = inner.get_input_embeddings()(ids)
            del image
            return inner.language_model(inputs_embeds=embeds, output_hidden_states=True)

        return run_llava, [ids, pixels]
    if cls == "CLIPTextModel" or cls == "CLIPTextModelWithProjection":
        return (lambda: module(input_ids=ids, output_hidden_states=True)), [ids]
    if cls == "LlamaModel":
        # HunyuanVideo reads hidden_states[-3], so every layer's output is kept.
        return (lambda: module(input_ids=ids, output_hidden_states=True)), [ids]
    probe = _family_probe("encoder_probes", cls)  # a family's own text-side module (LTX-2's connectors)
    if probe is not None:
        return probe(module, tokens=tokens)
    return (lambda: module(input_ids=ids)), [ids]
