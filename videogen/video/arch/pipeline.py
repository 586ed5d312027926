"""``build_pipeline``: a preset as a real diffusers pipeline with random weights, built offline.

Every module is constructed with its parameters on the meta device and then allocated
straight on ``device`` in its final dtype (see ``materialise``): a 14B transformer never
exists in float32 or on the CPU first. Tokenizers, image processors and the scheduler are
built in code. The result is an ordinary pipeline: the loader places it like real weights.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping

import torch

from videogen.errors import UnsupportedTaskError
from videogen.video.arch.preset import ArchPreset, call_builder
from videogen.video.arch.tokenizers import build_processor, build_tokenizer


def build_pipeline(
    preset: ArchPreset,
    task: str,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | None = None,
    *,
    component_dtypes: Mapping[str, torch.dtype] | None = None,
    seed: int = 0,
):
    """The preset's pipeline for ``task``: modules on ``device`` in ``dtype`` (per-component overrides allowed)."""
    import diffusers

    if task not in preset.pipeline_classes:
        raise UnsupportedTaskError(
            f"arch:{preset.id} has no {task} pipeline; it offers {', '.join(preset.tasks)}",
            field="task",
            allowed=list(preset.tasks),
        )
    pipeline_class = getattr(diffusers, preset.pipeline_classes[task])
    overrides = dict(component_dtypes or {})
    kwargs: dict = {}
    for index, comp in enumerate(preset.components):
        kwargs[comp.name] = comp.build(device, overrides.get(comp.name, dtype), seed=seed + index)
    kwargs.update({tok.name: build_tokenizer(tok) for tok in preset.tokenizers})
    kwargs.update({proc.name: build_processor(proc) for proc in preset.processors})
    kwargs["scheduler"] = preset.scheduler_for(task).build()
    if preset.guider is not None:
        kwargs["guider"] = preset.guider.build()
    kwargs.update(preset.pipeline_kwargs)
    kwargs.update({name: call_builder(path) for name, path in preset.built_kwargs.items()})
    _check_arguments(pipeline_class, kwargs, preset)
    return pipeline_class(**kwargs)


def _check_arguments(pipeline_class, kwargs: dict, preset: ArchPreset) -> None:
    # A preset naming a component its pipeline does not take is a preset bug: say which.
    accepted = set(inspect.signature(pipeline_class.__init__).parameters) - {"self"}
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise TypeError(f"arch:{preset.id}: {pipeline_class.__name__} takes no {', '.join(unknown)}")
