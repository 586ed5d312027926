"""The builder and its config, inspected without starting Ray."""

from __future__ import annotations

import pytest
import yaml
from app_inspection import describe_app
from pydantic import ValidationError
from serve_helpers import ROOT

from videogen.rocm_env import default_rocm_env
from videogen.serve.builder import build_app
from videogen.serve.config import VideoGenAppConfig
from videogen.serve.deployment_options import worker_deployment_options
from videogen.serve.replica_settings import WorkerSettings
from videogen.video.registry import FAMILY_IDS, get_spec


def _yaml(name: str) -> dict:
    return yaml.safe_load((ROOT / "deploy" / name).read_text())


def test_default_app_serves_every_family_on_tiny_models(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))  # serve_app.py sits at the repo root
    import serve_app

    described = describe_app(serve_app.app)
    assert set(described) == {"VideoGenIngress", *(f"VideoWorker_{f}" for f in FAMILY_IDS)}
    settings = described["VideoGenIngress"]["init_args"][0]
    assert isinstance(settings, VideoGenAppConfig)  # the validated config itself, bound typed
    assert {f: c.model for f, c in settings.families.items()} == {f: "tiny" for f in FAMILY_IDS}
    assert serve_app.build_app is build_app
    # The ingress runs its code and its handles' router on the replica's own event loop (fewer thread hops per
    # submission); an operator's env vars for it merge with these key by key.
    env = described["VideoGenIngress"]["ray_actor_options"]["runtime_env"]["env_vars"]
    assert env == {"RAY_SERVE_RUN_USER_CODE_IN_SEPARATE_THREAD": "0", "RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP": "0"}
    cfg = VideoGenAppConfig(
        families=["wan"], ingress={"ray_actor_options": {"runtime_env": {"env_vars": {"TZ": "UTC"}}}}
    )
    merged = describe_app(build_app(cfg))["VideoGenIngress"]["ray_actor_options"]["runtime_env"]["env_vars"]
    assert merged == {**env, "TZ": "UTC"}


def test_worker_defaults_gpu_one_request_autoscaling_health_shutdown(tmp_path):
    cfg = VideoGenAppConfig(families=["wan"], num_gpus=1, state_dir=str(tmp_path))
    opts = describe_app(build_app(cfg))["VideoWorker_wan"]
    assert opts["ray_actor_options"]["num_gpus"] == 1
    assert opts["max_ongoing_requests"] == 1
    auto = opts["autoscaling_config"]
    assert auto["min_replicas"] == 1 and auto["target_ongoing_requests"] == 1 and auto["downscale_delay_s"] >= 300
    # A scale-down waits for the running job as long as it may run (issue 18); a stuck one fails at job_timeout_s.
    assert opts["graceful_shutdown_timeout_s"] == cfg.job_timeout_s + 60 and cfg.shutdown_timeout_s is None
    assert opts["health_check_period_s"] <= 30
    env = opts["ray_actor_options"]["runtime_env"]["env_vars"]
    for key in default_rocm_env():
        assert key in env
    assert not {"HIP_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES"} & env.keys()
    worker_settings = opts["init_args"][0]
    assert isinstance(worker_settings, WorkerSettings)
    assert worker_settings.family == "wan" and worker_settings.state_dir == str(tmp_path)
    # Every task the family offers (the list grows as the core adds tasks), text-to-video first.
    assert worker_settings.warm == list(get_spec("wan").tasks) and worker_settings.warm[0] == "text-to-video"
    assert worker_settings.name == "wan"  # a family's entry is the served model named by the family id
    assert worker_settings.heartbeat_s == pytest.approx(cfg.heartbeat_timeout_s / 6)
    assert worker_settings.job_timeout_s == cfg.job_timeout_s


def test_overrides_merge_and_keep_rocm_env(tmp_path):
    cfg = VideoGenAppConfig.model_validate(
        {
            "state_dir": str(tmp_path),
            "num_gpus": 1,
            "env_vars": {"VIDEOGEN_CACHE_DIR": "/cache"},
            "worker_defaults": {"ray_actor_options": {"num_cpus": 2, "runtime_env": {"env_vars": {"A": "1"}}}},
            "families": {
                "wan": {
                    "model": "/models/wan",
                    "deployment": {
                        # what a YAML override of num_gpus looks like: a whole ray_actor_options dict
                        "ray_actor_options": {
                            "num_gpus": 0.5,
                            "runtime_env": {"env_vars": {"MIOPEN_FIND_MODE": "NORMAL"}},
                        },
                        "autoscaling_config": {"min_replicas": 0, "max_replicas": 3},
                    },
                },
                "ltx-video": {"deployment": {"num_replicas": 2}},
            },
        }
    )
    wan = worker_deployment_options("wan", cfg)
    actor = wan["ray_actor_options"]
    assert actor["num_gpus"] == 0.5 and actor["num_cpus"] == 2
    env = actor["runtime_env"]["env_vars"]
    assert env["MIOPEN_FIND_MODE"] == "NORMAL"  # the operator's value wins
    assert env["A"] == "1" and env["PYTORCH_HIP_ALLOC_CONF"].startswith("expandable_segments")
    assert env["MIOPEN_USER_DB_PATH"] == "/cache/miopen"  # follows the configured cache dir
    assert wan["autoscaling_config"]["min_replicas"] == 0 and wan["autoscaling_config"]["max_replicas"] == 3
    assert wan["max_ongoing_requests"] == 1
    ltx = worker_deployment_options("ltx-video", cfg)
    assert ltx["num_replicas"] == 2 and "autoscaling_config" not in ltx


