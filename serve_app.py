"""The VideoGen Serve application.

    serve run --name videogen serve_app:app             # every family on its tiny model (CPU box OK)
    serve run --name videogen serve_app:build_app families=wan,ltx-video num_gpus=0
    serve run deploy/cpu-tiny.yaml                      # the same through a Serve config file

``app`` is built from the defaults of ``VideoGenAppConfig``: all seven families
on the built-in tiny models, state under ``$VIDEOGEN_STATE_DIR`` (default
``~/.cache/videogen/state``), and ``num_gpus="auto"``: each worker asks for one
GPU when this machine (or the running Ray cluster) has one, none otherwise, so
the default app never waits forever for a GPU that does not exist.
"""

# Nothing here imports torch: the ROCm environment reaches each worker replica through
# its runtime_env.env_vars (and the replica re-applies it before importing torch).
from videogen.serve.builder import build_app
from videogen.serve.config import FamilyConfig, VideoGenAppConfig

app = build_app(VideoGenAppConfig())

__all__ = ["app", "build_app", "VideoGenAppConfig", "FamilyConfig"]
