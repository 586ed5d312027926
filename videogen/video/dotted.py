"""``"module:name"`` references, resolved where they are used.

Code that must not import a heavy module up front (a family's cost probe and its torch, a latent upsampler's class,
a preset's code-built part) names it as ``"module:name"`` and resolves it here, on first use.
"""

from __future__ import annotations

import importlib
from typing import Any


def resolve(path: str) -> Any:
    """The object ``"module:name"`` names (the module imported now if it was not)."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


__all__ = ["resolve"]
