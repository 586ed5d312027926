"""The wire shapes and the error mapping, without Ray: ``Job.from_record``, ``JobList``, error bodies."""

from __future__ import annotations

import ast
import json
import pickle
from pathlib import Path

import pytest

import videogen
from videogen.errors import (
    ErrorCode,
    GenerationCancelled,
    InvalidRequestError,
    JobFailedError,
    JobNotFoundError,
    JobStateError,
    ModelUnavailableError,
    UnauthorizedError,
    UnknownFamilyError,
    UnsupportedTaskError,
    VideoGenError,
)
from videogen.serve.errors import HTTP_STATUS, error_body, http_status, request_validation_error
from videogen.serve.protocol import ErrorBody, Job, JobList, video_url
from videogen.serve.store.records import JobRecord, JobStatus
from videogen.video.progress import Progress, StageTiming


def _record(**kw) -> JobRecord:
    base = dict(
        id="job_1",
        status=JobStatus.SUCCEEDED,
        family="wan",
        task="text-to-video",
        request={"prompt": "x"},
        image="QUJD",
        claim_token="secret",
        dispatcher="ingress#1",
        lease_until=5.0,
        heartbeat_at=4.0,
        created_at=1.0,
        started_at=2.0,
        finished_at=3.0,
        updated_at=3.0,
        attempts=1,
        max_attempts=2,
        progress=Progress(stage="done", step=2, total_steps=2, percent=100.0, eta_s=0.0),
        stages=[StageTiming(name="loading", started_at=2.0, finished_at=2.5, seconds=0.5)],
        result={"frames": 9, "width": 32, "height": 32, "fps": 8, "bytes": 1234},
    )
    return JobRecord(**{**base, **kw})


def test_job_from_record_adds_the_video_url_and_keeps_private_fields_out():
    job = Job.from_record(_record()).wire()
    assert job["result"] == {
        "frames": 9,
        "width": 32,
        "height": 32,
        "fps": 8,
        "bytes": 1234,
        "measured": None,
        "video_url": "/api/video/jobs/job_1/video",
        "outputs": {},
    }
    assert video_url("job_1") == job["result"]["video_url"]
    assert job["status"] == "succeeded" and job["progress"]["percent"] == 100.0
    assert job["stages"][0] == {
        "name": "loading",
        "started_at": 2.0,
        "finished_at": 2.5,
        "seconds": 0.5,
        "detail": None,
    }
    for private in ("image", "claim_token", "dispatcher", "lease_until", "heartbeat_at"):
        assert private not in job
    # Every key the HTTP API has always sent, and the ones added since: the estimate at submission
    # (issue 7), when the video expires (retention, issue 9) and the named model it runs on (issue 14).
    assert set(job) == {
        "id",
        "status",
        "family",
        "task",
        "model",
        "request",
        "params",
        "adjustments",
        "progress",
        "stages",
        "error",
        "result",
        "created_at",
        "started_at",
        "finished_at",
        "updated_at",
        "attempts",
        "max_attempts",
        "cancel_requested",
        "worker",
        "history",
        "estimate",
        "expires_at",
        "model_name",
    }
    json.dumps(job)  # JSON-ready as it is


def test_a_job_without_a_result_has_no_video_url_and_its_error_has_the_to_dict_shape():
    error = JobStateError("nope").to_dict()
    job = Job.from_record(_record(status=JobStatus.FAILED, result=None, error=error)).wire()
    assert job["result"] is None and job["error"] == error == {"code": "job_state", "message": "nope"}
    invalid = InvalidRequestError("num_frames", "too many", allowed={"max": 9}).to_dict()
    assert Job.from_record(_record(error=invalid)).wire()["error"] == invalid


def test_job_list_pages():
    records = [_record(id=f"job_{i}") for i in range(2)]
    page = JobList.page(records, total=5, limit=2, offset=2).model_dump(mode="json")
    assert [j["id"] for j in page["jobs"]] == ["job_0", "job_1"] and page["next_offset"] == 4
    assert JobList.page(records, total=4, limit=2, offset=2).next_offset is None


def test_error_body_leaves_unset_optionals_out():
    assert ErrorBody(code="x", message="m").model_dump() == {"code": "x", "message": "m"}
    assert ErrorBody(code="x", message="m", field="f", allowed=[1]).model_dump() == {
        "code": "x",
        "message": "m",
        "field": "f",
        "allowed": [1],
    }


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (UnauthorizedError("no"), 401),
        (JobNotFoundError("no"), 404),
        (JobStateError("no"), 409),
        (GenerationCancelled("no"), 409),
        (InvalidRequestError("a", "no"), 422),
        (UnknownFamilyError("family", "no"), 422),
        (UnsupportedTaskError("no"), 422),
        (ModelUnavailableError("no"), 503),
        (VideoGenError("no"), 500),
        (JobFailedError("no"), 500),
    ],
)
def test_every_error_code_has_one_status(exc, status):
    assert http_status(exc) == status
    assert error_body(exc) == {"error": exc.to_dict()}


