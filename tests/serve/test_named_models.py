"""Several named models of one family, without Ray: the config, the deployments the builder binds, the store's
new column (and rows written before it), routing by name, per-model queue bounds and the models view."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
import yaml
from app_inspection import describe_app
from pydantic import ValidationError
from serve_helpers import ROOT
from test_service import FakeWorker
from testkit import queue_job

from videogen.errors import InvalidRequestError, ServiceBusyError, UnknownFamilyError
from videogen.serve.builder import build_app
from videogen.serve.config import VideoGenAppConfig
from videogen.serve.openai.serving import OpenAIVideos
from videogen.serve.service.auth import HANDLE
from videogen.serve.service.videogen_service import VideoGenService
from videogen.serve.store.job_store import JobStore
from videogen.serve.store.records import JobStatus
from videogen.serve.store.replicas import ModelsReport, ReplicaState
from videogen.video.request import VideoRequest

# Wan 2.1 1.3B for drafts (the family's entry), Wan 2.1 14B for finals beside it: two deployments of one family.
TWO_WANS = {
    "families": {"wan": {"model": "tiny", "warm": ["text-to-video"]}, "animatediff": "tiny"},
    "models": {
        "wan-14b": {
            "family": "wan",
            "model": "arch:wan2.1-t2v-14b",
            "warm": [],
            "max_queued_jobs": 2,
            "policy": {"dtype": "fp16", "vae_tiling": "on"},
            "deployment": {"autoscaling_config": {"min_replicas": 0, "max_replicas": 3}},
        }
    },
}


def _cfg(tmp_path, **extra) -> VideoGenAppConfig:
    return VideoGenAppConfig.model_validate({**TWO_WANS, "state_dir": str(tmp_path), **extra})


def test_two_named_wan_models_are_two_worker_deployments_with_their_own_settings(tmp_path):
    cfg = _cfg(tmp_path, num_gpus=1)
    described = describe_app(build_app(cfg))
    assert set(described) == {"VideoGenIngress", "VideoWorker_wan", "VideoWorker_wan-14b", "VideoWorker_animatediff"}
    draft, final = described["VideoWorker_wan"], described["VideoWorker_wan-14b"]
    assert draft["autoscaling_config"]["min_replicas"] == 1 and draft["autoscaling_config"]["max_replicas"] == 1
    assert final["autoscaling_config"]["min_replicas"] == 0 and final["autoscaling_config"]["max_replicas"] == 3
    assert final["ray_actor_options"]["num_gpus"] == 1 and final["max_ongoing_requests"] == 1
    assert "MIOPEN_FIND_MODE" in final["ray_actor_options"]["runtime_env"]["env_vars"]
    (d,), (f,) = draft["init_args"], final["init_args"]
    assert (d.name, d.family, d.model, d.warm, d.policy) == ("wan", "wan", "tiny", ["text-to-video"], {})
    assert (f.name, f.family, f.model, f.warm) == ("wan-14b", "wan", "arch:wan2.1-t2v-14b", [])
    assert f.policy == {"dtype": "float16", "vae_tiling": True}
    assert cfg.queue_bound("wan-14b") == 2 and cfg.queue_bound("wan") == cfg.max_queued_jobs == 64
    assert cfg.served == ["wan", "animatediff"] and cfg.model_names("wan") == ["wan", "wan-14b"]
    assert described["VideoGenIngress"]["init_args"][0] == cfg


def test_a_family_served_only_by_named_models_defaults_to_the_marked_one(tmp_path):
    cfg = VideoGenAppConfig.model_validate(
        {
            "state_dir": str(tmp_path),
            "families": [],
            "models": {"wan-draft": {"family": "wan"}, "wan-final": {"family": "wan", "default": True}},
        }
    )
    assert cfg.served == ["wan"] and cfg.model_names("wan") == ["wan-final", "wan-draft"]
    assert cfg.resolve_model("wan", None).name == "wan-final"
    assert cfg.model_of("wan", None) == "wan-final"  # a row without a model name: the family's default
    assert set(describe_app(build_app(cfg))) == {"VideoGenIngress", "VideoWorker_wan-draft", "VideoWorker_wan-final"}
    alone = VideoGenAppConfig(families=[], models={"wan-draft": {"family": "wan"}}, state_dir=str(tmp_path))
    assert alone.default_model("wan").name == "wan-draft"  # a family's only model is its default


def test_todays_one_model_config_is_unchanged(tmp_path):
    cfg = VideoGenAppConfig(families=["wan", "ltx-video"], state_dir=str(tmp_path))
    assert cfg.models == {} and list(cfg.served_models) == ["wan", "ltx-video"]
    assert all(m.default and m.name == m.family for m in cfg.served_models.values())
    assert set(describe_app(build_app(cfg))) == {"VideoGenIngress", "VideoWorker_wan", "VideoWorker_ltx-video"}
    assert cfg.resolve_model("wan", None).name == "wan" and cfg.resolve_model("wan", "wan").name == "wan"


@pytest.mark.parametrize(
    ("config", "needles"),
    [
        ({"models": {"Wan 14B": {"family": "wan"}}}, ["models", "Wan 14B", "a-z0-9"]),
        ({"models": {"x" * 65: {"family": "wan"}}}, ["models", "is not a model name"]),
        ({"models": {"wan": {"family": "wan"}}}, ["models", "is a family id"]),
        ({"models": {"sora-2": {"family": "sora"}}}, ["models.sora-2.family", "sora", "ltx-video"]),
        ({"families": ["wan"], "models": {"w2": {"family": "wan", "default": True}}}, ["models.w2.default"]),
        (
            {"families": [], "models": {"a": {"family": "wan"}, "b": {"family": "wan"}}},
            ["models", "mark exactly one default", "['a', 'b']"],
        ),
        (
            {"families": [], "models": {"a": {"family": "wan", "default": True}, "b": {"family": "wan", "default": 1}}},
            ["marked: ['a', 'b']"],
        ),
        ({"models": {"w2": {"family": "wan", "model": "arch:cogvideox-2b"}}}, ["models.w2.model", "cogvideox"]),
        ({"models": {"w2": {"family": "wan", "deployment": {"num_gpu": 1}}}}, ["num_gpu"]),
        ({"models": {"w2": {"family": "wan"}}, "model_aliases": {"w2": "wan"}}, ["model_aliases", "w2"]),
        ({"models": {"w2": {"family": "wan"}}, "model_aliases": {"big": "w3"}}, ["model_aliases", "w3"]),
    ],
)
def test_named_model_config_errors_name_the_field(config, needles):
    with pytest.raises(ValidationError) as info:
        VideoGenAppConfig.model_validate(config)
    for needle in needles:
        assert needle in str(info.value)


def test_the_config_is_frozen_down_to_each_model(tmp_path):
    cfg = _cfg(tmp_path)
    with pytest.raises(ValidationError):
        cfg.models["wan-14b"].model = "tiny"
    with pytest.raises(ValidationError):
        cfg.families["wan"].warm = []


# -- the store ---------------------------------------------------------------------------------------------
OLD_JOBS = """CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, status TEXT NOT NULL,
    family TEXT NOT NULL, task TEXT NOT NULL, request_json TEXT NOT NULL, image TEXT, model_json TEXT, params_json TEXT,
    adjustments_json TEXT NOT NULL DEFAULT '[]', progress_json TEXT, stages_json TEXT NOT NULL DEFAULT '[]',
    error_json TEXT, result_json TEXT, worker_json TEXT, history_json TEXT NOT NULL DEFAULT '[]', estimate_json TEXT,
    created_at REAL NOT NULL, started_at REAL, finished_at REAL, updated_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL DEFAULT 2, claim_token TEXT,
    heartbeat_at REAL, dispatcher TEXT, lease_until REAL, cancel_requested INTEGER NOT NULL DEFAULT 0, owner TEXT);