def test_cpu_tiny_yaml_every_family_without_gpus(tmp_path):
    config = _yaml("cpu-tiny.yaml")
    from ray.serve.schema import ServeDeploySchema

    ServeDeploySchema.model_validate(config)
    app = config["applications"][0]
    assert app["name"] == "videogen" and app["import_path"] == "videogen.serve.builder:build_app"
    args = dict(app["args"], state_dir=str(tmp_path))
    described = describe_app(build_app(args))
    workers = {k: v for k, v in described.items() if k.startswith("VideoWorker_")}
    assert set(workers) == {f"VideoWorker_{f}" for f in FAMILY_IDS}  # every family the registry lists
    for opts in workers.values():
        assert opts["ray_actor_options"]["num_gpus"] == 0 and opts["ray_actor_options"]["num_cpus"] <= 0.1
        assert "MIOPEN_FIND_MODE" in opts["ray_actor_options"]["runtime_env"]["env_vars"]


@pytest.mark.parametrize("name", ["rocm.yaml", "cuda.yaml"])
def test_gpu_yamls_ask_for_one_gpu_per_worker(name):
    from ray.serve.schema import ServeDeploySchema

    config = _yaml(name)
    ServeDeploySchema.model_validate(config)
    described = describe_app(build_app(config["applications"][0]["args"]))
    workers = {k: v for k, v in described.items() if k.startswith("VideoWorker_")}
    assert set(workers) == {f"VideoWorker_{f}" for f in FAMILY_IDS}  # every family the registry lists
    for opts in workers.values():
        assert opts["ray_actor_options"]["num_gpus"] == 1
        assert opts["max_ongoing_requests"] == 1
        env = opts["ray_actor_options"]["runtime_env"]["env_vars"]
        assert env["MIOPEN_USER_DB_PATH"] == "/mnt/videogen/cache/miopen"
    assert min(w["autoscaling_config"]["min_replicas"] for w in workers.values()) == 0


def test_kuberay_manifests_declare_gpu_worker_groups():
    docs = {
        "amd": list(yaml.safe_load_all((ROOT / "deploy" / "kuberay" / "rayservice-amd.yaml").read_text())),
        "nvidia": list(yaml.safe_load_all((ROOT / "deploy" / "kuberay" / "rayservice-nvidia.yaml").read_text())),
    }
    for vendor, resource in (("amd", "amd.com/gpu"), ("nvidia", "nvidia.com/gpu")):
        service = next(d for d in docs[vendor] if d and d.get("kind") == "RayService")
        serve_config = yaml.safe_load(service["spec"]["serveConfigV2"])
        args = serve_config["applications"][0]["args"]
        VideoGenAppConfig.model_validate(args)
        assert args["num_gpus"] == 1
        groups = service["spec"]["rayClusterConfig"]["workerGroupSpecs"]
        limits = [c["resources"]["limits"] for g in groups for c in g["template"]["spec"]["containers"]]
        assert any(resource in lim for lim in limits)
        # Many nodes without a shared file system (issue 18): jobs in PostgreSQL, videos in a bucket, the state
        # dir a per-pod scratch volume; every pod (head: the ingress and the autoscaler) gets the secrets.
        assert args["artifacts"]["backend"] == "s3" and "database_url" not in args  # the URL is a secret's
        pods = [service["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]] + [
            g["template"]["spec"] for g in groups
        ]
        for pod in pods:
            (container,) = pod["containers"]
            secrets = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
            assert secrets["VIDEOGEN_DATABASE_URL"] == {"name": "videogen-pg-app", "key": "uri"}
            assert {args["artifacts"]["access_key_id_env"], args["artifacts"]["secret_access_key_env"]} <= set(secrets)
            state = next(v for v in pod["volumes"] if v["name"] == "state")
            assert "emptyDir" in state and "persistentVolumeClaim" not in state
        assert not any(d and d.get("kind") == "PersistentVolumeClaim" for d in docs[vendor])
    cnpg = yaml.safe_load((ROOT / "deploy" / "kuberay" / "postgres-cnpg.yaml").read_text())
    assert cnpg["kind"] == "Cluster" and cnpg["metadata"]["name"] + "-app" == "videogen-pg-app"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"families": ["wan", "sora"]}, "sora"),
        ({"families": {"wan": {"deployment": {"num_gpu": 1}}}}, "num_gpu"),
        ({"families": []}, "at least one"),
        ({"num_gpus": -1}, "num_gpus"),
        ({"families": {"wan": {"model": "tiny", "weights": "x"}}}, "weights"),
        ({"families": {"wan": {"policy": {"placement": "everywhere"}}}}, "sequential_offload"),
        ({"families": {"wan": {"policy": {"vram": 3}}}}, "cpu_memory_cap_gb"),
    ],
)
def test_config_errors_name_what_is_allowed(args, needle):
    with pytest.raises(ValidationError) as info:
        VideoGenAppConfig.model_validate(args)
    assert needle in str(info.value)
    if needle == "sora":
        assert "ltx-video" in str(info.value)  # the known ids are listed


