"""Real-size architecture presets (``arch:<id>``): counts on the meta device, scaled-down builds on CPU.

Nothing here materialises a full-size model: counts come from meta-device builds, and every
pipeline that runs is a scaled-down copy of a preset (same classes and wiring, tiny widths).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from arch_support import scaled_down, task_media  # (tests/ is on sys.path)

from videogen.errors import ModelUnavailableError, UnsupportedTaskError
from videogen.video.arch.catalog import PRESETS, describe_presets, get_preset, is_arch_model, presets_for
from videogen.video.arch.pipeline import build_pipeline
from videogen.video.arch.preset import count_params
from videogen.video.spec import IMAGE_TO_VIDEO

REQUIRED = {
    "wan2.1-t2v-1.3b",
    "wan2.1-t2v-14b",
    "wan2.1-i2v-14b-480p",
    "wan2.1-flf2v-14b-720p",
    "wan2.1-vace-1.3b",
    "wan2.1-vace-14b",
    "wan2.2-ti2v-5b",
    "wan2.2-t2v-a14b",
    "wan2.2-i2v-a14b",
    "cogvideox-2b",
    "cogvideox-5b",
    "cogvideox-5b-i2v",
    "ltx-video-0.9.0",
    "ltx-video-0.9.5",
    "hunyuanvideo-t2v",
    "hunyuanvideo-i2v",
    "sana-video-2b-480p",
    "animatediff-v1-5-2",
    "animatediff-v1-5-2-controlnet",
    "cogvideox-fun-v1.1-5b-pose",
    "modelscope-t2v-1.7b",
    "hunyuanvideo-1.5-480p-t2v",
    "hunyuanvideo-1.5-720p-t2v",
    "hunyuanvideo-1.5-480p-i2v",
    "hunyuanvideo-1.5-480p-i2v-step-distilled",
    "ltx-2-19b-dev",
    "skyreels-v2-df-1.3b-540p",
    "skyreels-v2-df-14b-720p",
    "skyreels-v2-t2v-14b-540p",
    "skyreels-v2-i2v-1.3b-540p",
    "kandinsky5-lite-t2v-5s",
    "kandinsky5-pro-t2v-5s",
    "kandinsky5-pro-i2v-5s",
    "mochi-1-preview",
    "lucy-edit-dev",
    "svd-img2vid",
    "svd-img2vid-xt",
    "helios-base",
    "helios-mid",
    "helios-distilled",
    "cosmos-predict2.5-2b",
    "cosmos-predict2.5-14b",
    "easyanimate-v5.1-7b-t2v",
    "easyanimate-v5.1-7b-inp",
    "easyanimate-v5.1-12b-t2v",
    "easyanimate-v5.1-12b-inp",
}

# Measured on the meta device with diffusers 0.42.1 / transformers 5.x; a change here means the
# installed libraries build a different architecture from the same values.
EXPECTED_COUNTS = {
    "modelscope-t2v-1.7b": {"unet": 1_411_233_860, "vae": 83_653_863, "text_encoder": 340_387_840},
    "wan2.1-t2v-1.3b": {"transformer": 1_418_996_800, "vae": 126_892_531, "text_encoder": 5_680_910_336},
    "wan2.1-t2v-14b": {"transformer": 14_288_491_584, "vae": 126_892_531, "text_encoder": 5_680_910_336},
    "wan2.1-i2v-14b-480p": {
        "transformer": 16_394_878_784,
        "vae": 126_892_531,
        "text_encoder": 5_680_910_336,
        "image_encoder": 632_076_800,
    },
    # the I2V-14B transformer plus its 2 x 257-token image position table (514 x 1280)
    "wan2.1-flf2v-14b-720p": {
        "transformer": 16_394_878_784 + 514 * 1280,
        "vae": 126_892_531,
        "text_encoder": 5_680_910_336,
        "image_encoder": 632_076_800,
    },
    # the T2V-1.3B / 14B transformer plus 15 / 8 VACE blocks and the control stream's patch embedding
    "wan2.1-vace-1.3b": {"transformer": 2_153_972_032, "vae": 126_892_531, "text_encoder": 5_680_910_336},
    "wan2.1-vace-14b": {"transformer": 17_337_592_896, "vae": 126_892_531, "text_encoder": 5_680_910_336},
    "wan2.2-ti2v-5b": {"transformer": 4_999_787_712, "vae": 704_688_668, "text_encoder": 5_680_910_336},
    # two experts, each the Wan 2.1 T2V-14B transformer (i2v: 36 input channels, no image cross-attention)
    "wan2.2-t2v-a14b": {
        "transformer": 14_288_491_584,
        "transformer_2": 14_288_491_584,
        "vae": 126_892_531,
        "text_encoder": 5_680_910_336,
    },
    "wan2.2-i2v-a14b": {
        "transformer": 14_288_901_184,
        "transformer_2": 14_288_901_184,
        "vae": 126_892_531,
        "text_encoder": 5_680_910_336,
    },
    "cogvideox-2b": {"transformer": 1_693_783_872, "vae": 215_583_907, "text_encoder": 4_762_310_656},
    "cogvideox-5b": {"transformer": 5_570_283_072, "vae": 215_583_907, "text_encoder": 4_762_310_656},
    "cogvideox-5b-i2v": {"transformer": 5_570_479_680, "vae": 215_583_907, "text_encoder": 4_762_310_656},
    # the 5B transformer taking the control latents beside the noise: 32 input channels, like 5B-I2V's (which also
    # has learned positions: the same count, since they are a buffer there)
    "cogvideox-fun-v1.1-5b-pose": {"transformer": 5_570_479_680, "vae": 215_583_907, "text_encoder": 4_762_310_656},
    "ltx-video-0.9.0": {"transformer": 1_923_385_472, "vae": 419_193_649, "text_encoder": 4_762_310_656},
    "ltx-video-0.9.5": {"transformer": 1_923_385_472, "vae": 1_246_913_522, "text_encoder": 4_762_310_656},
    "hunyuanvideo-t2v": {
        "transformer": 12_821_012_544,
        "vae": 246_478_803,
        "text_encoder": 7_505_186_816,
        "text_encoder_2": 123_060_480,
    },
    "hunyuanvideo-i2v": {
        "transformer": 12_821_012_544,
        "vae": 246_478_803,
        "text_encoder": 8_355_272_704,
        "text_encoder_2": 123_060_480,
    },
    "framepack-i2v-hy": {
        "transformer": 12_874_314_816,
        "vae": 246_478_803,
        "text_encoder": 7_505_186_816,
        "text_encoder_2": 123_060_480,
        "image_encoder": 428_225_600,
    },
    "hunyuanvideo-i2v-33ch": {
        "transformer": 12_810_991_680,
        "vae": 246_478_803,
        "text_encoder": 8_355_272_704,
        "text_encoder_2": 123_060_480,
    },
    "sana-video-2b-480p": {"transformer": 2_056_862_144, "vae": 126_892_531, "text_encoder": 2_614_341_888},
    # one DiT for every HunyuanVideo 1.5 checkpoint; the step-distilled one adds the timestep_r embedder
    **{
        f"hunyuanvideo-1.5-{variant}": {
            "transformer": 8_326_608_160,
            "vae": 1_260_634_115,
            "text_encoder": 7_070_619_136,
            "text_encoder_2": 219_314_944,
        }
        for variant in ("480p-t2v", "480p-t2v-cfg-distilled", "720p-t2v")
    },
    **{
        f"hunyuanvideo-1.5-{variant}": {
            "transformer": transformer,
            "vae": 1_260_634_115,
            "text_encoder": 7_070_619_136,
            "text_encoder_2": 219_314_944,
            "image_encoder": 428_225_600,
        }
        for variant, transformer in (
            ("480p-i2v", 8_326_608_160),
            ("720p-i2v", 8_326_608_160),
            ("480p-i2v-step-distilled", 8_331_330_848),
        )
    },
    "ltx-2-19b-dev": {
        "transformer": 18_876_174_592,
        "connectors": 1_431_475_200,
        "vae": 1_222_479_601,
        "audio_vae": 53_248_146,
        "vocoder": 55_592_802,
        "text_encoder": 12_187_325_040,
    },
    # SkyReels-V2: Wan 2.1 DiTs (the DF-1.3B with its frame-rate embedding), Wan 2.1's VAE and UMT5-XXL
    **{
        f"skyreels-v2-{kind}": {"transformer": transformer, "vae": 126_892_531, "text_encoder": 5_680_910_336}
        for kind, transformer in (
            ("df-1.3b-540p", 1_435_525_696),
            ("df-14b-540p", 14_288_491_584),
            ("df-14b-720p", 14_288_491_584),
            ("t2v-14b-540p", 14_288_491_584),
            ("t2v-14b-720p", 14_288_491_584),
        )
    },
    **{
        f"skyreels-v2-{kind}": {
            "transformer": transformer,
            "vae": 126_892_531,
            "text_encoder": 5_680_910_336,
            "image_encoder": 632_076_800,
        }
        for kind, transformer in (
            ("i2v-1.3b-540p", 1_564_428_608),
            ("i2v-14b-540p", 16_394_878_784),
            ("i2v-14b-720p", 16_394_878_784),
        )
    },
    "animatediff-v1-5-2": {
        "unet": 1_312_730_244,
        "motion_adapter": 453_209_280,
        "vae": 83_653_863,
        "text_encoder": 123_060_480,
    },
    "animatediff-v1-5-2-controlnet": {
        "unet": 1_312_730_244,
        "motion_adapter": 453_209_280,
        "vae": 83_653_863,
        "text_encoder": 123_060_480,
        "controlnet": 361_279_120,
    },
    # Kandinsky 5: the Lite (2B) and Pro (19B) DiTs on HunyuanVideo's VAE, Qwen2.5-VL-7B whole and CLIP-L
    **{
        f"kandinsky5-{kind}-5s": {
            "transformer": transformer,
            "vae": 246_478_803,
            "text_encoder": 8_292_166_656,
            "text_encoder_2": 123_060_480,
        }
        for kind, transformer in (("lite-t2v", 2_007_702_848), ("pro-t2v", 19_311_325_248), ("pro-i2v", 19_311_325_248))
    },
    # Mochi 1: the 10B AsymmDiT, its VAE (encoder and decoder) and T5-v1.1-XXL
    "mochi-1-preview": {"transformer": 10_027_677_744, "vae": 459_748_611, "text_encoder": 4_762_310_656},
    # Lucy Edit: Wan 2.2 TI2V-5B's DiT at 96 input channels (+ 0.59 M), Wan 2.2's VAE, UMT5-XXL (the checkpoint's files)
    "lucy-edit-dev": {"transformer": 5_000_377_536, "vae": 704_688_668, "text_encoder": 5_680_910_336},
    # Stable Video Diffusion: one UNet for SVD and SVD-XT (their num_frames differ), the temporal-decoder VAE, CLIP-H
    **{
        preset_id: {"unet": 1_524_623_082, "vae": 97_742_847, "image_encoder": 632_076_800}
        for preset_id in ("svd-img2vid", "svd-img2vid-xt")
    },
    # Helios: one 14.3B DiT (Wan2.1-14B's and the history patches) on Wan 2.1's VAE and UMT5-XXL, in all three
    **{
        f"helios-{name}": {"transformer": 14_312_427_584, "vae": 126_892_531, "text_encoder": 5_680_910_336}
        for name in ("base", "mid", "distilled")
    },
    # Cosmos Predict 2.5: its DiT (with the 100352 -> 1024 text projection), Wan 2.1's VAE, Qwen2.5-VL-7B whole
    "cosmos-predict2.5-2b": {"transformer": 2_059_174_912, "vae": 126_892_531, "text_encoder": 8_292_166_656},
    "cosmos-predict2.5-14b": {"transformer": 14_368_047_104, "vae": 126_892_531, "text_encoder": 8_292_166_656},
    # EasyAnimate V5.1: the 7B and 12B DiTs (InP: 17 more input channels; the InP safetensors' counts exactly), the
    # Magvit VAE, Qwen2-VL-7B-Instruct whole
    **{
        f"easyanimate-v5.1-{name}": {"transformer": transformer, "vae": 244_375_507, "text_encoder": 8_291_375_616}
        for name, transformer in (
            ("7b-t2v", 6_814_462_016),
            ("7b-inp", 6_814_670_912),
            ("12b-t2v", 11_799_056_960),
            ("12b-inp", 11_799_265_856),
        )
    },
}

# A published figure is a rounded size ("2B", "5.57 B"): within 3 % is the same architecture.
PUBLISHED_TOLERANCE = 0.03


# ---- scaled-down copies: same classes and wiring, tiny widths ---------------------------------

# Sizes each family's scaled pipeline can run at (its VAE's compression, patching and minimum sizes).
_CALL = {
    "text-to-video-sd": {"num_frames": 4, "height": 32, "width": 32},
    "wan": {"num_frames": 5, "height": 32, "width": 32, "max_sequence_length": 16},
    "cogvideox": {"num_frames": 9, "height": 32, "width": 32, "max_sequence_length": 16},
    "ltx-video": {"num_frames": 9, "height": 32, "width": 32, "max_sequence_length": 16},
    "hunyuan-video": {"num_frames": 9, "height": 32, "width": 32, "max_sequence_length": 16},
    "sana-video": {"frames": 5, "height": 32, "width": 32, "max_sequence_length": 16, "use_resolution_binning": False},
    "animatediff": {"num_frames": 4, "height": 32, "width": 32},
    "hunyuan-video15": {"num_frames": 9, "height": 32, "width": 32},
    "ltx2": {"num_frames": 9, "height": 64, "width": 64, "max_sequence_length": 16},  # /32 VAE, reflect padding
    "skyreels-v2": {"num_frames": 5, "height": 32, "width": 32, "max_sequence_length": 16},
    "kandinsky5": {"num_frames": 17, "height": 32, "width": 32},  # image-to-video: 5 latent frames at least
    "mochi": {"num_frames": 7, "height": 32, "width": 32, "max_sequence_length": 16},  # 6k+1 frames
    "lucy-edit": {"num_frames": 5, "height": 32, "width": 32, "max_sequence_length": 16},  # /16 VAE, 2x2 patches
    "stable-video-diffusion": {"num_frames": 4, "height": 32, "width": 32},
    # one chunk of 2 latent frames (the clip too). The pyramid runs its first stage only, at the full size: every later
    # one factors a block-noise covariance that is singular in float32 at the shipped gamma 1/3, which CPU LAPACK
    # refuses (vllm-project/vllm-omni#7224; CUDA's Cholesky returns a positive pivot)
    "helios": {
        "num_frames": 5,
        "height": 32,
        "width": 32,
        "max_sequence_length": 16,
        "num_latent_frames_per_chunk": 2,
        "pyramid_num_inference_steps_list": [1],
    },
    "cosmos": {"num_frames": 5, "height": 32, "width": 32, "max_sequence_length": 16},
    # 4k+1 frames; with guidance the pipelines iterate the negative prompt, which the adapter makes "" when none is given
    "easyanimate": {"num_frames": 9, "height": 32, "width": 32, "negative_prompt": ""},
}
_SIZE_OVERRIDES = {("wan2.2-ti2v-5b", IMAGE_TO_VIDEO): {"height": 64, "width": 64}}  # /16 VAE, 2x2 patches

# New (preset, task) pairs whose scaled-down pipeline is the very one another pair runs (same classes, the same
# shrunk values): run once, under the pair named (test_scaled_twins_are_equal checks they are equal).
_SCALED_TWINS = {
    ("wan2.1-t2v-14b", "video-to-video"): ("wan2.1-t2v-1.3b", "video-to-video"),
    **{("wan2.1-vace-14b", task): ("wan2.1-vace-1.3b", task) for task in PRESETS["wan2.1-vace-14b"].tasks},
    # the same DiT and scheduler; only the guider's default scale differs
    ("hunyuanvideo-1.5-480p-t2v-cfg-distilled", "text-to-video"): ("hunyuanvideo-1.5-480p-t2v", "text-to-video"),
    # SkyReels-V2's 720P checkpoints are their 540P twins (another window and native size); shrunk, the 14B I2V DiT is
    # the 1.3B's
    **{
        ("skyreels-v2-df-14b-720p", t): ("skyreels-v2-df-14b-540p", t) for t in PRESETS["skyreels-v2-df-14b-720p"].tasks
    },
    ("skyreels-v2-t2v-14b-720p", "text-to-video"): ("skyreels-v2-t2v-14b-540p", "text-to-video"),
    **{
        (f"skyreels-v2-i2v-14b-{r}", "image-to-video"): ("skyreels-v2-i2v-1.3b-540p", "image-to-video")
        for r in ("540p", "720p")
    },
    # shrunk, Kandinsky 5 Pro's DiT is Lite's (the same scheduler for text-to-video)
    ("kandinsky5-pro-t2v-5s", "text-to-video"): ("kandinsky5-lite-t2v-5s", "text-to-video"),
    # SVD-XT's UNet is SVD's but for its default length, which the scaled copies share
    ("svd-img2vid-xt", "image-to-video"): ("svd-img2vid", "image-to-video"),
    # shrunk, Cosmos Predict 2.5 14B's DiT is 2B's
    **{("cosmos-predict2.5-14b", t): ("cosmos-predict2.5-2b", t) for t in PRESETS["cosmos-predict2.5-2b"].tasks},
    # shrunk, EasyAnimate's 12B DiT is the 7B's (both cut to one MMDiT block and one shared block)
    **{
        (f"easyanimate-v5.1-12b-{kind}", t): (f"easyanimate-v5.1-7b-{kind}", t)
        for kind in ("t2v", "inp")
        for t in PRESETS[f"easyanimate-v5.1-7b-{kind}"].tasks
    },
}
_CASES = [(pid, task) for pid, preset in PRESETS.items() for task in preset.tasks if (pid, task) not in _SCALED_TWINS]


# ---- catalog -------------------------------------------------------------------------------


def test_catalog_has_every_required_preset():
    assert REQUIRED <= set(PRESETS)
    assert set(EXPECTED_COUNTS) == set(PRESETS)


def test_presets_belong_to_known_families_and_use_their_pipelines():
    from videogen.video.families import FAMILY_IDS, get_spec

    for preset in PRESETS.values():
        assert preset.family in FAMILY_IDS
        spec = get_spec(preset.family)
        for task, class_name in preset.pipeline_classes.items():
            # the same adapter runs them, so the family's pipeline class for the task, or the checkpoint's own where
            # the family says it serves the task (FramePack's image-to-video)
            assert spec.pipeline_class_for(task, class_name) == class_name, (preset.id, task)
        assert preset in presets_for(preset.family)


def test_every_class_named_exists():
    import importlib

    import diffusers
    import transformers

    for preset in PRESETS.values():
        for class_name in preset.pipeline_classes.values():
            assert hasattr(diffusers, class_name), class_name
        for comp in preset.components:
            library = diffusers if comp.library == "diffusers" else transformers
            if comp.module:  # a pipeline's own module (LTX-2's connectors and vocoder), where diffusers loads it from
                library = importlib.import_module(comp.module)
            assert hasattr(library, comp.class_name), comp.class_name
            if comp.config_class:
                assert hasattr(transformers, comp.config_class), comp.config_class
        for scheduler in [preset.scheduler, *preset.task_schedulers.values()]:
            assert hasattr(diffusers, scheduler.class_name), scheduler.class_name


def test_get_preset_accepts_prefix_and_any_case():
    assert get_preset("arch:Wan2.1-T2V-1.3B") is PRESETS["wan2.1-t2v-1.3b"]
    assert get_preset("cogvideox-2b") is PRESETS["cogvideox-2b"]
    assert is_arch_model("ARCH:cogvideox-2b") and not is_arch_model("THUDM/CogVideoX-2b")


def test_get_preset_error_names_the_allowed_ids():
    with pytest.raises(ModelUnavailableError) as err:
        get_preset("arch:wan9-t2v-1b")
    assert err.value.field == "model"
    assert err.value.allowed == [f"arch:{pid}" for pid in PRESETS]
    assert "arch:wan2.1-t2v-1.3b" in err.value.message


def test_describe_presets_lists_counts_and_totals():
    rows = describe_presets()
    assert [row["id"] for row in rows] == list(PRESETS)
    for row in rows:
        counts = {c["name"]: c["params"] for c in row["components"]}
        assert counts == EXPECTED_COUNTS[row["id"]]
        assert row["total_params"] == sum(counts.values())
        assert row["model"] == f"arch:{row['id']}"
    assert {row["family"] for row in describe_presets("wan")} == {"wan"}


# ---- parameter counts ----------------------------------------------------------------------


@pytest.mark.parametrize("preset_id", list(PRESETS))
def test_param_counts_are_the_meta_models(preset_id):
    preset = PRESETS[preset_id]
    counts = preset.param_counts()
    for comp in preset.components:
        module = comp.build("meta")
        assert all(p.is_meta for p in module.parameters())
        assert counts[comp.name] == sum(p.numel() for p in module.parameters())
    assert counts == EXPECTED_COUNTS[preset_id]


@pytest.mark.parametrize("preset_id", list(PRESETS))
def test_counts_match_published_sizes(preset_id):
    preset = PRESETS[preset_id]
    assert preset.denoiser in preset.published_params, "every preset cites its denoiser's published size"
    counts = preset.param_counts()
    for name, published in preset.published_params.items():
        # a figure that leaves submodules out (Wan VACE's cards: the DiT it extends) is checked against the rest
        compared = preset.published_comparable(name)
        assert abs(compared / published - 1) < PUBLISHED_TOLERANCE, (name, compared, published)
        if name in preset.published_excludes:
            assert compared < counts[name], (name, "published_excludes leaves nothing out")


def test_vace_published_sizes_are_the_dits_they_extend():
    """The VACE cards say only "1.3B" / "14B": the T2V DiT of that size, whose counted parameters the VACE
    transformer without its VACE blocks has exactly; the whole transformer is larger by the blocks."""
    for vace_id, base_id in (("wan2.1-vace-1.3b", "wan2.1-t2v-1.3b"), ("wan2.1-vace-14b", "wan2.1-t2v-14b")):
        vace, base = PRESETS[vace_id], PRESETS[base_id]
        assert vace.published_comparable("transformer") == base.param_counts()["transformer"]
        assert vace.published_params["transformer"] == base.published_params["transformer"]
        assert vace.param_counts()["transformer"] > 1.2 * base.param_counts()["transformer"]
    # every other preset's figure is its whole component
    others = [p for p in PRESETS.values() if not p.id.startswith("wan2.1-vace-")]
    assert all(not p.published_excludes for p in others)


def test_animatediff_unet_is_what_the_pipeline_builds_from_sd15_and_the_adapter():
    from accelerate import init_empty_weights
    from diffusers import UNet2DConditionModel, UNetMotionModel

    preset = PRESETS["animatediff-v1-5-2"]
    adapter = preset.component("motion_adapter").build("meta")
    with init_empty_weights(include_buffers=True):
        sd15 = UNet2DConditionModel(sample_size=64, cross_attention_dim=768, attention_head_dim=8)  # SD 1.5's values
        merged = UNetMotionModel.from_unet2d(sd15, adapter, load_weights=False)
    assert count_params(sd15) == 859_520_964

    def plain(value):
        return list(value) if isinstance(value, (list, tuple)) else value

    for key, value in preset.component("unet").config.items():
        assert plain(merged.config[key]) == plain(value), key
    assert count_params(merged) == preset.param_counts()["unet"] == count_params(sd15) + count_params(adapter)


# ---- materialising --------------------------------------------------------------------------


def test_materialise_keeps_the_buffers_computed_at_construction():
    # RoPE tables (Wan), sin-cos positions (CogVideoX 2B), position ids (CLIP), inv_freq (Llama)
    # exist in no checkpoint: a real load keeps them as constructed, and so must we.
    cases = [
        ("wan2.1-t2v-1.3b", "transformer"),
        ("cogvideox-2b", "transformer"),
        ("hunyuanvideo-t2v", "text_encoder"),
        ("hunyuanvideo-t2v", "text_encoder_2"),
    ]
    for preset_id, name in cases:
        comp = scaled_down(PRESETS[preset_id]).component(name)
        built = dict(comp.build("cpu", torch.float32).named_buffers())
        reference = dict(comp._construct().named_buffers())
        assert built.keys() == reference.keys() and built, (preset_id, name)
        for key, buffer in built.items():
            assert torch.equal(buffer, reference[key]), (preset_id, name, key)


def test_materialise_dtype_ties_and_values():
    preset = scaled_down(PRESETS["wan2.1-t2v-1.3b"])
    transformer = preset.component("transformer").build("cpu", torch.bfloat16)
    dtypes = {name: p.dtype for name, p in transformer.named_parameters()}
    # diffusers keeps Wan's timestep embedder, norms and modulation tables in float32, as from_pretrained does
    assert dtypes["scale_shift_table"] == torch.float32
    assert dtypes["condition_embedder.time_embedder.linear_1.weight"] == torch.float32
    assert dtypes["blocks.0.attn1.to_q.weight"] == torch.bfloat16
    assert all(torch.isfinite(p.float()).all() for p in transformer.parameters())
    assert all(p.float().std() > 0 for p in transformer.parameters() if p.ndim >= 2)  # random, not left empty/zero

    text_encoder = preset.component("text_encoder").build("cpu", torch.bfloat16)
    assert text_encoder.shared.weight is text_encoder.encoder.embed_tokens.weight  # tied, allocated once
    assert count_params(text_encoder) == preset.param_counts()["text_encoder"]


def test_hunyuan_templates_crop_exactly_the_offline_tokenizers_prefix():
    from videogen.video.arch.tokenizers import LLAMA3_SPECIAL_IDS, llama3_tokenizer

    tokenizer = llama3_tokenizer()
    for preset_id in ("hunyuanvideo-t2v", "hunyuanvideo-i2v"):
        preset = PRESETS[preset_id]
        (task,) = preset.tasks
        template = preset.model_meta(task).call_kwargs["prompt_template"]
        prefix = tokenizer(template["template"].split("{}")[0]).input_ids
        assert len(prefix) == template["crop_start"]
        if "image_emb_start" in template:
            assert prefix[template["image_emb_start"]] == LLAMA3_SPECIAL_IDS["<image>"]
            assert LLAMA3_SPECIAL_IDS["<image>"] == preset.component("text_encoder").config["image_token_index"]


def test_build_pipeline_refuses_a_task_the_preset_lacks():
    with pytest.raises(UnsupportedTaskError):
        build_pipeline(PRESETS["cogvideox-2b"], IMAGE_TO_VIDEO, "cpu")


@pytest.mark.parametrize(("preset_id", "task"), _CASES, ids=[f"{p}-{t}" for p, t in _CASES])
def test_scaled_pipeline_generates_finite_frames(preset_id, task):
    preset = PRESETS[preset_id]
    pipe = build_pipeline(scaled_down(preset), task, "cpu", torch.float32)
    assert type(pipe).__name__ == preset.pipeline_classes[task]
    assert preset.scheduler_for(task).class_name == type(pipe.scheduler).__name__
    kwargs = {**_CALL[preset.family], **_SIZE_OVERRIDES.get((preset_id, task), {})}
    kwargs.update(preset.model_meta(task).call_kwargs)
    height, width = kwargs["height"], kwargs["width"]
    kwargs.update(task_media(pipe, task, kwargs.get("num_frames", kwargs.get("frames")), height, width))
    # video-to-video pipelines take the frame count (VideoToVideoSD also the size) from the clip
    accepted = inspect.signature(pipe.__call__).parameters
    kwargs = {"prompt": "a red fox running through snow", **kwargs}  # not SVD's: it has no text
    # Helios' pyramid takes its steps per stage (_CALL), not num_inference_steps
    kwargs = {"num_inference_steps": 2, **kwargs}
    optional = ("num_frames", "height", "width", "prompt", "num_inference_steps", "pyramid_num_inference_steps_list")
    kwargs = {k: v for k, v in kwargs.items() if k in accepted or k not in optional}
    pipe.set_progress_bar_config(disable=True)
    out = pipe(
        output_type="np",
        generator=torch.Generator().manual_seed(0),
        **kwargs,
    )
    frames = np.asarray(out.frames)
    assert frames.ndim == 5 and frames.shape[2:] == (height, width, 3)
    assert np.isfinite(frames).all()


def test_scaled_twins_are_equal():
    for (pid, task), (twin_id, twin_task) in _SCALED_TWINS.items():
        ours, theirs = scaled_down(PRESETS[pid]), scaled_down(PRESETS[twin_id])
        assert ours.components == theirs.components and ours.scheduler_for(task) == theirs.scheduler_for(twin_task)
        assert (task, ours.pipeline_classes[task]) == (twin_task, theirs.pipeline_classes[twin_task])
        assert ours.tokenizers == theirs.tokenizers and ours.processors == theirs.processors, (pid, task)


def test_reading_a_model_dir_from_threads_on_a_fresh_interpreter_keeps_every_component():
    """The ingress prices concurrent requests in threads: transformers' lazy import raced there and a
    component (the text encoder) was silently dropped from the preset, so the estimate answered 500."""
    import subprocess
    import sys

    code = (
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from videogen.video.arch.from_dir import _is_module\n"
        "names = [('transformers', 'T5EncoderModel'), ('transformers', 'CLIPTextModel'),\n"
        "         ('diffusers', 'AutoencoderKLWan'), ('transformers', 'CLIPVisionModel')] * 2\n"
        "with ThreadPoolExecutor(len(names)) as pool:\n"
        "    print(list(pool.map(lambda n: _is_module(*n), names)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == str([True] * 8)
