"""The ROCm environment: its content, operator precedence, and that it is in place before torch."""

from __future__ import annotations

import json
import subprocess
import sys

from videogen.rocm_env import RAY_OWNED_VARS, apply_rocm_env, rocm_env_vars


def test_mapping_has_allocator_and_miopen_settings_and_no_visibility_vars():
    env = rocm_env_vars({})
    assert "expandable_segments" in env["PYTORCH_HIP_ALLOC_CONF"]
    assert env["MIOPEN_FIND_MODE"]
    assert env["MIOPEN_USER_DB_PATH"] == env["MIOPEN_CUSTOM_CACHE_DIR"]
    assert not RAY_OWNED_VARS & env.keys()


def test_operator_value_wins():
    environ = {"PYTORCH_HIP_ALLOC_CONF": "garbage_collection_threshold:0.6", "HIP_VISIBLE_DEVICES": "3"}
    applied = apply_rocm_env(environ)
    assert environ["PYTORCH_HIP_ALLOC_CONF"] == "garbage_collection_threshold:0.6"
    assert applied["PYTORCH_HIP_ALLOC_CONF"] == "garbage_collection_threshold:0.6"
    assert environ["HIP_VISIBLE_DEVICES"] == "3"  # untouched: Ray's to set
    assert environ["MIOPEN_FIND_MODE"] == "FAST"


# Records the environment at the moment torch is first imported, then runs an entry point.
_PROBE = r"""
import importlib.abc, json, os, sys
seen = {}
class Spy(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" and not seen:
            seen.update({k: os.environ.get(k) for k in ("PYTORCH_HIP_ALLOC_CONF", "MIOPEN_FIND_MODE", "HIP_VISIBLE_DEVICES")})
        return None
sys.meta_path.insert(0, Spy())
entry = sys.argv[1]
if entry == "cli":
    from videogen.cli import main
    import contextlib, io
    with contextlib.redirect_stdout(io.StringIO()):
        main(["runtime", "--json"])
elif entry == "serve_app":
    import serve_app  # noqa: F401
    import torch  # noqa: F401  (the app may not import torch itself; then this is the first import)
print(json.dumps(seen))
"""


def _env_when_torch_imported(entry: str) -> dict:
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("PYTORCH_HIP_ALLOC_CONF", "MIOPEN_FIND_MODE")}
    out = subprocess.run([sys.executable, "-c", _PROBE, entry], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_cli_applies_rocm_env_before_torch_import():
    seen = _env_when_torch_imported("cli")
    assert seen, "torch was never imported"
    assert seen["PYTORCH_HIP_ALLOC_CONF"] == rocm_env_vars({})["PYTORCH_HIP_ALLOC_CONF"]
    assert seen["MIOPEN_FIND_MODE"] == "FAST"
    assert seen["HIP_VISIBLE_DEVICES"] is None


def test_package_import_does_not_import_torch():
    code = "import sys, videogen, videogen.rocm_env, videogen.video.registry, videogen.video.request; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


def test_serve_app_applies_rocm_env_before_torch_import():
    seen = _env_when_torch_imported("serve_app")
    assert seen["PYTORCH_HIP_ALLOC_CONF"] == rocm_env_vars({})["PYTORCH_HIP_ALLOC_CONF"]
    assert seen["MIOPEN_FIND_MODE"] == "FAST"
    assert seen["HIP_VISIBLE_DEVICES"] is None
