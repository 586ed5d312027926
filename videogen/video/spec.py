# TEMPORARY SHIM (helper A replaces this with the real spec types module)
from videogen.video.registry import (  # noqa: F401
    IMAGE_TO_VIDEO, TASKS, TEXT_TO_VIDEO, Defaults, FrameRule, SupportLevel, Task, VideoModelSpec,
)
