"""LoRA adapters on a compiled denoiser: switched by diffusers' hot-swap, so the compiled graphs never change.

With regional compile on, loading a new adapter or changing the active set would change what the compiled
blocks run, and torch.compile would build their graphs again (seconds to minutes, per job). Instead, before
the warm-up call builds the graphs, the denoiser gets ``max_loras_per_replica`` adapter *slots*
(diffusers' ``enable_lora_hotswap(target_rank=...)``, then one zero adapter per slot covering every layer any
declared adapter targets, at the highest declared rank), all always active. A job's adapters are copied into
slots in place (``load_lora_weights(..., adapter_name=slot, hotswap=True)``) and each slot's scale is written
into its scaling tensors in place (0 for an unused slot): same modules, same shapes, same active adapters,
so the graphs stay valid. The cost: every slot runs in every step (a rank-``target_rank`` product per
targeted layer and slot, used or not), and an adapter must fit the slots made at load (declared then, with
the same LoRA options as the others).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from videogen.errors import ModelUnavailableError
from videogen.video.lora_config import LoraAdapter
from videogen.video.loras import (
    LoraMismatch,
    check_capacity,
    check_fits,
    components_for,
    read_state,
    refusal,
    report,
)

logger = logging.getLogger(__name__)

SLOT_PREFIX = "videogen_slot_"


def lora_rank(state: Mapping[str, Any]) -> int:
    """The highest rank of an adapter's weights (a ``lora_A`` matrix is rank x inputs)."""
    return max((int(v.shape[0]) for k, v in state.items() if ".lora_A." in k and v.ndim >= 2), default=1)


def zero_slot(states: Sequence[Mapping[str, Any]], rank: int) -> dict[str, Any]:
    """One adapter of zeros at ``rank`` covering every layer the ``states`` target (their union)."""
    import torch

    zero: dict[str, Any] = {}
    for state in states:
        for key, value in state.items():
            if ".lora_A." in key and value.ndim >= 2:
                zero[key] = torch.zeros((rank, *value.shape[1:]), dtype=value.dtype)
            elif ".lora_B." in key and key.endswith(".weight") and value.ndim >= 2:
                zero[key] = torch.zeros((value.shape[0], rank, *value.shape[2:]), dtype=value.dtype)
            elif ".lora_B." in key:  # a bias
                zero[key] = torch.zeros_like(value)
    return zero


def _lora_layers(model: Any, slot: str):
    from peft.tuners.lora import LoraLayer

    for name, module in model.named_modules():
        if isinstance(module, LoraLayer) and slot in module.scaling:
            yield name, module


