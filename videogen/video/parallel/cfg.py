"""CFG-parallel (diffusers has none): the two guidance branches of a step on two groups of ranks.

A diffusers hook (``new_forward``) on each denoiser of the pipeline; the pipeline's loop and its own combine
(``uncond + scale * (cond - uncond)``) are left as they are and see both branches each step, so the result equals
the sequential one. The ``cfg`` dimension's group has two ranks: cfg rank 0 and cfg rank 1.

``sequential`` (Wan: two calls a step, the conditional one first, then the unconditional one when
``pipe.do_classifier_free_guidance``; checked against ``WanPipeline``, ``WanImageToVideoPipeline``,
``WanVideoToVideoPipeline`` and ``WanVACEPipeline`` in diffusers 0.42.1, which read the first call's output only
after the second call returns):

- first call: cfg rank 0 computes the conditional branch and returns it; cfg rank 1 computes nothing and returns
  a buffer of the output's shape (filled with NaN, so a read before it is filled would show);
- second call: cfg rank 1 computes the unconditional branch; the two ranks all-gather ``[cond, uncond]``; cfg rank 0
  returns ``uncond``; cfg rank 1 copies ``cond`` into the buffer it returned at the first call and returns its own.

``batched`` (CogVideoX, LTX-Video, AnimateDiff, ...: one call on a batch of ``[uncond, cond]``): cfg rank ``r``
computes the ``r``-th half of the batch (every tensor argument whose first dimension is the batch is halved the same
way), the halves are all-gathered and concatenated back in order. A batch that does not halve (guidance off, one
video) is computed whole on both ranks.

Every rank denoises the same latents (same seed) and gets the same full output each step, so the ranks never drift
apart. The hook stays on the pipeline: with guidance off both ranks compute the same single call.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

from videogen.video.parallel.groups import RankGroups
from videogen.video.parallel.validate import denoiser_modules

CfgLayout = Literal["sequential", "batched"]
HOOK_NAME = "videogen_cfg_parallel"
_SAMPLE_KEYS = ("hidden_states", "sample")  # a transformer's input latents, a UNet's


@dataclass
class _Pair:
    """A sequential step between its two calls: the tensor handed back at the first call, and the step it was
    (the pipeline's ``_current_timestep``, the same object for both calls of a step), so a pair left half done by a
    failed call is never taken for the next step's."""

    first: Any = None
    step: Any = None


def _sample_of(output: Any):
    return output[0] if isinstance(output, tuple) else output.sample


def _with_sample(output: Any, sample: Any) -> Any:
    """``output`` with its sample replaced (a tuple or a diffusers ``BaseOutput``)."""
    if isinstance(output, tuple):
        return (sample, *output[1:])
    output.sample = sample  # a BaseOutput keeps its dict entry in step with the attribute
    return output


def _as_output(sample: Any, kwargs: dict[str, Any]) -> Any:
    """What the denoiser returns for ``sample``: ``(sample,)`` with ``return_dict=False``, else the output class."""
    if not kwargs.get("return_dict", True):
        return (sample,)
    from diffusers.models.modeling_outputs import Transformer2DModelOutput

    return Transformer2DModelOutput(sample=sample)


def _input_latents(args: tuple, kwargs: dict[str, Any]):
    for key in _SAMPLE_KEYS:
        if key in kwargs:
            return kwargs[key]
    return args[0]


def _output_like(module: Any, latents: Any):
    """A NaN tensor of the denoiser's output for ``latents``: the output channels in place of the input channels
    (a Wan/HunyuanVideo transformer's output is its latents with ``out_channels``), the latents' dtype and device."""
    import torch

    channels = module.config.get("out_channels") or module.config.get("in_channels")
    shape = (latents.shape[0], channels, *latents.shape[2:])
    return torch.full(shape, float("nan"), dtype=latents.dtype, device=latents.device)


def _all_gather(tensor: Any, groups: RankGroups) -> list[Any]:
    import torch
    import torch.distributed as dist

    tensor = tensor.contiguous()
    parts = [torch.empty_like(tensor) for _ in range(groups.config.cfg)]
    dist.all_gather(parts, tensor, group=groups.cfg_group)
    return parts


@functools.cache
def _hook_class() -> type:
    """``_CfgSplit`` as a diffusers ``ModelHook`` (built on first use: importing this module imports no diffusers)."""
    from diffusers.hooks.hooks import ModelHook

    return type("CfgParallelHook", (_CfgSplit, ModelHook), {})


class _CfgSplit:
    """The hook's behaviour; ``_hook_class`` makes it a diffusers ``ModelHook``."""

    # The pending first call of a pair: cleared when the pipeline resets its stateful hooks (at the end of each
    # call, and by the worker after a cancel).
    _is_stateful = True

    def __init__(self, pipe: Any, groups: RankGroups, layout: CfgLayout, pair: _Pair):
        super().__init__()
        self.pipe, self.groups, self.layout, self.pair = pipe, groups, layout, pair

    def new_forward(self, module: Any, *args: Any, **kwargs: Any) -> Any:
        forward = self.fn_ref.original_forward
        if self.layout == "batched":
            return self._batched(forward, args, kwargs)
        if not getattr(self.pipe, "do_classifier_free_guidance", False):
            return forward(*args, **kwargs)  # guidance off: one call a step, the same on every rank
        step = getattr(self.pipe, "_current_timestep", None)
        if self.pair.first is None or step is not self.pair.step:
            return self._first_call(forward, module, args, kwargs, step)
        return self._second_call(forward, args, kwargs)

    def reset_state(self, module: Any) -> Any:
        self.pair.first = self.pair.step = None
        return module

    def _first_call(self, forward, module, args, kwargs, step):
        if self.groups.cfg_rank == 0:
            output = forward(*args, **kwargs)
            self.pair.first = _sample_of(output)
        else:
            self.pair.first = _output_like(module, _input_latents(args, kwargs))
            output = _as_output(self.pair.first, kwargs)
        self.pair.step = step
        return output

    def _second_call(self, forward, args, kwargs):
        first, self.pair.first, self.pair.step = self.pair.first, None, None
        if self.groups.cfg_rank == 0:
            cond, uncond = _all_gather(first, self.groups)
            return _as_output(uncond, kwargs)
        output = forward(*args, **kwargs)
        cond, _ = _all_gather(_sample_of(output), self.groups)
        if cond.shape != first.shape or cond.dtype != first.dtype:
            raise RuntimeError(
                f"CFG-parallel: the conditional branch came back {tuple(cond.shape)} {cond.dtype}, but the tensor "
                f"this rank handed the pipeline for it is {tuple(first.shape)} {first.dtype}"
            )
        first.copy_(cond)  # the pipeline holds ``first`` as the first call's output and reads it after this call
        return output

    def _batched(self, forward, args, kwargs):
        import torch

        batch = _input_latents(args, kwargs).shape[0]
        halves = self.groups.config.cfg
        if batch % halves:
            return forward(*args, **kwargs)
        size = batch // halves
        start = self.groups.cfg_rank * size

        def mine(value: Any) -> Any:
            if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape[0] == batch:
                return value[start : start + size]
            return value

        output = forward(*(mine(a) for a in args), **{k: mine(v) for k, v in kwargs.items()})
        return _with_sample(output, torch.cat(_all_gather(_sample_of(output), self.groups), dim=0))


def enable_cfg_parallel(pipe: Any, groups: RankGroups, layout: CfgLayout) -> list[str]:
    """Hook every denoiser of ``pipe`` for CFG-parallel (nothing for ``cfg`` 1); the components hooked.

    Call it after ``enable_sequence_parallel``: the hook then runs outside diffusers' context-parallel hooks (the
    batch is halved before the tokens are split)."""
    from diffusers.hooks import HookRegistry

    if groups.config.cfg == 1:
        return []
    hook_class = _hook_class()
    pair = _Pair()  # one per pipeline: Wan 2.2's two experts never share a step
    hooked = []
    for name, model in denoiser_modules(pipe).items():
        HookRegistry.check_if_exists_or_initialize(model).register_hook(
            hook_class(pipe, groups, layout, pair), HOOK_NAME
        )
        hooked.append(name)
    return hooked


def disable_cfg_parallel(pipe: Any) -> None:
    """Take the CFG-parallel hook off every denoiser of ``pipe``."""
    for model in denoiser_modules(pipe).values():
        registry = getattr(model, "_diffusers_hook", None)
        if registry is not None and registry.get_hook(HOOK_NAME) is not None:
            registry.remove_hook(HOOK_NAME, recurse=False)
