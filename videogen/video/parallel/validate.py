"""Whether a ``ParallelConfig`` can run a model: refused with the field named and the values allowed.

What is checked, and why:

- ``cfg: 2`` needs a pipeline that runs two guidance passes a step (the family's cost fact ``cfg``:
  ``sequential`` or ``batched``); HunyuanVideo's guidance is an input of its model (one pass), so there is
  nothing to split.
- ``ulysses``/``ring`` > 1 need every denoiser to have a context-parallel plan (``_cp_plan``) in the installed
  diffusers: in 0.42 Wan and LTX-Video have one, HunyuanVideo and CogVideoX do not (CFG-parallel only), and
  UNet families (AnimateDiff, TextToVideoSD) have no transformer at all.
- ``ulysses`` must divide the attention heads (each rank attends over whole heads).
- ``ring`` > 1 needs an attention backend that returns the log-sum-exp of each block, so partial results can be
  merged: FlashAttention or SageAttention on CUDA, never ``native`` (its forward refuses ``return_lse``).

``ParallelFacts`` is what the checks read: from a loaded pipeline, or from a model directory's configs before any
weight is read (build time).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from videogen.errors import InvalidRequestError
from videogen.video.cost.facts import CfgMode
from videogen.video.parallel.config import ParallelConfig

# The pipeline components that denoise: CFG-parallel wraps each; sequence parallel needs each to have a plan.
DENOISER_COMPONENTS = ("transformer", "transformer_2", "unet")

# diffusers 0.42.1's attention backends whose forward returns the log-sum-exp with the output (checked against
# models/attention_dispatch.py: the flash, flash-3 hub, sage and cuDNN/flash SDPA forward ops), so ring attention
# can merge the blocks; ``native`` raises on ``return_lse``. All need a CUDA (or ROCm) device.
RING_BACKENDS = frozenset(
    {
        "flash",
        "flash_hub",
        "flash_varlen_hub",
        "_flash_3_hub",
        "_flash_3_varlen_hub",
        "sage",
        "sage_hub",
        "_native_cudnn",
        "_native_flash",
    }
)


@dataclass(frozen=True)
class DenoiserFacts:
    component: str  # "transformer", "transformer_2" (Wan 2.2 A14B's low-noise expert) or "unet"
    class_name: str
    heads: int | None
    has_cp_plan: bool


@dataclass(frozen=True)
class ParallelFacts:
    """What the parallel checks need to know of a model: its family's CFG passes and its denoisers."""

    family: str
    cfg_mode: CfgMode
    denoisers: tuple[DenoiserFacts, ...]

    @property
    def sequence_parallel(self) -> bool:
        """Whether diffusers can split this model's tokens (every denoiser has a context-parallel plan)."""
        return bool(self.denoisers) and all(d.has_cp_plan for d in self.denoisers)

    @property
    def support(self) -> str:
        """What this model can be split along, as the effective policy says it."""
        axes = (["cfg"] if self.cfg_mode != "none" else []) + (["ulysses", "ring"] if self.sequence_parallel else [])
        if axes == ["cfg"]:
            return "cfg only"
        return ", ".join(axes) or "none"

    @classmethod
    def from_pipeline(cls, family: str, pipe: Any) -> ParallelFacts:
        denoisers = tuple(
            _facts(name, type(model).__name__, dict(getattr(model, "config", {}) or {}), type(model))
            for name, model in denoiser_modules(pipe).items()
        )
        return cls(family=family, cfg_mode=_cfg_mode(family), denoisers=denoisers)

    @classmethod
    def from_arch(cls, preset: Any) -> ParallelFacts:
        """From an ``arch:`` preset's component configs (``videogen.video.arch``)."""
        import diffusers

        denoisers = tuple(
            _facts(c.name, c.class_name, c.config, getattr(diffusers, c.class_name, None))
            for c in preset.components
            if c.name in DENOISER_COMPONENTS and c.library == "diffusers"
        )
        return cls(family=preset.family, cfg_mode=_cfg_mode(preset.family), denoisers=denoisers)

    @classmethod
    def from_source(cls, source: Any, task: str) -> ParallelFacts:
        """For a ``ModelSource`` before it is loaded (build time): its preset, or its directory's configs."""
        if source.is_arch:
            return cls.from_arch(source.arch_preset())
        return cls.from_model_dir(source.family, source.local_dir(task))

    @classmethod
    def from_model_dir(cls, family: str, model_dir: str | Path) -> ParallelFacts:
        """From ``model_index.json`` and each denoiser's ``config.json``; no weights are read."""
        import diffusers

        root = Path(model_dir)
        index = json.loads((root / "model_index.json").read_text())
        denoisers = []
        for name in DENOISER_COMPONENTS:
            entry = index.get(name)
            if not isinstance(entry, list) or entry[-1] is None:
                continue
            class_name = entry[-1]
            config = json.loads((root / name / "config.json").read_text())
            denoisers.append(_facts(name, class_name, config, getattr(diffusers, class_name, None)))
        return cls(family=family, cfg_mode=_cfg_mode(family), denoisers=tuple(denoisers))


def denoiser_modules(pipe: Any) -> dict[str, Any]:
    """The pipeline's denoisers present, by component name."""
    return {name: m for name in DENOISER_COMPONENTS if (m := getattr(pipe, name, None)) is not None}