class HotswapSlots:
    """A compiled pipeline's adapter slots: which adapter each holds (least recently used first)."""

    mode = "hotswap"

    def __init__(self, pipe: Any, declared: Mapping[str, LoraAdapter], capacity: int):
        self.pipe = pipe
        self.declared = declared
        self.slots = [f"{SLOT_PREFIX}{i}" for i in range(capacity)]
        self.capacity = capacity
        self.loaded: OrderedDict[str, str] = OrderedDict()  # adapter -> its slot
        self.components: dict[str, list[str]] = {}  # adapter -> the denoisers it is in
        self.slot_components: list[str] = []  # the denoisers that have slots
        self.refused: dict[str, str] = {}
        self.loads = 0
        self._base: dict[tuple[str, str], dict[str, float]] = {}  # (component, slot) -> layer -> alpha/rank

    def prepare(self) -> dict[str, Any]:
        """Make the slots (before the compiled warm-up call); what was made, for the load report."""
        started = time.perf_counter()
        states: dict[str, tuple[list[str], dict[str, Any]]] = {}
        for name, adapter in self.declared.items():
            try:
                components = components_for(self.pipe, adapter)
                state = read_state(self.pipe, adapter)
                check_fits(self.pipe, state, components)
            except ModelUnavailableError as exc:  # a missing file: refused at its first job if it still is
                logger.warning("LoRA adapter %s has no slot: %s", name, exc.message)
                continue
            except Exception as exc:  # noqa: BLE001 - another model's adapter: refused, the others get slots
                self.refused[name] = str(exc) if isinstance(exc, LoraMismatch) else f"{type(exc).__name__}: {exc}"
                continue
            states[name] = (components, state)
        if not states:
            return {"slots": 0, "reason": "no declared adapter fits this model", "refused": sorted(self.refused)}
        from peft.utils.hotswap import prepare_model_for_compiled_hotswap

        rank = max(lora_rank(state) for _, state in states.values())
        self.pipe.enable_lora_hotswap(target_rank=rank)
        self.slot_components = sorted({c for components, _ in states.values() for c in components})
        for component in self.slot_components:
            zero = zero_slot([state for components, state in states.values() if component in components], rank)
            for slot in self.slots:  # each its own tensors: diffusers may adopt them as the slot's parameters
                self._load(component, {k: v.clone() for k, v in zero.items()}, slot, hotswap=False)
            model = getattr(self.pipe, component)
            model.set_adapters(self.slots, [0.0] * len(self.slots))  # every slot active, always; scale 0 = unused
            prepare_model_for_compiled_hotswap(model, check_compiled="ignore")  # every slot's scaling a tensor
        return {
            "slots": len(self.slots),
            "target_rank": rank,
            "adapters": sorted(states),
            "refused": sorted(self.refused),
            "seconds": round(time.perf_counter() - started, 3),
        }

    def _load(self, component: str, weights: Any, slot: str, hotswap: bool, **kw: Any) -> None:
        extra = {"load_into_transformer_2": True} if component == "transformer_2" else {}
        self.pipe.load_lora_weights(weights, adapter_name=slot, hotswap=hotswap, **extra, **kw)

    def apply(self, wanted: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        started = time.perf_counter()
        names = [str(w["name"]) for w in wanted]
        check_capacity(names, self.capacity)
        loaded_now, evicted = [], []
        for i, name in enumerate(names):
            if name not in self.loaded:
                taken = set(self.loaded.values())
                free = [s for s in self.slots if s not in taken]
                if free:
                    slot = free[0]
                else:
                    victim = next(n for n in self.loaded if n not in names)
                    slot = self.loaded.pop(victim)
                    evicted.append(victim)
                self._swap(i, name, slot)
                loaded_now.append(name)
            self.loaded.move_to_end(name)
        self._set_scales({str(w["name"]): float(w["scale"]) for w in wanted})
        return report(self, wanted, loaded_now, evicted, started)

    def _swap(self, i: int, name: str, slot: str) -> None:
        if name in self.refused:
            self._set_scales({})
            raise refusal(i, name, self.refused[name])
        adapter = self.declared[name]
        try:
            components = components_for(self.pipe, adapter)
            outside = sorted(set(components) - set(self.slot_components))
            if outside:
                raise LoraMismatch(f"no slot was made in {', '.join(outside)} at load (declare it before the start)")
            file = adapter.weights_file()
            for component in components:
                self._load(
                    component,
                    str(file.parent),
                    slot,
                    hotswap=True,
                    weight_name=file.name,
                    use_safetensors=True,
                    local_files_only=True,
                )
                layers = _lora_layers(getattr(self.pipe, component), slot)
                self._base[(component, slot)] = {n: float(m.scaling[slot]) for n, m in layers}
        except ModelUnavailableError:
            self._set_scales({})  # the slot may hold part of it: unused until another adapter fills it
            raise
        except Exception as exc:  # noqa: BLE001 - peft refuses adapters that do not fit the slots
            self._set_scales({})
            reason = str(exc) if isinstance(exc, LoraMismatch) else f"{type(exc).__name__}: {str(exc)[:300]}"
            self.refused[name] = f"it cannot be hot-swapped into this compiled model: {reason}"
            raise refusal(i, name, self.refused[name]) from None
        self.loaded[name] = slot
        self.components[name] = components
        self.loads += 1

    def _set_scales(self, scales: Mapping[str, float]) -> None:
        """Write each slot's scale into its scaling tensors in place (0 where its adapter is not wanted, or not
        in that denoiser): the compiled graphs read them as inputs, so nothing recompiles."""
        holder = {slot: name for name, slot in self.loaded.items()}
        for component in self.slot_components:
            model = getattr(self.pipe, component)
            for slot in self.slots:
                name = holder.get(slot)
                used = name in scales and component in self.components.get(name, ())
                base = self._base.get((component, slot), {})
                for layer, module in _lora_layers(model, slot):
                    module.scaling[slot].fill_(base.get(layer, 0.0) * scales[name] if used else 0.0)
