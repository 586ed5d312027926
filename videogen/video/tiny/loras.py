"""Tiny LoRA adapters, made offline with ``peft`` on a tiny model's denoiser and saved in diffusers' format.

What the LoRA tests and the CPU demo serve: a real adapter (peft's ``LoraConfig`` on the real tiny
transformer, random non-zero A and B), written by the pipeline class's own ``save_lora_weights`` as one
``.safetensors`` file, loaded back with ``load_lora_weights`` like any published LoRA.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

# The attention projections every tiny transformer here has (diffusers' Attention naming).
ATTENTION_PROJECTIONS = ("to_q", "to_k", "to_v", "to_out.0")


def make_tiny_lora(
    model_dir: str | Path,
    out_dir: str | Path,
    *,
    seed: int = 1,
    rank: int = 4,
    strength: float = 1.0,
    component: str = "transformer",
    target_modules: Sequence[str] = ATTENTION_PROJECTIONS,
    weight_name: str = "lora.safetensors",
) -> Path:
    """Write a LoRA for the ``component`` of the diffusers model in ``model_dir`` to ``out_dir/weight_name``.

    ``seed`` picks its random weights (two seeds: two different adapters); ``strength`` scales its B matrices,
    i.e. how far scale 1 moves the model."""
    import diffusers
    import torch
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    model_dir, out_dir = Path(model_dir), Path(out_dir)
    index = json.loads((model_dir / "model_index.json").read_text())
    model_cls = getattr(diffusers, index[component][1])
    model = model_cls.from_pretrained(str(model_dir / component), use_safetensors=True, local_files_only=True)
    torch.manual_seed(seed)
    config = LoraConfig(r=rank, lora_alpha=rank, target_modules=list(target_modules), init_lora_weights=False)
    model.add_adapter(config, adapter_name="tiny")
    state = get_peft_model_state_dict(model, adapter_name="tiny")
    state = {k: (v * strength if ".lora_B." in k else v).contiguous() for k, v in state.items()}
    pipeline_cls = getattr(diffusers, index["_class_name"])
    out_dir.mkdir(parents=True, exist_ok=True)
    pipeline_cls.save_lora_weights(
        str(out_dir),
        transformer_lora_layers=state,
        weight_name=weight_name,
        transformer_lora_adapter_metadata=config.to_dict(),
    )
    return out_dir / weight_name