def test_family_policy_overrides_reach_the_worker(tmp_path):
    cfg = VideoGenAppConfig(
        families={"wan": {"policy": {"dtype": "fp16", "vae_tiling": "on"}}}, state_dir=str(tmp_path)
    )
    settings = describe_app(build_app(cfg))["VideoWorker_wan"]["init_args"][0]
    assert settings.policy == {"dtype": "float16", "vae_tiling": True}


def test_family_shorthands():
    assert list(VideoGenAppConfig.model_validate({"families": "wan, ltx-video"}).families) == ["wan", "ltx-video"]
    cfg = VideoGenAppConfig.model_validate({"families": {"wan": "/models/wan", "cogvideox": None}})
    assert cfg.families["wan"].model == "/models/wan" and cfg.families["cogvideox"].model == "tiny"


def test_num_gpus_auto_follows_the_machine(monkeypatch, tmp_path):
    import videogen.serve.deployment_options as opts

    monkeypatch.setattr(opts, "detect_gpu_count", lambda: 0)
    cpu = describe_app(build_app({"families": ["wan"], "state_dir": str(tmp_path)}))
    assert cpu["VideoWorker_wan"]["ray_actor_options"]["num_gpus"] == 0
    monkeypatch.setattr(opts, "detect_gpu_count", lambda: 8)
    gpu = describe_app(build_app({"families": ["wan"], "state_dir": str(tmp_path)}))
    assert gpu["VideoWorker_wan"]["ray_actor_options"]["num_gpus"] == 1


def test_replica_settings_carry_the_app_config(tmp_path):
    cfg = VideoGenAppConfig(
        families={"wan": {"model": "/models/wan", "warm": []}},
        state_dir=str(tmp_path),
        api_key="k",
        max_attempts=3,
        heartbeat_timeout_s=9,
        job_timeout_s=60,
        max_image_bytes=2048,
        sqlite_journal_mode="DELETE",
    )
    described = describe_app(build_app(cfg))
    ingress = described["VideoGenIngress"]["init_args"][0]
    # The ingress is bound with the validated config itself: nothing restated, nothing lost.
    assert isinstance(ingress, VideoGenAppConfig) and ingress == cfg
    assert ingress.queue_bound("wan") == 64 and ingress.sqlite_journal_mode == "DELETE"
    with pytest.raises(ValidationError):  # the app's config: never edited in a replica
        ingress.max_attempts = 1
    worker = described["VideoWorker_wan"]["init_args"][0]
    assert worker.model == "/models/wan" and worker.warm == [] and worker.journal_mode == "DELETE"
    assert worker.heartbeat_s == 1.5 and worker.job_timeout_s == 60.0
    with pytest.raises(ValidationError):  # settings are the app's: never edited in a replica
        worker.family = "ltx-video"


def test_arch_model_is_checked_when_the_config_is_built():
    cfg = VideoGenAppConfig(families={"wan": "arch:wan2.1-t2v-14b"})
    assert cfg.families["wan"].model == "arch:wan2.1-t2v-14b"
    with pytest.raises(ValidationError, match="families.wan.model: arch:cogvideox-2b is a cogvideox architecture"):
        VideoGenAppConfig(families={"wan": "arch:cogvideox-2b"})
    with pytest.raises(ValidationError, match="unknown architecture preset"):
        VideoGenAppConfig(families={"wan": "arch:wan9"})
