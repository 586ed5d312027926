"""What a pipeline's raw exception means for the job and the replica: a device fault (the replica is replaced) or
values this model cannot take (the job fails, saying which)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from videogen.errors import PipelineFailedError, VideoGenError

if TYPE_CHECKING:
    from videogen.video.loader import LoadedPipeline

# Errors after which the device cannot be trusted: the replica should be replaced.
FATAL_DEVICE_MARKERS = (
    "illegal memory access",
    "device-side assert",
    "hipErrorLaunchFailure",
    "unspecified launch failure",
    "ECC error",
)
_SHAPE_FIELDS = ("num_frames", "height", "width", "num_inference_steps", "guidance_scale")


def is_device_fault(exc: BaseException) -> bool:
    return any(marker in str(exc) for marker in FATAL_DEVICE_MARKERS)


def pipeline_failure(exc: Exception, loaded: LoadedPipeline, params: dict[str, Any]) -> Exception:
    """A raw pipeline error as one a user can act on: which values it ran with. Device faults stay as they
    are (``GenerationWorker.generate`` marks the worker broken on them)."""
    if is_device_fault(exc) or isinstance(exc, VideoGenError):
        return exc
    text = str(exc)
    values = {k: params[k] for k in _SHAPE_FIELDS if k in params}
    shown = ", ".join(f"{k}={v}" for k, v in values.items())
    first_line = text.splitlines()[0][:300] if text else ""
    return PipelineFailedError(
        f"{loaded.provenance.get('pipeline_class')} failed at {shown} ({type(exc).__name__}: {first_line}); "
        "the request was inside the family's limits, so this model cannot take these values: lower "
        "num_frames, height or width",
        field="num_frames",
        params=values,
        exception=type(exc).__name__,
    )


__all__ = ["FATAL_DEVICE_MARKERS", "is_device_fault", "pipeline_failure"]
