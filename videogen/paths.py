"""Where VideoGen keeps files on disk: one definition of each directory.

``cache_root()`` holds the tiny models and MIOpen's kernel database; the serve
state directory (SQLite job store and videos) defaults under it. Both follow
environment variables an operator sets, read on every call so a setting made
after import still applies.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

CACHE_DIR_ENV = "VIDEOGEN_CACHE_DIR"
STATE_DIR_ENV = "VIDEOGEN_STATE_DIR"


def cache_root(environ: Mapping[str, str] | None = None) -> str:
    """``$VIDEOGEN_CACHE_DIR``, else ``~/.cache/videogen``."""
    environ = os.environ if environ is None else environ
    return environ.get(CACHE_DIR_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "videogen")


def default_state_dir(environ: Mapping[str, str] | None = None) -> str:
    """``$VIDEOGEN_STATE_DIR``, else ``<cache root>/state``."""
    environ = os.environ if environ is None else environ
    return environ.get(STATE_DIR_ENV) or os.path.join(cache_root(environ), "state")


def node_state_dir(configured: str) -> str:
    """The app's ``state_dir`` as a replica on this node sees it: the variables left in it (set on each node, not
    where the app was built, e.g. ``$VIDEOGEN_STATE_DIR``) expanded from this process's environment. For
    PostgreSQL with s3 artifacts, where ``state_dir`` holds only this node's renders until they are uploaded."""
    path = os.path.expandvars(configured)
    if "$" in path:
        raise ValueError(f"state_dir {configured!r} names an environment variable this node does not set")
    return os.path.abspath(os.path.expanduser(path))
