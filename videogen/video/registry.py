"""The model registry: one ``VideoModelSpec`` per family, the single source of
truth for each family's identity, inputs, limits and defaults.

Static facts live here; the *effective* support level is resolved at run time
by :func:`resolve_support` from the installed diffusers, the hardware profile
and the model source the family is set to use.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from videogen.errors import UnknownFamilyError

if TYPE_CHECKING:  # pragma: no cover
    from videogen.video.foundation import VideoHardwareProfile
    from videogen.video.model_source import ModelSource

TEXT_TO_VIDEO = "text-to-video"
IMAGE_TO_VIDEO = "image-to-video"
TASKS = (TEXT_TO_VIDEO, IMAGE_TO_VIDEO)
Task = Literal["text-to-video", "image-to-video"]


class SupportLevel(str, Enum):
    READY = "ready"
    LIMITED = "limited"
    REQUIRES_PATCH = "requires_patch"
    NOT_SUPPORTED = "not_supported"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {
    SupportLevel.READY: 3,
    SupportLevel.LIMITED: 2,
    SupportLevel.REQUIRES_PATCH: 1,
    SupportLevel.NOT_SUPPORTED: 0,
}


class FrameRule(BaseModel):
    """Valid frame counts are ``multiple * k + remainder`` within [min, max]."""

    model_config = ConfigDict(frozen=True)
    multiple: int = 1
    remainder: int = 0
    min_frames: int = 1
    max_frames: int = 257

    def describe(self) -> str:
        if self.multiple == 1:
            return f"{self.min_frames}..{self.max_frames}"
        return f"{self.min_frames}..{self.max_frames}, of the form {self.multiple}k+{self.remainder}"

    def nearest(self, frames: int) -> int:
        """The valid count nearest to ``frames`` (ties round up)."""
        k = round((frames - self.remainder) / self.multiple + 1e-9)
        value = self.multiple * k + self.remainder
        lo = self.min_frames + (self.remainder - self.min_frames) % self.multiple
        hi = self.max_frames - (self.max_frames - self.remainder) % self.multiple
        return max(lo, min(hi, value))


class Defaults(BaseModel):
    model_config = ConfigDict(frozen=True)
    num_inference_steps: int
    guidance_scale: float
    num_frames: int
    height: int
    width: int
    fps: int


class VideoModelSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    display_name: str
    task_kind: Literal["t2v", "i2v", "hybrid"]
    # diffusers pipeline class per task; a task absent here is not offered by the family.
    pipeline_classes: dict[str, str]
    required_inputs: dict[str, list[str]]
    recommended_dtype: Literal["bfloat16", "float16", "float32"]
    rocm_notes: str
    support_level: SupportLevel
    support_note: str = ""
    default_model_ids: dict[str, str]
    # Reason shown for tasks the family does not offer at all.
    unsupported_task_reasons: dict[str, str] = Field(default_factory=dict)
    frame_rule: FrameRule
    resolution_multiple: int
    min_size: int = 64
    max_size: int = 1920
    defaults: Defaults
    # Rough VRAM (GB) the default real model needs with model CPU offload; below it: limited.
    min_vram_gb: float
    # Output frames = requested frames - this (HunyuanVideo i2v drops the conditioning frames).
    frames_dropped: dict[str, int] = Field(default_factory=dict)
    # Checkpoint classes besides the pipelines that a model directory may hold (AnimateDiff's motion adapter).
    extra_checkpoint_classes: list[str] = Field(default_factory=list)

    @property
    def tasks(self) -> list[str]:
        return [t for t in TASKS if t in self.pipeline_classes]


_T2V_ONLY = "{name} is a text-to-video model; diffusers has no image-to-video pipeline for it."

SPECS: dict[str, VideoModelSpec] = {
    spec.id: spec
    for spec in [
        VideoModelSpec(
            id="text-to-video-sd",
            display_name="ModelScope Text-to-Video (TextToVideoSD)",
            task_kind="t2v",
            pipeline_classes={TEXT_TO_VIDEO: "TextToVideoSDPipeline"},
            required_inputs={TEXT_TO_VIDEO: ["prompt"]},
            recommended_dtype="float16",
            rocm_notes="UNet3D runs on all ROCm GPUs; fp16 is fine on gfx90a/gfx94x/gfx11xx.",
            support_level=SupportLevel.READY,
            default_model_ids={TEXT_TO_VIDEO: "ali-vilab/text-to-video-ms-1.7b"},
            unsupported_task_reasons={IMAGE_TO_VIDEO: _T2V_ONLY.format(name="TextToVideoSD")},
            frame_rule=FrameRule(multiple=1, remainder=0, min_frames=1, max_frames=64),
            resolution_multiple=8,
            defaults=Defaults(num_inference_steps=25, guidance_scale=9.0, num_frames=16, height=256, width=256, fps=8),
            min_vram_gb=8,
        ),
        VideoModelSpec(
            id="wan",
            display_name="Wan 2.1 / 2.2",
            task_kind="hybrid",
            pipeline_classes={TEXT_TO_VIDEO: "WanPipeline", IMAGE_TO_VIDEO: "WanImageToVideoPipeline"},
            required_inputs={TEXT_TO_VIDEO: ["prompt"], IMAGE_TO_VIDEO: ["prompt", "image"]},
            recommended_dtype="bfloat16",
            rocm_notes="bf16 on MI200/MI300 and RDNA3; keep the VAE in float32 for clean colours.",
            support_level=SupportLevel.READY,
            default_model_ids={
                TEXT_TO_VIDEO: "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
                IMAGE_TO_VIDEO: "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers",
            },
            frame_rule=FrameRule(multiple=4, remainder=1, min_frames=5, max_frames=161),
            resolution_multiple=16,
            defaults=Defaults(num_inference_steps=30, guidance_scale=5.0, num_frames=81, height=480, width=832, fps=16),
            min_vram_gb=12,
        ),
        VideoModelSpec(
            id="cogvideox",
            display_name="CogVideoX",
            task_kind="hybrid",
            pipeline_classes={TEXT_TO_VIDEO: "CogVideoXPipeline", IMAGE_TO_VIDEO: "CogVideoXImageToVideoPipeline"},
            required_inputs={TEXT_TO_VIDEO: ["prompt"], IMAGE_TO_VIDEO: ["prompt", "image"]},
            recommended_dtype="bfloat16",
            rocm_notes="bf16 for the 5B models, fp16 for 2B; VAE tiling avoids MIOpen 3D-conv OOMs.",
            support_level=SupportLevel.READY,
            default_model_ids={TEXT_TO_VIDEO: "THUDM/CogVideoX-2b", IMAGE_TO_VIDEO: "THUDM/CogVideoX-5b-I2V"},
            frame_rule=FrameRule(multiple=4, remainder=1, min_frames=5, max_frames=49),
            resolution_multiple=16,
            defaults=Defaults(num_inference_steps=50, guidance_scale=6.0, num_frames=49, height=480, width=720, fps=8),
            min_vram_gb=12,
        ),
        VideoModelSpec(
            id="ltx-video",
            display_name="LTX-Video",
            task_kind="hybrid",
            pipeline_classes={TEXT_TO_VIDEO: "LTXPipeline", IMAGE_TO_VIDEO: "LTXImageToVideoPipeline"},
            required_inputs={TEXT_TO_VIDEO: ["prompt"], IMAGE_TO_VIDEO: ["prompt", "image"]},
            recommended_dtype="bfloat16",
            rocm_notes="Fast on MI300 in bf16; the 2B model fits 24 GB cards without offload.",
            support_level=SupportLevel.READY,
            default_model_ids={TEXT_TO_VIDEO: "Lightricks/LTX-Video", IMAGE_TO_VIDEO: "Lightricks/LTX-Video"},
            frame_rule=FrameRule(multiple=8, remainder=1, min_frames=9, max_frames=257),
            resolution_multiple=32,
            defaults=Defaults(num_inference_steps=50, guidance_scale=3.0, num_frames=121, height=480, width=704, fps=24),
            min_vram_gb=12,
        ),
        VideoModelSpec(
            id="hunyuan-video",
            display_name="HunyuanVideo",
            task_kind="hybrid",
            pipeline_classes={
                TEXT_TO_VIDEO: "HunyuanVideoPipeline",
                IMAGE_TO_VIDEO: "HunyuanVideoImageToVideoPipeline",
            },
            required_inputs={TEXT_TO_VIDEO: ["prompt"], IMAGE_TO_VIDEO: ["prompt", "image"]},
            recommended_dtype="bfloat16",
            rocm_notes="13B transformer: needs ≥ 48 GB or offload; bf16 on MI300X runs it fully on GPU.",
            support_level=SupportLevel.READY,
            default_model_ids={
                TEXT_TO_VIDEO: "hunyuanvideo-community/HunyuanVideo",
                IMAGE_TO_VIDEO: "hunyuanvideo-community/HunyuanVideo-I2V",
            },
            frame_rule=FrameRule(multiple=4, remainder=1, min_frames=9, max_frames=129),
            resolution_multiple=16,
            defaults=Defaults(num_inference_steps=30, guidance_scale=6.0, num_frames=61, height=544, width=960, fps=24),
            min_vram_gb=24,
            frames_dropped={IMAGE_TO_VIDEO: 4},
        ),
        VideoModelSpec(
            id="sana-video",
            display_name="SANA-Video",
            task_kind="hybrid",
            pipeline_classes={TEXT_TO_VIDEO: "SanaVideoPipeline", IMAGE_TO_VIDEO: "SanaImageToVideoPipeline"},
            required_inputs={TEXT_TO_VIDEO: ["prompt"], IMAGE_TO_VIDEO: ["prompt", "image"]},
            recommended_dtype="bfloat16",
            rocm_notes="Linear-attention transformer; bf16 on MI300/RDNA3. Gemma-2 text encoder stays in bf16.",
            support_level=SupportLevel.READY,
            default_model_ids={
                TEXT_TO_VIDEO: "Efficient-Large-Model/SANA-Video_2B_480p_diffusers",
                IMAGE_TO_VIDEO: "Efficient-Large-Model/SANA-Video_2B_480p_diffusers",
            },
            frame_rule=FrameRule(multiple=4, remainder=1, min_frames=5, max_frames=81),
            resolution_multiple=32,
            defaults=Defaults(num_inference_steps=50, guidance_scale=6.0, num_frames=81, height=480, width=832, fps=16),
            min_vram_gb=12,
        ),
        VideoModelSpec(
            id="animatediff",
            display_name="AnimateDiff (SD 1.5 + motion adapter)",
            task_kind="t2v",
            pipeline_classes={TEXT_TO_VIDEO: "AnimateDiffPipeline"},
            required_inputs={TEXT_TO_VIDEO: ["prompt"]},
            recommended_dtype="float16",
            rocm_notes="SD 1.5 UNet with a motion adapter; fp16 everywhere, small enough for 8 GB cards.",
            support_level=SupportLevel.READY,
            default_model_ids={TEXT_TO_VIDEO: "guoyww/animatediff-motion-adapter-v1-5-2"},
            unsupported_task_reasons={IMAGE_TO_VIDEO: _T2V_ONLY.format(name="AnimateDiff")},
            extra_checkpoint_classes=["MotionAdapter"],
            frame_rule=FrameRule(multiple=1, remainder=0, min_frames=1, max_frames=32),
            resolution_multiple=8,
            defaults=Defaults(num_inference_steps=25, guidance_scale=7.5, num_frames=16, height=512, width=512, fps=8),
            min_vram_gb=8,
        ),
    ]
}

FAMILY_IDS = tuple(SPECS)


def family_module(family: str) -> str:
    """The module name a family's adapter and tiny model live under (``ltx-video`` -> ``ltx_video``)."""
    return get_spec(family).id.replace("-", "_")