def _facts(component: str, class_name: str, config: dict[str, Any], model_class: type | None) -> DenoiserFacts:
    heads = config.get("num_attention_heads")
    plan = getattr(model_class, "_cp_plan", None) if model_class is not None else None
    return DenoiserFacts(
        component=component,
        class_name=class_name,
        heads=heads if isinstance(heads, int) else None,
        has_cp_plan=plan is not None,
    )


def _cfg_mode(family: str) -> CfgMode:
    from videogen.video.families import get_cost_facts

    return get_cost_facts(family).cfg


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def context_parallel_backends() -> frozenset[str]:
    """The attention backends diffusers lets context parallelism run on (Ulysses); ring needs ``RING_BACKENDS``."""
    from diffusers.models.attention_dispatch import _AttentionBackendRegistry

    return frozenset(_AttentionBackendRegistry._supports_context_parallel)


def check_parallel(
    config: ParallelConfig,
    facts: ParallelFacts,
    attention_backend: str | None = None,
    where: str = "parallel",
) -> list[str]:
    """Refuse what cannot run (``InvalidRequestError`` naming ``<where>.<field>``); else notes for the policy.

    ``attention_backend``: the backend the denoiser runs ("auto" or None while it is still to be probed at load,
    which ring cannot wait for); ``where`` is where the config sits, e.g. ``families.wan.parallel``."""
    if config.cfg == 2 and facts.cfg_mode == "none":
        raise InvalidRequestError(
            f"{where}.cfg",
            f"{facts.family} runs one pass a step (its guidance is an input of the model): there is no second "
            "CFG branch to put on other ranks",
            allowed=[1],
        )
    if config.sequence_degree > 1:
        _check_sequence(config, facts, attention_backend, where)
    notes = [f"parallel {config.describe()}: {config.world_size} ranks, each holding the whole model"]
    if not facts.sequence_parallel:
        without = ", ".join(sorted({d.class_name for d in facts.denoisers})) or "its denoiser"
        notes.append(f"{facts.family}: {facts.support} ({without} has no context-parallel plan in this diffusers)")
    return notes


def _check_sequence(config: ParallelConfig, facts: ParallelFacts, backend: str | None, where: str) -> None:
    field = f"{where}.ulysses" if config.ulysses > 1 else f"{where}.ring"
    if not facts.sequence_parallel:
        without = sorted({d.class_name for d in facts.denoisers if not d.has_cp_plan}) or ["no transformer"]
        raise InvalidRequestError(
            field,
            f"{facts.family} ({', '.join(without)}) has no context-parallel plan (_cp_plan) in this diffusers: "
            f"{facts.support}",
            allowed=[1],
        )
    heads = {d.heads for d in facts.denoisers if d.heads}
    if config.ulysses > 1:
        allowed = sorted(set.intersection(*(set(_divisors(h)) for h in heads))) if heads else [1]
        if config.ulysses not in allowed:
            raise InvalidRequestError(
                f"{where}.ulysses",
                f"must divide the attention heads ({', '.join(map(str, sorted(heads)))}): each rank attends over "
                "whole heads",
                allowed=allowed,
            )
    if config.ring > 1 and backend not in RING_BACKENDS:
        said = "not chosen yet (auto)" if backend in (None, "auto") else repr(backend)
        raise InvalidRequestError(
            f"{where}.ring",
            f"ring attention merges partial results by their log-sum-exp, which the attention backend ({said}) does "
            "not return; set the policy's attention_backend to one that does (CUDA), or use ulysses",
            allowed=sorted(RING_BACKENDS),
        )
    if backend not in (None, "auto") and backend not in context_parallel_backends():
        raise InvalidRequestError(
            field,
            f"attention backend {backend!r} cannot run context parallelism in diffusers",
            allowed=sorted(context_parallel_backends()),
        )


class TokenSplitError(InvalidRequestError):
    """A job's tokens do not split across the replica's sequence ranks: refused at submission like a capacity
    refusal (the ingress prices every job), never left for diffusers to fail inside the call."""


def check_tokens_split(config: ParallelConfig, tokens: int) -> None:
    """A job's video tokens (latent frames x patches) must split evenly across the sequence ranks: diffusers
    asserts it inside the call (``EquipartitionSharder``), which would otherwise fail the job as a 500."""
    degree = config.sequence_degree
    if degree > 1 and tokens % degree:
        raise TokenSplitError(
            "num_frames",
            f"this job has {tokens} video tokens (latent frames x height/width patches), which do not split "
            f"evenly across {degree} sequence-parallel ranks; change num_frames, height or width",
            allowed=f"a token count divisible by {degree}",
        )


def attention_backend_of(model: Any) -> str | None:
    """The attention backend ``model``'s attention processors run with (as ``enable_parallelism`` reads it)."""
    from diffusers.models.attention_dispatch import _AttentionBackendRegistry

    for module in model.modules():
        processor = getattr(module, "processor", None)
        if processor is not None and hasattr(processor, "_attention_backend"):
            backend = processor._attention_backend
            if backend is None:
                backend, _ = _AttentionBackendRegistry.get_active_backend()
            return getattr(backend, "value", backend)
    return None
