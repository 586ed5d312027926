"""The hardware/load-policy public names in one import (the code lives in the modules named below).

- ``videogen.video.hardware``: ``VideoHardwareProfile`` (detect, synthetic, VRAM tier, bf16), gfx helpers;
- ``videogen.video.policy_overrides``: the overridable fields, their parsing and ``validate_policy_overrides``;
- ``videogen.video.policy``: ``VideoLoadPolicy.derive`` and the tier table;
- ``videogen.video.placement``: ``apply_load_policy``.
"""

from videogen.video.hardware import APU_GFX_ARCHS, TIERS, Backend, VideoHardwareProfile, gfx_has_bf16
from videogen.video.placement import apply_load_policy
from videogen.video.policy import TIER_TABLE, VideoLoadPolicy
from videogen.video.policy_overrides import (
    DTYPES,
    ENV_PREFIX,
    OVERRIDABLE_FIELDS,
    PLACEMENTS,
    DType,
    Placement,
    validate_policy_overrides,
)

__all__ = [
    "APU_GFX_ARCHS",
    "DTYPES",
    "ENV_PREFIX",
    "OVERRIDABLE_FIELDS",
    "PLACEMENTS",
    "TIERS",
    "TIER_TABLE",
    "Backend",
    "DType",
    "Placement",
    "VideoHardwareProfile",
    "VideoLoadPolicy",
    "apply_load_policy",
    "gfx_has_bf16",
    "validate_policy_overrides",
]
