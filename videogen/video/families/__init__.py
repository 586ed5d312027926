# TEMPORARY SHIM (helper A replaces this with the real families package)
from videogen.video.adapters import get_adapter  # noqa: F401
from videogen.video.registry import FAMILY_IDS, SPECS, get_spec  # noqa: F401