def get_spec(family: str) -> VideoModelSpec:
    try:
        return SPECS[family]
    except KeyError:
        raise UnknownFamilyError("family", f"unknown family {family!r}", allowed=list(SPECS)) from None


class TaskSupport(BaseModel):
    level: SupportLevel
    reasons: list[str] = Field(default_factory=list)


def _diffusers_has(class_name: str) -> bool:
    try:
        import diffusers
    except ImportError:
        return False
    try:
        return getattr(diffusers, class_name, None) is not None
    except Exception:  # diffusers' lazy import can fail on a missing optional dep
        return False


def resolve_task_support(
    spec: VideoModelSpec,
    task: str,
    profile: "VideoHardwareProfile",
    source: "ModelSource",
) -> TaskSupport:
    """Effective support for one family/task here, with reasons a user can act on."""
    if task not in spec.pipeline_classes:
        reason = spec.unsupported_task_reasons.get(task, f"{spec.display_name} does not offer {task}.")
        return TaskSupport(level=SupportLevel.NOT_SUPPORTED, reasons=[reason])
    class_name = spec.pipeline_classes[task]
    if not _diffusers_has(class_name):
        return TaskSupport(
            level=SupportLevel.NOT_SUPPORTED,
            reasons=[f"the installed diffusers has no {class_name}; upgrade diffusers to use {task} with {spec.id}"],
        )
    level = spec.support_level
    reasons = [spec.support_note] if spec.support_level != SupportLevel.READY and spec.support_note else []
    if source.is_tiny:
        return TaskSupport(level=level, reasons=reasons)

    def lower(to: SupportLevel, reason: str) -> None:
        nonlocal level
        if to.rank < level.rank:
            level = to
        reasons.append(reason)

    model_id = source.model_id_for(task)
    if not source.is_available(task):
        lower(
            SupportLevel.NOT_SUPPORTED,
            f"weights for {model_id} are not on this machine (no local directory and not in the Hugging Face "
            "cache); download them ahead of time or point the model at a local directory",
        )
    if profile.backend in ("cpu", "mps"):
        lower(
            SupportLevel.NOT_SUPPORTED,
            f"no ROCm or CUDA GPU here (backend {profile.backend}); the real {spec.display_name} model needs a GPU "
            f"with about {spec.min_vram_gb:g} GB or more. Use --model tiny to exercise the pipeline on the CPU",
        )
    elif profile.total_vram_gb is not None and profile.total_vram_gb < spec.min_vram_gb:
        lower(
            SupportLevel.LIMITED,
            f"{profile.device_name} has {profile.total_vram_gb:.0f} GB; {spec.display_name} wants about "
            f"{spec.min_vram_gb:g} GB, so it runs with sequential offload and is slow",
        )
    return TaskSupport(level=level, reasons=reasons)


