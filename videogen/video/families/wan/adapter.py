"""Wan 2.1 / 2.2: the generic adapter covers everything (frames 4k+1, sizes multiple of 16, or of 32 on a checkpoint
whose VAE is /16 like Wan 2.2 TI2V-5B's: ``model_limits``); first-last-frame
checks that the loaded checkpoint can take two frames; ``guidance_scale_2`` (the low-noise expert's guidance) goes
only to a pipeline with two denoiser experts (Wan 2.2 A14B: ``transformer_2`` switched at ``boundary_ratio``)."""

from __future__ import annotations

from typing import Any

from videogen.errors import InvalidRequestError, UnsupportedTaskError
from videogen.video.adapter import PreparedInputs, VideoPipelineAdapter
from videogen.video.families.wan.spec import SPEC
from videogen.video.families.wan.vace import VACE_TASKS, check_vace, fit_references
from videogen.video.model_meta import ModelMeta
from videogen.video.request import VideoRequest
from videogen.video.spec import FIRST_LAST_FRAME


class WanAdapter(VideoPipelineAdapter):
    spec = SPEC
    has_two_expert_models = True  # Wan 2.2 A14B

    def resolve_params(self, request: VideoRequest, meta: ModelMeta | None = None) -> PreparedInputs:
        # Before anything is decoded: the ingress refuses it here when the served model is known to have one expert
        # (a tiny model, an arch: preset, a model directory); unknown (None) waits for the loaded pipeline.
        check_guidance_scale_2(request.guidance_scale_2, (meta or ModelMeta()).experts)
        prepared = super().resolve_params(request, meta)
        if request.task in VACE_TASKS:  # reference images placed on the job's canvas here, each change said
            fit_references(prepared)
        if request.guidance_scale_2 is not None:
            prepared.params["guidance_scale_2"] = float(request.guidance_scale_2)
        return prepared

    def family_call_kwargs(self, task: str, pipe, params: dict[str, Any]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if task == FIRST_LAST_FRAME:
            check_first_last_frame(pipe)
        if task in VACE_TASKS:
            check_vace(pipe, task)
        if params.get("guidance_scale_2") is not None:
            # diffusers itself raises a bare ValueError for it on a pipeline without boundary_ratio
            check_guidance_scale_2(params["guidance_scale_2"], pipeline_experts(pipe))
            kwargs["guidance_scale_2"] = params["guidance_scale_2"]
        return kwargs


def pipeline_experts(pipe) -> int:
    """2 when the loaded pipeline switches to a low-noise ``transformer_2`` (its ``boundary_ratio`` set), else 1."""
    config = getattr(pipe, "config", None) or {}
    second = getattr(pipe, "transformer_2", None)
    return 2 if second is not None and config.get("boundary_ratio") is not None else 1


def check_guidance_scale_2(value: float | None, experts: int | None) -> None:
    """Refuse ``guidance_scale_2`` for a model with one denoiser (``experts`` None: not known yet, let it pass)."""
    if value is not None and experts is not None and experts < 2:
        raise InvalidRequestError(
            "guidance_scale_2",
            "is the low-noise expert's guidance and this model has one denoiser (no transformer_2 with a "
            "boundary_ratio, as Wan 2.2 A14B has); leave it out and set guidance_scale",
            allowed=None,
        )


def check_first_last_frame(pipe) -> None:
    """Refuse a Wan 2.1 image-to-video checkpoint for first-last-frame before it runs.

    ``WanImageToVideoPipeline`` CLIP-embeds ``[image, last_image]`` as a batch of two; only a transformer with
    ``pos_embed_seq_len`` (Wan 2.1 FLF2V) folds them into one sequence. An i2v transformer (``image_dim`` set, no
    ``pos_embed_seq_len``) would fail inside the call on a tensor-size mismatch. A transformer without image
    embeddings (Wan 2.2) takes the last frame in its conditioning latents only.
    """
    transformer = getattr(pipe, "transformer", None)
    config = getattr(transformer, "config", None)
    if config is not None and config.get("image_dim") is not None and config.get("pos_embed_seq_len") is None:
        raise UnsupportedTaskError(
            f"this Wan checkpoint is an image-to-video model: its transformer has no pos_embed_seq_len for two "
            f"frames' image embeddings; use a first-last-frame checkpoint such as "
            f"{SPEC.default_model_ids[FIRST_LAST_FRAME]}",
            family=SPEC.id,
            task=FIRST_LAST_FRAME,
        )