CREATE TABLE replicas (replica_id TEXT PRIMARY KEY, family TEXT NOT NULL, deployment TEXT, app TEXT, node_id TEXT,
    node_ip TEXT, pid INTEGER, state TEXT NOT NULL, diagnostics_json TEXT, models_json TEXT,
    started_at REAL NOT NULL, last_seen REAL NOT NULL);
INSERT INTO jobs(id, status, family, task, request_json, created_at, updated_at, dispatcher, lease_until)
    VALUES ('job_old', 'queued', 'wan', 'text-to-video', '{"family": "wan", "prompt": "x"}', 1, 1, 'mine', 9e99);
"""


def test_a_state_dir_from_before_named_models_gains_the_column_and_its_rows_read_as_the_default(tmp_path):
    conn = sqlite3.connect(tmp_path / "jobs.sqlite3")
    conn.executescript(OLD_JOBS)
    conn.close()
    store = JobStore(tmp_path)  # opening it migrates
    for table in ("jobs", "replicas"):
        assert "model_name" in {r[1] for r in store.db.conn().execute(f"PRAGMA table_info({table})")}
    old = store.jobs.get("job_old")
    assert old.model_name is None and old.request == {"family": "wan", "prompt": "x"}
    cfg = _cfg(tmp_path)
    assert cfg.model_of(old.family, old.model_name) == "wan"
    assert store.jobs.queued_by("mine") == [("job_old", "wan", None)]
    new = queue_job(store, model_name="wan-14b")
    assert store.jobs.get(new.id).model_name == "wan-14b"
    assert store.jobs.counts_by_model() == {("wan", None): {"queued": 1}, ("wan", "wan-14b"): {"queued": 1}}
    JobStore(tmp_path)  # a second open (another replica) finds the column there already


def test_dispatch_and_the_reapers_rescan_route_by_the_stored_model_name(tmp_path):
    async def main():
        svc = VideoGenService(_cfg(tmp_path), workers={})
        default, big = FakeWorker(svc.store), FakeWorker(svc.store)
        svc.dispatcher.workers.update({"wan": default, "wan-14b": big})
        job = await svc.jobs.submit({"family": "wan", "model": "wan-14b", "prompt": "a fox"})
        assert job.model_name == "wan-14b" and job.request["model"] == "wan-14b"
        assert job.model == {"family": "wan", "name": "wan-14b", "source": "arch:wan2.1-t2v-14b"}
        assert (await svc.jobs.wait(job.id, timeout_s=5)).status == JobStatus.SUCCEEDED
        plain = await svc.jobs.submit(VideoRequest(family="wan", prompt="a fox"))
        assert plain.model_name == "wan" and plain.model["name"] == "wan" and plain.model["source"] == "tiny"
        assert (await svc.jobs.wait(plain.id, timeout_s=5)).status == JobStatus.SUCCEEDED
        assert big.calls == [job.id] and default.calls == [plain.id]
        # Rows whose dispatcher died: the reaper takes them over and sends each where its record says.
        common = dict(dispatcher="dead-ingress", lease_s=-1)
        orphan_big = queue_job(svc.store, model_name="wan-14b", **common)
        orphan_old = queue_job(svc.store, **common)  # no model name: a row from before named models
        await svc.dispatcher.reap_once()
        for rec in (orphan_big, orphan_old):
            assert (await svc.jobs.wait(rec.id, timeout_s=5)).status == JobStatus.SUCCEEDED
        assert big.calls[-1] == orphan_big.id and default.calls[-1] == orphan_old.id

    asyncio.run(main())


def test_an_unknown_or_another_familys_model_is_refused_naming_model(tmp_path):
    svc = VideoGenService(_cfg(tmp_path), workers={})
    for family, name, why in (("wan", "wan-1b", "is not served here"), ("animatediff", "wan-14b", "is a wan model")):
        with pytest.raises(InvalidRequestError) as info:
            svc.jobs.validate(VideoRequest(family=family, model=name, prompt="x"))
        assert info.value.field == "model" and why in info.value.message
        assert info.value.allowed == svc.settings.model_names(family)
    assert svc.settings.model_names("animatediff") == ["animatediff"]
    with pytest.raises(InvalidRequestError) as info:
        svc.jobs.parse({"family": "wan", "model": "m" * 65, "prompt": "x"})
    assert info.value.field == "model"
    assert svc.store.jobs.counts() == {}  # nothing was queued


def test_the_queue_bound_is_per_named_model(tmp_path):
    async def main():
        svc = VideoGenService(_cfg(tmp_path), workers={})
        hold = FakeWorker(svc.store, hold=True)
        svc.dispatcher.workers.update({"wan": hold, "wan-14b": hold})
        for _ in range(2):
            await svc.jobs.submit({"family": "wan", "model": "wan-14b", "prompt": "x"})
        with pytest.raises(ServiceBusyError) as info:
            await svc.jobs.submit({"family": "wan", "model": "wan-14b", "prompt": "x"})
        assert "wan-14b queue is full" in info.value.message and info.value.details["max_queued_jobs"] == 2
        # The family's default model has its own queue (the app's bound), untouched by the full one.
        assert (await svc.jobs.submit({"family": "wan", "prompt": "x"})).model_name == "wan"
        hold.release.set()

    asyncio.run(main())


def test_the_models_view_lists_each_served_model_with_its_own_support(tmp_path):
    svc = VideoGenService(_cfg(tmp_path), workers={})
    svc.store.replicas.report(
        {"replica_id": "app#VideoWorker_wan-14b#1"},
        family="wan",
        model_name="wan-14b",
        state=ReplicaState.IDLE,
        diagnostics={"hardware_profile": {"device_name": "H200"}},
        models=ModelsReport(
            describe={"effective_support_level": "ready", "task_support": {"text-to-video": "ready"}},
            model_meta={"text-to-video": {"tiny": True, "request_defaults": {"num_frames": 17}}},
        ),
    )
    view = svc.status.models()
    families = {m["id"]: m for m in view["models"]}
    assert view["served_families"] == ["wan", "animatediff"]  # the keys the page reads are kept
    assert families["wan"]["model_names"] == ["wan", "wan-14b"]
    assert families["wan"]["effective_support_level"] == "unknown"  # the family's entry is its default's
    served = {m["name"]: m for m in view["served_models"]}
    assert list(served) == ["wan", "animatediff", "wan-14b"]
    big = served["wan-14b"]
    assert (big["family"], big["default"], big["source"]) == ("wan", False, "arch:wan2.1-t2v-14b")
    assert big["effective_support_level"] == "ready" and big["reported_by"] == "app#VideoWorker_wan-14b#1"
    assert big["hardware"] == "H200" and big["deployment"] == "VideoWorker_wan-14b"
    assert big["request_defaults"]["text-to-video"]["num_frames"] == 17
    assert served["wan"]["default"] and served["wan"]["task_support"]["text-to-video"] == "unknown"
    assert "first-last-frame" in big["tasks"]
    runtime = svc.status.runtime()["families"]["wan"]
    assert runtime["deployment"] == "VideoWorker_wan" and list(runtime["models"]) == ["wan", "wan-14b"]
    assert runtime["models"]["wan-14b"]["deployment"] == "VideoWorker_wan-14b"


def test_v1_model_names_a_named_model_or_an_alias_of_one(tmp_path):
    async def main():
        svc = VideoGenService(_cfg(tmp_path, model_aliases={"wan2.1-t2v-14b": "wan-14b"}), workers={})
        svc.dispatcher.workers.update({"wan": FakeWorker(svc.store), "wan-14b": FakeWorker(svc.store)})
        v1 = OpenAIVideos(svc)
        for model, name in (("wan-14b", "wan-14b"), ("wan2.1-t2v-14b", "wan-14b"), ("wan", "wan"), (None, "wan")):
            video = await v1.create({"model": model, "prompt": "a fox"}, HANDLE)
            assert svc.store.jobs.get(video.id).model_name == name, model
            assert video.model == (model or "wan")
        with pytest.raises(UnknownFamilyError) as info:
            await v1.create({"model": "wan-1b", "prompt": "x"}, HANDLE)
        assert info.value.field == "model" and {"wan-14b", "wan2.1-t2v-14b", "wan"} <= set(info.value.allowed)

    asyncio.run(main())


def test_the_readme_example_is_a_valid_config(tmp_path):
    section = (ROOT / "README.md").read_text().split("### Several models of one family", 1)[1]
    example = yaml.safe_load(section.split("```yaml", 1)[1].split("```", 1)[0])["args"]
    cfg = VideoGenAppConfig.model_validate({**example, "state_dir": str(tmp_path)})
    assert cfg.model_names("wan") == ["wan", "wan-14b"] and cfg.queue_bound("wan-14b") == 8
    assert set(describe_app(build_app(cfg))) == {"VideoGenIngress", "VideoWorker_wan", "VideoWorker_wan-14b"}
