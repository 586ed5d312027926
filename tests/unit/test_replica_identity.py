"""A worker built outside Ray (the tests build them in-process) must not start or attach to a Ray cluster."""

from __future__ import annotations

import json
import subprocess
import sys


def test_the_identity_outside_ray_starts_no_cluster():
    code = (
        "import json, ray\n"
        "from videogen.serve.replica_identity import replica_identity\n"
        "info = replica_identity()\n"
        "print(json.dumps({'initialized': ray.is_initialized(), 'info': info}))\n"
    )
    env_free = {"RAY_ENABLE_AUTO_CONNECT": "1"}  # what a bare ray call does by default: auto-init
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env={**_env(), **env_free}
    )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["initialized"] is False
    assert seen["info"]["replica_id"].startswith("local#") and "node_id" not in seen["info"]


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
