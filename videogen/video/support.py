# TEMPORARY SHIM (helper A replaces this with the real effective-support module)
from videogen.video.registry import TaskSupport, describe_model, resolve_task_support  # noqa: F401
