"""Effective support: what a family can do on this machine, with reasons a user can act on.

Static facts come from the registry; this adds the installed diffusers, the
hardware profile and the model source the family is set to use.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from videogen.video import model_limits
from videogen.video.families import get_adapter
from videogen.video.hardware import VideoHardwareProfile
from videogen.video.model_source import ModelSource
from videogen.video.registry import static_model_facts
from videogen.video.spec import TASKS, SupportLevel, VideoModelSpec


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
    except Exception:  # noqa: BLE001 - diffusers' lazy import can fail on a missing optional dep
        return False


def resolve_task_support(
    spec: VideoModelSpec,
    task: str,
    profile: VideoHardwareProfile,
    source: ModelSource,
) -> TaskSupport:
    """Effective support for one family/task here, with reasons a user can act on."""
    unsupported = spec.task_unsupported_reason(task)
    if unsupported is not None:
        return TaskSupport(level=SupportLevel.NOT_SUPPORTED, reasons=[unsupported])
    class_name = spec.pipeline_classes[task]
    if not _diffusers_has(class_name):
        return TaskSupport(
            level=SupportLevel.NOT_SUPPORTED,
            reasons=[f"the installed diffusers has no {class_name}; upgrade diffusers to use {task} with {spec.id}"],
        )
    level = spec.support_level
    reasons = [spec.support_note] if spec.support_level != SupportLevel.READY and spec.support_note else []
    if source.is_tiny:
        why_not = source.tiny_unavailable_reason(task)  # a named tiny variant offers only its own tasks
        if why_not is not None:
            return TaskSupport(level=SupportLevel.NOT_SUPPORTED, reasons=[why_not])
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
    elif not source.is_arch:  # its files are here: one the task needs more of (a ControlNet) says so
        missing = get_adapter(spec.id).model_unavailable_reason(task, source.local_dir(task, build_tiny=False))
        if missing is not None:
            lower(SupportLevel.NOT_SUPPORTED, missing)
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


def describe_model(spec: VideoModelSpec, profile: VideoHardwareProfile, source: ModelSource) -> dict:
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
        # per task the model serves: its pipeline, frames and sizes (a FramePack checkpoint's image-to-video, Wan 2.2
        # TI2V's multiples of 32), what a request is checked against
        "request_limits": {
            task: model_limits.request_limits(spec, task, source.model_meta(task))
            for task in spec.tasks
            if _source_offers(source, task)
        },
    }


def _source_offers(source: ModelSource, task: str) -> bool:
    """Whether the source has a model for ``task`` at all (a tiny variant or an ``arch:`` preset: only its own
    tasks; any other source: every task of its family, whether or not its weights are here)."""
    if source.is_tiny:
        return source.tiny_unavailable_reason(task) is None
    if source.is_arch:
        return task in source.arch_preset().tasks
    return True


__all__ = ["TaskSupport", "describe_model", "resolve_task_support"]
