"""A separate Ray driver using the VideoGen handle API (run by test_serve_handle.py).

    RAY_ADDRESS=<gcs address> python tests/serve/handle_client.py OUT_DIR NAMED_MODEL

Errors reach this driver as the core's typed errors (``videogen.errors``),
pickled across Ray: the report records what arrived.
"""

import json
import sys
from pathlib import Path

import ray
from ray import serve

from videogen.errors import InvalidRequestError, JobNotFoundError, UnknownFamilyError

out = Path(sys.argv[1])
ray.init(address="auto")  # joins the running cluster (RAY_ADDRESS)
handle = serve.get_app_handle("videogen")


def caught(exc: Exception) -> dict:
    return {
        "type": type(exc).__name__,
        "error": exc.to_dict(),
        "is_invalid_request": isinstance(exc, InvalidRequestError),
    }


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

# Bad input raises the core's typed error, with the same body as HTTP's "error".
try:
    handle.submit.remote({"family": "sora", "prompt": "x"}).result()
except UnknownFamilyError as exc:
    report["rejected"] = caught(exc)
try:
    handle.submit.remote({"family": "wan", "prompt": "x", "num_frames": 100000}).result()
except InvalidRequestError as exc:
    report["invalid"] = caught(exc)
try:
    handle.get_job.remote("job_nope").result()
except JobNotFoundError as exc:
    report["not_found"] = caught(exc)

# A named model of the family (the shared app's second wan, tests/serve/conftest.py), and one it does not serve.
report["named"] = handle.submit.remote(
    {"family": "wan", "model": sys.argv[2], "prompt": "a fox", "seed": 1, "num_inference_steps": 2}
).result()
try:
    handle.submit.remote({"family": "wan", "model": "wan-nope", "prompt": "x"}).result()
except InvalidRequestError as exc:
    report["unknown_model"] = caught(exc)

report["fetched"] = handle.get_job.remote(job["id"]).result()["id"]
report["listed"] = handle.list_jobs.remote(limit=1).result()
report["node_id"] = ray.get_runtime_context().get_node_id()
(out / "report.json").write_text(json.dumps(report))
print("ok")