def test_the_status_map_is_keyed_by_code():
    assert all(isinstance(code, ErrorCode) for code in HTTP_STATUS)


def _names_used(tree: ast.AST, skip: str | None = None) -> tuple[set[str], set[str]]:
    """(names and attributes, string constants) in ``tree``, except under an assignment to ``skip``."""
    found: set[str] = set()
    strings: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == skip for t in targets):
                return
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.alias):
            found.add(node.name)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.add(node.value)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found, strings


def dead_error_codes(package: Path) -> set[ErrorCode]:
    """Codes nothing can produce: named nowhere outside ``videogen/errors.py`` (a status in ``HTTP_STATUS`` is no
    use), and not the code of an error class used outside it."""
    used: set[str] = set()
    strings: set[str] = set()
    for path in package.rglob("*.py"):
        if path != package / "errors.py":
            names, texts = _names_used(ast.parse(path.read_text()), "HTTP_STATUS" if path.name == "errors.py" else None)
            used |= names
            strings |= texts
    classes, todo = set(), [VideoGenError]
    while todo:
        cls = todo.pop()
        classes.add(cls)
        todo += cls.__subclasses__()
    live = {cls.code for cls in classes if cls.__name__ in used and cls.__module__ == "videogen.errors"}
    return {code for code in ErrorCode if code not in live and code.name not in used and code.value not in strings}


def test_every_error_code_can_be_produced():
    assert dead_error_codes(Path(videogen.__file__).parent) == set()


def test_a_code_only_in_the_status_map_is_dead(tmp_path):
    (tmp_path / "serve").mkdir()
    (tmp_path / "serve" / "errors.py").write_text("HTTP_STATUS = {ErrorCode.OVERLOADED: 503}\n")
    (tmp_path / "a.py").write_text(
        "raise JobNotFoundError('x')\nERRORS = (ErrorCode.STORE_BUSY, 'invalid_request')\nserve.timeout()\n"
    )
    dead = dead_error_codes(tmp_path)
    assert {ErrorCode.OVERLOADED, ErrorCode.JOB_STATE, ErrorCode.TIMEOUT} <= dead
    assert not {ErrorCode.JOB_NOT_FOUND, ErrorCode.STORE_BUSY, ErrorCode.INVALID_REQUEST} & dead


def test_pydantic_errors_name_the_field_and_the_bound():
    exc = request_validation_error(
        [
            {
                "type": "less_than_equal",
                "loc": ("body", "num_frames"),
                "msg": "Input should be less than or equal to 1024",
                "ctx": {"le": 1024},
            }
        ]
    )
    assert isinstance(exc, InvalidRequestError)
    assert error_body(exc)["error"] == {
        "code": "invalid_request",
        "field": "num_frames",
        "allowed": {"le": 1024},
        "message": "num_frames: Input should be less than or equal to 1024",
    }


def test_several_pydantic_errors_the_first_names_the_field():
    exc = request_validation_error(
        [
            {"type": "missing", "loc": ("body", "prompt"), "msg": "Field required"},
            {"type": "extra_forbidden", "loc": ("body", "model"), "msg": "Extra inputs are not permitted"},
        ]
    )
    assert exc.field == "prompt" and exc.message == "prompt: is required; model: is not a known field"
    assert [e["field"] for e in exc.to_dict()["details"]["errors"]] == ["prompt", "model"]
    broken = request_validation_error([{"type": "json_invalid", "loc": ("body", 3), "msg": "JSON decode error"}])
    assert broken.field == "body" and broken.message == "body: is not valid JSON"


def test_errors_pickle_with_their_fields():
    # What crosses a Ray handle (the serve handle test checks it for real).
    job = Job.from_record(_record(status=JobStatus.FAILED)).wire()
    for exc in (
        UnknownFamilyError("family", "'sora' is not served", allowed=["wan"]),
        JobFailedError("job_1 failed", job=job),
        JobNotFoundError("gone", job_id="job_1"),
    ):
        again = pickle.loads(pickle.dumps(exc))
        assert type(again) is type(exc) and again.to_dict() == exc.to_dict() and str(again) == str(exc)
    assert pickle.loads(pickle.dumps(JobFailedError("x", job=job))).job == job


def test_job_result_lists_each_picture_with_its_url():
    outputs = {"thumbnail": {"bytes": 10, "media_type": "image/jpeg", "frame": 4}}
    job = Job.from_record(
        _record(result={"frames": 9, "width": 32, "height": 32, "fps": 8, "bytes": 1, "outputs": outputs})
    ).wire()
    assert job["result"]["outputs"]["thumbnail"] == {
        **outputs["thumbnail"],
        "url": "/api/video/jobs/job_1/video?variant=thumbnail",
    }
