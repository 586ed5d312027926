"""A separate Ray driver using the VideoGen handle API (run by test_serve_handle.py).

    RAY_ADDRESS=<gcs address> python tests/serve/handle_client.py OUT_DIR
"""

import json
import sys
from pathlib import Path

import ray
from ray import serve

out = Path(sys.argv[1])
ray.init(address="auto")  # joins the running cluster (RAY_ADDRESS)
handle = serve.get_app_handle("videogen")

report = {}
# submit(): returns the job at once.
job = handle.submit.remote({"family": "wan", "prompt": "a red fox in the snow", "seed": 1}).result()
report["submitted"] = job

# generate(): waits, returns the finished job and the MP4 bytes.
result = handle.generate.remote(
    {"family": "ltx-video", "task": "text-to-video", "prompt": "waves at dusk", "seed": 2, "fps": 12}
).result()
(out / "handle.mp4").write_bytes(result["video"])
report["generated"] = result["job"]

# Bad input raises JobRejectedError with the same error body as HTTP.
from videogen.serve.errors import JobRejectedError  # noqa: E402

try:
    handle.submit.remote({"family": "sora", "prompt": "x"}).result()
except JobRejectedError as exc:
    report["rejected"] = {"type": type(exc).__name__, "error": exc.error, "status": exc.status}

report["fetched"] = handle.get_job.remote(job["id"]).result()["id"]
report["node_id"] = ray.get_runtime_context().get_node_id()
(out / "report.json").write_text(json.dumps(report))
print("ok")
