"""Cosmos' guardrail, and what a Cosmos model needs beside its weights.

NVIDIA's Open Model License requires the Cosmos guardrail with NVIDIA's checkpoints, and diffusers' pipeline refuses
to run without a ``safety_checker`` (its ``__init__`` builds ``cosmos_guardrail.CosmosSafetyChecker`` when given
none). That checker (the ``cosmos_guardrail`` package, 0.3.2) screens the prompt with a keyword blocklist and
Qwen3Guard, and blurs faces in the output; it reads its models from the Hugging Face hub (``GUARDRAIL_MODELS``),
which VideoGen never downloads at run time: they must be in the local cache. A checkpoint from disk or the cache
therefore loads with NVIDIA's guardrail, or not at all (``checkpoint_missing``, the loader's refusal, with the
reason).

VideoGen's own random-weight models (the tiny models, ``arch:`` presets) are not NVIDIA's weights and carry no
license: they run with ``NoGuardrail``, which the job's provenance names, so nothing is passed off as screened.

The transformer also needs torchvision when its config concatenates the padding mask (every published config: it
resizes the mask with ``torchvision.transforms``); a torch build without a matching torchvision (the CPU wheels here,
whose only torchvision on PyPI is CUDA's) cannot run it, which the same check says.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

# cosmos_guardrail 0.3.2: COSMOS_GUARDRAIL_CHECKPOINT (blocklist, face-blur weights) and Qwen3Guard's model_id, each
# with a file of it the checker reads (the face-blur filter's weights; the model's config)
GUARDRAIL_MODELS = {
    "nvidia/Cosmos-1.0-Guardrail": "face_blur_filter/Resnet50_Final.pth",
    "Qwen/Qwen3Guard-Gen-0.6B": "config.json",
}
NO_GUARDRAIL = "none: VideoGen's random weights (not NVIDIA's, no license to enforce)"


class NoGuardrail:
    """The pipeline's ``safety_checker`` for random weights: every prompt passes, the output is not screened.

    Not an ``nn.Module`` and not ``CosmosSafetyChecker``: diffusers then neither offloads nor moves it, and skips the
    video check (it runs that only for NVIDIA's class)."""

    description = NO_GUARDRAIL

    def to(self, *args, **kwargs) -> NoGuardrail:
        return self

    def check_text_safety(self, prompt: str) -> bool:
        return True


def is_random_weights(model_dir: Path) -> bool:
    """A directory VideoGen built itself: a tiny model, whose ``videogen.json`` records the tiny cache's version."""
    from videogen.video.model_meta import ModelMeta

    return ModelMeta.read(Path(model_dir)).tiny_version is not None


def torchvision_missing() -> str | None:
    try:
        from torchvision import transforms  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - a broken build fails in its own ways (a CUDA wheel over CPU torch)
        return f"torchvision does not import ({type(exc).__name__}: {exc}); install the build that matches torch"
    return None


def guardrail_missing() -> str | None:
    """Why NVIDIA's guardrail cannot be built here, read without loading it (None: it can)."""
    if importlib.util.find_spec("cosmos_guardrail") is None:
        return "the cosmos_guardrail package is not installed (pip install cosmos_guardrail)"
    from videogen.video.hf_cache import hf_cached_snapshot

    for repo, marker in GUARDRAIL_MODELS.items():
        if hf_cached_snapshot(repo, marker) is None:
            return (
                f"the guardrail's model {repo} is not in the local Hugging Face cache (huggingface-cli download {repo})"
            )
    return None


def checkpoint_missing(model_dir: Path) -> str | None:
    """What the Cosmos model in ``model_dir`` needs and this machine lacks (None: nothing)."""
    config = Path(model_dir) / "transformer" / "config.json"
    pads = json.loads(config.read_text()).get("concat_padding_mask", True) if config.is_file() else True
    if pads and (missing := torchvision_missing()):
        return f"Cosmos' transformer resizes its padding mask with torchvision: {missing}"
    if is_random_weights(model_dir):
        return None
    if missing := guardrail_missing():
        return f"NVIDIA's Cosmos checkpoints run only with the Cosmos guardrail (their license): {missing}"
    return None
