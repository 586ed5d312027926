"""``ParallelConfig`` and its checks against a model: refusals name the field and the values allowed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from videogen.errors import InvalidRequestError
from videogen.video.arch.catalog import get_preset
from videogen.video.parallel import ParallelConfig, ParallelFacts, check_parallel, check_tokens_split
from videogen.video.parallel.validate import RING_BACKENDS
from videogen.video.tiny.cache import ensure_tiny_model

WHERE = "families.wan.parallel"


def _refused(config: ParallelConfig, facts: ParallelFacts, backend: str | None = "native", where: str = WHERE):
    with pytest.raises(InvalidRequestError) as caught:
        check_parallel(config, facts, backend, where)
    return caught.value


def test_world_size_is_the_product_and_the_command_line_form_reads_back():
    config = ParallelConfig.parse("cfg=2,ulysses=4")
    assert (config.world_size, config.sequence_degree, config.mesh_shape) == (8, 4, (2, 1, 4))
    assert ParallelConfig.parse(config.describe()) == config
    assert ParallelConfig().describe() == "single" and ParallelConfig().world_size == 1
    for bad in ("cfg=3", "ulysses=0", "tensor=2", "cfg"):
        with pytest.raises(ValueError):
            ParallelConfig.parse(bad)


def test_ulysses_must_divide_every_experts_heads():
    facts = ParallelFacts.from_arch(get_preset("wan2.2-t2v-a14b"))  # two transformers, 40 heads each
    assert [d.component for d in facts.denoisers] == ["transformer", "transformer_2"]
    check_parallel(ParallelConfig(cfg=2, ulysses=8), facts, "native", WHERE)
    error = _refused(ParallelConfig(ulysses=3), facts)
    assert error.field == "families.wan.parallel.ulysses"
    assert error.allowed == [1, 2, 4, 5, 8, 10, 20, 40]


def test_ring_needs_a_backend_that_returns_the_log_sum_exp():
    facts = ParallelFacts.from_arch(get_preset("wan2.1-t2v-1.3b"))
    for backend in ("native", "auto", None):
        error = _refused(ParallelConfig(ring=2), facts, backend)
        assert error.field == "families.wan.parallel.ring" and error.allowed == sorted(RING_BACKENDS)
    check_parallel(ParallelConfig(ring=2, ulysses=2), facts, "flash", WHERE)


def test_ulysses_needs_a_backend_diffusers_can_split():
    facts = ParallelFacts.from_arch(get_preset("wan2.1-t2v-1.3b"))
    error = _refused(ParallelConfig(ulysses=2), facts, "xformers")
    assert error.field == "families.wan.parallel.ulysses" and "native" in error.allowed


def test_cfg_2_needs_two_guidance_passes():
    """HunyuanVideo's guidance is an input of its model (one pass a step), and it has no context-parallel plan."""
    facts = ParallelFacts.from_arch(get_preset("hunyuanvideo-t2v"))
    assert facts.support == "none"
    where = "families.hunyuan-video.parallel"
    assert _refused(ParallelConfig(cfg=2), facts, where=where).field == f"{where}.cfg"
    error = _refused(ParallelConfig(ulysses=2), facts, where=where)
    assert error.field == f"{where}.ulysses" and error.allowed == [1]


def test_a_family_without_a_context_parallel_plan_is_cfg_only():
    facts = ParallelFacts.from_arch(get_preset("cogvideox-5b"))
    assert facts.support == "cfg only" and facts.cfg_mode == "batched"
    notes = check_parallel(ParallelConfig(cfg=2), facts, "native", "families.cogvideox.parallel")
    assert any("cfg only" in note for note in notes)
    error = _refused(ParallelConfig(cfg=2, ring=2), facts, "flash", "families.cogvideox.parallel")
    assert error.field == "families.cogvideox.parallel.ring" and error.allowed == [1]


def test_facts_from_a_model_directory_read_configs_only():
    facts = ParallelFacts.from_model_dir("wan", ensure_tiny_model("wan", "text-to-video"))
    assert [(d.class_name, d.heads, d.has_cp_plan) for d in facts.denoisers] == [("WanTransformer3DModel", 2, True)]
    assert _refused(ParallelConfig(ulysses=4), facts).allowed == [1, 2]


def test_tokens_must_split_evenly_across_the_sequence_ranks():
    check_tokens_split(ParallelConfig(cfg=2, ulysses=4), 21 * 30 * 52)
    check_tokens_split(ParallelConfig(cfg=2), 7)
    with pytest.raises(InvalidRequestError) as caught:
        check_tokens_split(ParallelConfig(ulysses=2), 3 * 5 * 7)
    assert caught.value.field == "num_frames"


def test_the_config_rejects_unknown_axes():
    with pytest.raises(ValidationError):
        ParallelConfig(cfg=2, tensor=2)
