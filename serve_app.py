"""The VideoGen Serve application.

    serve run --name videogen serve_app:app             # every family on its tiny model (CPU box OK)
    serve run --name videogen serve_app:build_app families=wan,ltx-video num_gpus=0
    serve run deploy/cpu-tiny.yaml                      # the same through a Serve config file

``app`` is built from the defaults of ``VideoGenAppConfig``: all seven families
on the built-in tiny models, state under ``$VIDEOGEN_STATE_DIR`` (default
``<cache dir>/state``, see ``videogen.paths``), and ``num_gpus="auto"``: each worker asks for one
GPU when this machine (or the running Ray cluster) has one, none otherwise, so
the default app never waits forever for a GPU that does not exist.
"""

# Like every entry point: the ROCm environment first, before anything can import torch.
# Worker replicas get the same mapping through runtime_env.env_vars (and re-apply it).
from videogen.rocm_env import apply_rocm_env

apply_rocm_env()

from videogen.serve.builder import build_app
from videogen.serve.config import FamilyConfig, VideoGenAppConfig

app = build_app(VideoGenAppConfig())

__all__ = ["app", "build_app", "VideoGenAppConfig", "FamilyConfig"]
