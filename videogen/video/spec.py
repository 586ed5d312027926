"""The types a video family is described with: tasks, support levels, frame rules,
defaults and ``VideoModelSpec``.

Types only: each family sets its own ``SPEC`` in ``videogen/video/families/<family>/spec.py``;
``videogen.video.registry`` is the view over all of them.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from videogen.errors import InvalidRequestError
from videogen.video.policy_overrides import StepCacheKind

TEXT_TO_VIDEO = "text-to-video"
IMAGE_TO_VIDEO = "image-to-video"
VIDEO_TO_VIDEO = "video-to-video"
FIRST_LAST_FRAME = "first-last-frame"
KEYFRAMES = "keyframes"
REFERENCE_TO_VIDEO = "reference-to-video"
VIDEO_INPAINT = "video-inpaint"
CONTROL_TO_VIDEO = "control-to-video"
TASKS = (
    TEXT_TO_VIDEO,
    IMAGE_TO_VIDEO,
    VIDEO_TO_VIDEO,
    FIRST_LAST_FRAME,
    KEYFRAMES,
    REFERENCE_TO_VIDEO,
    VIDEO_INPAINT,
    CONTROL_TO_VIDEO,
)
Task = Literal[
    "text-to-video",
    "image-to-video",
    "video-to-video",
    "first-last-frame",
    "keyframes",
    "reference-to-video",
    "video-inpaint",
    "control-to-video",
]
# The request inputs each task needs, declared once (a family offering a task takes these; see
# ``VideoModelSpec.required_inputs``).
TASK_INPUTS: dict[str, tuple[str, ...]] = {
    TEXT_TO_VIDEO: ("prompt",),
    IMAGE_TO_VIDEO: ("prompt", "image"),
    VIDEO_TO_VIDEO: ("prompt", "video"),
    FIRST_LAST_FRAME: ("prompt", "image", "last_image"),
    KEYFRAMES: ("prompt", "conditions"),
    REFERENCE_TO_VIDEO: ("prompt", "reference_images"),
    VIDEO_INPAINT: ("prompt", "video", "mask"),
    CONTROL_TO_VIDEO: ("prompt", "video"),
}
# What a task may take besides its required inputs; a task-specific field no task lists here or above is
# refused when set (``task_media.refuse_unused``), never silently ignored.
TASK_OPTIONAL_INPUTS: dict[str, tuple[str, ...]] = {
    VIDEO_TO_VIDEO: ("strength",),
    REFERENCE_TO_VIDEO: ("conditioning_scale",),
    VIDEO_INPAINT: ("reference_images", "conditioning_scale"),
    CONTROL_TO_VIDEO: ("reference_images", "conditioning_scale"),
}


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
    # Why the counts are these, said with each adjustment (empty: the family needs them)
    reason: str = ""

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


class StepCacheSupport(BaseModel):
    """Which of diffusers' step caches a family's pipelines take, per task, and why not the others.

    Declared in each ``families/<family>/spec.py``; read in one place, ``speed.step_cache_unsupported``.
    A kind works for the tasks listed in ``works``; for any other task ``why_not`` says why (key ``"*"``: every
    kind not listed).
    """

    model_config = ConfigDict(frozen=True)
    works: dict[StepCacheKind, tuple[Task, ...]] = Field(default_factory=dict)
    why_not: dict[StepCacheKind | Literal["*"], str] = Field(default_factory=dict)

    def unsupported_reason(self, kind: StepCacheKind, task: str) -> str | None:
        """None when step cache ``kind`` works for ``task``; else why not."""
        if kind == "off" or task in self.works.get(kind, ()):
            return None
        return self.why_not.get(kind) or self.why_not.get("*") or f"{kind} is not declared for this family"


class VideoModelSpec(BaseModel):
    """A family's identity, inputs, limits and defaults: what is true of it whatever the hardware."""

    model_config = ConfigDict(frozen=True)

    id: str
    display_name: str
    task_kind: Literal["t2v", "i2v", "hybrid", "v2v"]  # v2v: edits a clip and makes nothing from text alone (Lucy Edit)
    # diffusers pipeline class per task; a task absent here is not offered by the family.
    pipeline_classes: dict[str, str]
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
    # Frames the pipeline keeps back from its output, per task (HunyuanVideo i2v drops the
    # conditioning frames); read through ``output_frames``.
    frames_dropped: dict[str, int] = Field(default_factory=dict)
    # Checkpoint classes besides the pipelines that a model directory may hold (AnimateDiff's
    # motion adapter); read through ``checkpoint_classes``.
    extra_checkpoint_classes: list[str] = Field(default_factory=list)
    # diffusers' step caches this family's pipelines take (none unless declared).
    step_caches: StepCacheSupport = Field(default_factory=StepCacheSupport)
    # Checkpoint classes (a model_index.json's ``_class_name``) that run tasks through their own pipeline rather than
    # the family's for the task: a FramePack checkpoint also serves image-to-video, from a first frame alone, as
    # ``HunyuanVideoFramepackPipeline``. Read through ``pipeline_class_for``.
    checkpoint_tasks: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # The frames a pipeline class takes where they are not the family's ``frame_rule`` (FramePack: whole sections,
    # far past the family's longest clip). Read through ``frame_rule_for``.
    pipeline_frame_rules: dict[str, FrameRule] = Field(default_factory=dict)
    # What a task may take besides its required inputs where this family's pipeline takes less than the shared
    # ``TASK_OPTIONAL_INPUTS`` (CogVideoX-Fun's control-to-video: neither reference images nor a conditioning scale).
    # Read through ``optional_inputs_for``; a field a family does not take is refused, naming it.
    task_optional_inputs: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # Whether the pipelines return a soundtrack with the frames (LTX-2): the MP4 carries it as an audio track unless a
    # request's ``with_audio`` is false; a request asking for sound from a family without any is refused.
    audio: bool = False
    # Request fields only this family's pipelines take (``request.FAMILY_FIELDS``; SkyReels-V2's diffusion forcing:
    # ``ar_step``, ``causal_block_size``, ``overlap_history``); every other family refuses them, naming the field.
    request_fields: tuple[str, ...] = ()
    # Video-to-video continues the clip (Cosmos, Helios): the clip is kept at its own length (a clip longer than the
    # family's longest keeps its last frames, the ones the new video follows) and ``num_frames`` is the new video's.
    continues_clip: bool = False

    @property
    def tasks(self) -> list[str]:
        return [t for t in TASKS if t in self.pipeline_classes]

    @property
    def required_inputs(self) -> dict[str, list[str]]:
        """What each offered task needs from a request (``TASK_INPUTS``: every family's pipelines take the
        same inputs per task)."""
        return {t: list(TASK_INPUTS[t]) for t in self.tasks}

    @property
    def optional_inputs(self) -> dict[str, list[str]]:
        """What each offered task may take besides its required inputs (``optional_inputs_for``)."""
        return {t: list(self.optional_inputs_for(t)) for t in self.tasks}

    def optional_inputs_for(self, task: str) -> tuple[str, ...]:
        """What ``task`` may take on this family besides its required inputs: its own declaration where it has one
        (``task_optional_inputs``), else the shared ``TASK_OPTIONAL_INPUTS``."""
        return self.task_optional_inputs.get(task, TASK_OPTIONAL_INPUTS.get(task, ()))

    @property
    def checkpoint_classes(self) -> list[str]:
        """The ``_class_name`` values a model directory of this family may carry (each once: one class may
        serve two tasks, like Wan's image-to-video and first-last-frame)."""
        return list(dict.fromkeys([*self.pipeline_classes.values(), *self.extra_checkpoint_classes]))

    def pipeline_class_for(self, task: str, checkpoint_class: str | None = None) -> str:
        """The pipeline class that runs ``task`` on a checkpoint of ``checkpoint_class`` (None: not known): the
        checkpoint's own where ``checkpoint_tasks`` says it serves the task, else the family's."""
        if checkpoint_class is not None and task in self.checkpoint_tasks.get(checkpoint_class, ()):
            return checkpoint_class
        return self.pipeline_classes[task]

    def frame_rule_for(self, task: str, pipeline_class: str | None = None) -> FrameRule:
        """The frames ``task`` takes when ``pipeline_class`` runs it (None: the family's class for the task)."""
        return self.pipeline_frame_rules.get(pipeline_class or self.pipeline_classes.get(task, ""), self.frame_rule)

    def output_frames(self, task: str, num_frames: int) -> int:
        """How many frames the pipeline returns when asked for ``num_frames``."""
        return num_frames - self.frames_dropped.get(task, 0)

    def task_unsupported_reason(self, task: str) -> str | None:
        """Why this family does not offer ``task``; None when it does."""
        if task in self.pipeline_classes:
            return None
        return self.unsupported_task_reasons.get(task, f"{self.display_name} does not offer {task}.")

    def check_task(self, task: str) -> None:
        """Refuse a task the family does not offer, naming the field and the tasks it does."""
        reason = self.task_unsupported_reason(task)
        if reason is not None:
            offered = ", ".join(self.tasks)
            raise InvalidRequestError("task", f"{reason} ({self.id} offers: {offered})", allowed=self.tasks)