def static_model_facts(spec: VideoModelSpec) -> dict:
    """A family's public facts that need no diffusers, torch or hardware to state."""
    return {
        "id": spec.id,
        "display_name": spec.display_name,
        "task_kind": spec.task_kind,
        "tasks": spec.tasks,
        "pipeline_classes": spec.pipeline_classes,
        "required_inputs": spec.required_inputs,
        "recommended_dtype": spec.recommended_dtype,
        "rocm_notes": spec.rocm_notes,
        "support_level": spec.support_level.value,
        "frame_rule": spec.frame_rule.describe(),
        "resolution_multiple": spec.resolution_multiple,
        "defaults": spec.defaults.model_dump(),
    }


def describe_model(spec: VideoModelSpec, profile: "VideoHardwareProfile", source: "ModelSource") -> dict:
    """The public JSON view of one family: static facts plus effective support."""
    task_support = {task: resolve_task_support(spec, task, profile, source) for task in TASKS}
    offered = [task_support[t] for t in spec.tasks]
    effective = max((s.level for s in offered), key=lambda lvl: lvl.rank) if offered else SupportLevel.NOT_SUPPORTED
    return {
        **static_model_facts(spec),
        "effective_support_level": effective.value,
        "task_support": {task: s.level.value for task, s in task_support.items()},
        "support_reasons": {task: s.reasons for task, s in task_support.items() if s.reasons},
        "model": source.describe(),
    }
