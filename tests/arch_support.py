"""Scaled-down copies of the real-size presets: the real layout, tiny widths, for CPU tests.

Used by the preset tests and by the worker tests that run an ``arch:`` source end to end.
"""

from __future__ import annotations

from videogen.video.arch.preset import ArchPreset

_TEXT = 32  # every scaled text encoder's hidden size (what the scaled denoisers expect)
_SMALL_LLAMA = {
    "hidden_size": _TEXT,
    "intermediate_size": 64,
    "num_hidden_layers": 3,  # HunyuanVideo reads hidden_states[-3]
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}
_SMALL_2D = {"layers_per_block": 1, "norm_num_groups": 2}
_SMALL_CLIP_PATCH = 32
_SMALL_CLIP_TOKENS = (224 // _SMALL_CLIP_PATCH) ** 2 + 1  # the scaled CLIP-H tower's tokens per image (and CLS)


def _eights(config: dict) -> dict:
    return {"block_out_channels": [8] * len(config["block_out_channels"])}


def _shrink(class_name: str, config: dict) -> dict:
    """Small config values for one component class (vocabularies and sample sizes stay real)."""
    small: dict
    if class_name in ("T5EncoderModel", "UMT5EncoderModel"):
        small = {"vocab_size": 256, "d_model": _TEXT, "d_kv": 8, "d_ff": 64, "num_layers": 1, "num_heads": 4}
    elif class_name == "CLIPTextModel":
        small = {"hidden_size": _TEXT, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2}
        small["projection_dim"] = _TEXT
    elif class_name == "CLIPVisionModelWithProjection":
        small = {"hidden_size": _TEXT, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}
        small.update(patch_size=_SMALL_CLIP_PATCH, projection_dim=_TEXT)
    elif class_name == "LlamaModel":
        small = dict(_SMALL_LLAMA)
    elif class_name == "LlavaForConditionalGeneration":
        vision = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2}
        small = {"text_config": dict(_SMALL_LLAMA), "vision_config": {**vision, "projection_dim": 16}}
    elif class_name == "Gemma2Model":
        small = {"vocab_size": 256, "hidden_size": _TEXT, "intermediate_size": 64, "num_hidden_layers": 1}
        small.update(num_attention_heads=2, num_key_value_heads=1, head_dim=16, query_pre_attn_scalar=16)
    elif class_name in ("WanTransformer3DModel", "WanVACETransformer3DModel", "SkyReelsV2Transformer3DModel"):
        small = {"num_attention_heads": 2, "attention_head_dim": 16, "ffn_dim": 64, "num_layers": 1}
        small.update(text_dim=_TEXT, freq_dim=32, rope_max_seq_len=32)
        if config.get("image_dim"):
            small.update(image_dim=_TEXT, added_kv_proj_dim=32)
        if config.get("pos_embed_seq_len"):  # FLF2V: two images' tokens of the scaled CLIP tower
            small["pos_embed_seq_len"] = 2 * _SMALL_CLIP_TOKENS
        if config.get("vace_layers"):  # a VACE block beside the first of two (vace_in_channels stays: 8x VAE)
            small.update(num_layers=2, vace_layers=[0])
    elif class_name == "AutoencoderKLWan":
        small = {"base_dim": 8, "dim_mult": [1, 1, 1, 1], "num_res_blocks": 1}
        if config.get("decoder_base_dim"):
            small.update(base_dim=16, decoder_base_dim=16)
    elif class_name == "CogVideoXTransformer3DModel":
        small = {"num_attention_heads": 2, "attention_head_dim": 16, "num_layers": 1, "text_embed_dim": _TEXT}
        # learned positions (5B-I2V) only fit the sample size: 32 x 32 px, 9 frames
        small.update(time_embed_dim=8, sample_height=4, sample_width=4, sample_frames=9, max_text_seq_length=16)
    elif class_name == "LTXVideoTransformer3DModel":
        small = {"num_attention_heads": 2, "attention_head_dim": 8, "cross_attention_dim": 16, "num_layers": 1}
        small["caption_channels"] = _TEXT
    elif class_name == "AutoencoderKLLTXVideo":
        # keep the widths' ratios: an up block whose width does not match its upsampler gets another layout
        small = {k: [c // 32 for c in config[k]] for k in ("block_out_channels", "decoder_block_out_channels")}
        small.update({k: [1] * len(config[k]) for k in ("layers_per_block", "decoder_layers_per_block")})
    elif class_name == "HunyuanVideoTransformer3DModel":
        small = {"num_attention_heads": 2, "attention_head_dim": 16, "num_layers": 1, "num_single_layers": 1}
        small.update(num_refiner_layers=1, text_embed_dim=_TEXT, pooled_projection_dim=_TEXT, rope_axes_dim=[4, 6, 6])
    elif class_name == "HunyuanVideoFramepackTransformer3DModel":  # and the SigLIP projection's input width
        small = {"num_attention_heads": 2, "attention_head_dim": 16, "num_layers": 1, "num_single_layers": 1}
        small.update(num_refiner_layers=1, text_embed_dim=_TEXT, pooled_projection_dim=_TEXT, rope_axes_dim=[4, 6, 6])
        small["image_proj_dim"] = 16
    elif class_name == "HunyuanVideo15Transformer3DModel":
        small = {"num_attention_heads": 2, "attention_head_dim": 16, "num_layers": 1, "num_refiner_layers": 1}
        small.update(text_embed_dim=_TEXT, text_embed_2_dim=_TEXT, image_embed_dim=16, rope_axes_dim=[4, 6, 6])
        small["target_size"] = 32  # image-to-video generates about target_size² pixels: the scaled call's 32x32
    elif class_name == "AutoencoderKLHunyuanVideo15":  # its encoder averages the last width over 2 x 32 channels
        small = {"block_out_channels": [64] * len(config["block_out_channels"]), "layers_per_block": 1}
    elif class_name == "Qwen2_5_VLTextModel":  # multimodal RoPE sections over the 16-wide heads' 8 frequencies
        small = {"vocab_size": 256, "hidden_size": _TEXT, "intermediate_size": 64, "num_hidden_layers": 2}
        small.update(num_attention_heads=2, num_key_value_heads=2)
        small["rope_scaling"] = {"type": "mrope", "mrope_section": [2, 3, 3]}
    elif class_name == "Kandinsky5Transformer3DModel":  # heads of 4 + 6 + 6: 2 heads of 16
        small = {"model_dim": 32, "ff_dim": 64, "time_dim": 16, "num_text_blocks": 1, "num_visual_blocks": 1}
        small.update(axes_dims=[4, 6, 6], in_text_dim=_TEXT, in_text_dim2=_TEXT)
    elif class_name == "Qwen2_5_VLForConditionalGeneration":  # the text model as Qwen2_5_VLTextModel's, a 1-block tower
        text = {"vocab_size": 256, "hidden_size": _TEXT, "intermediate_size": 64, "num_hidden_layers": 2}
        text.update(
            num_attention_heads=2, num_key_value_heads=2, rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]}
        )
        vision = {"depth": 1, "hidden_size": 16, "intermediate_size": 16, "num_heads": 2, "out_hidden_size": _TEXT}
        small = {"text_config": text, "vision_config": {**vision, "fullatt_block_indexes": [0]}}
    elif class_name == "CosmosTransformer3DModel":  # RoPE splits a 16-wide head 8 + 4 + 4; every scaled Qwen layer
        small = {"num_attention_heads": 2, "attention_head_dim": 16, "num_layers": 1, "adaln_lora_dim": 4}
        small.update(text_embed_dim=_TEXT, encoder_hidden_states_channels=_TEXT, crossattn_proj_in_channels=2 * _TEXT)
        small["concat_padding_mask"] = False  # its resize is torchvision's, which this CPU torch has no build of
    elif class_name == "MochiTransformer3DModel":  # one block (the context-pre-only last), a 16-wide text stream
        small = {"num_attention_heads": 2, "attention_head_dim": 8, "num_layers": 1, "pooled_projection_dim": 16}
        small.update(text_embed_dim=_TEXT, time_embed_dim=4)
    elif class_name == "AutoencoderKLMochi":  # 32 groups per norm: 32 wide; one resnet, the decoder's at latent size
        small = {k: [32] * 4 for k in ("encoder_block_out_channels", "decoder_block_out_channels")}
        small["layers_per_block"] = [0, 0, 0, 0, 1]
    elif class_name == "LTX2VideoTransformer3DModel":  # each stream's heads x width is its cross_attention_dim
        small = {"num_attention_heads": 2, "attention_head_dim": 16, "cross_attention_dim": 32, "num_layers": 1}
        small.update(audio_num_attention_heads=2, audio_attention_head_dim=8, audio_cross_attention_dim=16)
        small.update(caption_channels=_TEXT, audio_in_channels=8, audio_out_channels=8)  # the scaled audio VAE's
    elif class_name == "LTX2TextConnectors":  # over the scaled Gemma's 3 hidden states; 8 registers divide 16 tokens
        small = {"caption_channels": _TEXT, "text_proj_in_factor": 3}
        for stream in ("video", "audio"):
            small.update({f"{stream}_connector_num_attention_heads": 2, f"{stream}_connector_attention_head_dim": 16})
            small.update({f"{stream}_connector_num_layers": 1, f"{stream}_connector_num_learnable_registers": 8})
    elif class_name == "AutoencoderKLLTX2Video":  # the widths' ratios kept, as LTX-Video's
        small = {k: [c // 32 for c in config[k]] for k in ("block_out_channels", "decoder_block_out_channels")}
        small.update({k: [1] * len(config[k]) for k in ("layers_per_block", "decoder_layers_per_block")})
    elif class_name == "AutoencoderKLLTX2Audio":  # its latent statistics span latent channels x mel bins / 4 (2 x 4)
        small = {"base_channels": 8, "num_res_blocks": 1, "latent_channels": 2, "mel_bins": 16}
    elif class_name == "LTX2Vocoder":  # the scaled spectrogram's 2 x 16; five upsamplings halve the width: 32 -> 1
        small = {"in_channels": 32, "hidden_channels": 32, "resnet_kernel_sizes": [3], "resnet_dilations": [[1, 3, 5]]}
    elif class_name == "Gemma3ForConditionalGeneration":  # 2 layers: 3 stacked hidden states for LTX-2's connectors
        text = {"vocab_size": 256, "hidden_size": _TEXT, "intermediate_size": 64, "num_hidden_layers": 2}
        text.update(num_attention_heads=2, num_key_value_heads=1, head_dim=16, query_pre_attn_scalar=16)
        vision = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2}
        # 56 px in 14 px patches: 4 x 4, pooled to the 2 x 2 image tokens mm_tokens_per_image says
        small = {"text_config": text, "vision_config": {**vision, "image_size": 56}, "mm_tokens_per_image": 4}
    elif class_name == "SiglipVisionModel":
        small = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2}
        small["patch_size"] = 32
    elif class_name == "SanaVideoTransformer3DModel":
        small = {"num_attention_heads": 2, "attention_head_dim": 12, "num_layers": 1, "num_cross_attention_heads": 2}
        small.update(cross_attention_head_dim=12, cross_attention_dim=24, caption_channels=_TEXT, sample_size=8)
        small["rope_max_seq_len"] = 32
    elif class_name in ("AutoencoderKLCogVideoX", "AutoencoderKLHunyuanVideo", "AutoencoderKL", "AutoencoderKLMagvit"):
        small = {**_eights(config), **_SMALL_2D}
    elif class_name == "UNet3DConditionModel":
        small = {**_eights(config), **_SMALL_2D, "cross_attention_dim": _TEXT, "attention_head_dim": 4}
    elif class_name == "UNetMotionModel":
        small = {**_eights(config), **_SMALL_2D, "cross_attention_dim": _TEXT}
        small.update(num_attention_heads=2, motion_num_attention_heads=2)
    elif class_name == "ControlNetModel":  # the scaled UNetMotionModel's encoder: its residuals join it
        small = {**_eights(config), **_SMALL_2D, "cross_attention_dim": _TEXT, "attention_head_dim": 2}
    elif class_name == "MotionAdapter":
        small = {**_eights(config), "motion_layers_per_block": 1, "motion_norm_num_groups": 2}
        small["motion_num_attention_heads"] = 2
    elif class_name == "UNetSpatioTemporalConditionModel":  # 32 wide (32-group norms); SVD's and SVD-XT's alike
        small = {"block_out_channels": [32] * 4, "num_attention_heads": [2] * 4, "layers_per_block": 1}
        small.update(cross_attention_dim=_TEXT, addition_time_embed_dim=4, projection_class_embeddings_input_dim=12)
        small["num_frames"] = 4
    elif class_name == "AutoencoderKLTemporalDecoder":  # 32-group norms: 32 wide
        small = {"block_out_channels": [32] * 4, "layers_per_block": 1}
    elif class_name == "EasyAnimateTransformer3DModel":  # 3D RoPE splits a 16-wide head 4 + 6 + 6; one MMDiT block
        small = {"num_attention_heads": 2, "attention_head_dim": 16, "num_layers": 2, "mmdit_layers": 1}
        small.update(time_embed_dim=16, text_embed_dim=_TEXT)
    elif class_name == "Qwen2VLForConditionalGeneration":  # the text model (mrope over 8 frequencies), a 1-block tower
        text = {"vocab_size": 256, "hidden_size": _TEXT, "intermediate_size": 64, "num_hidden_layers": 2}
        text.update(num_attention_heads=2, num_key_value_heads=2)
        text["rope_scaling"] = {"type": "mrope", "mrope_section": [2, 3, 3]}
        vision = {"depth": 1, "embed_dim": 16, "hidden_size": _TEXT, "num_heads": 2}
        small = {"text_config": text, "vision_config": vision}
    elif class_name == "HeliosTransformer3DModel":  # its RoPE splits each 12-wide head 4 + 4 + 4
        small = {"num_attention_heads": 2, "attention_head_dim": 12, "ffn_dim": 64, "num_layers": 1}
        small.update(text_dim=_TEXT, freq_dim=32, rope_dim=[4, 4, 4])
    else:
        raise KeyError(f"no scaled-down values for {class_name}")
    return small


def scaled_down(preset: ArchPreset) -> ArchPreset:
    return preset.scaled(**{c.name: _shrink(c.class_name, c.config) for c in preset.components})


def task_media(pipe, task: str, num_frames: int, height: int, width: int) -> dict:
    """The media a task's pipeline call takes, at the call's size: images, a clip (and a mask), reference images or
    keyframe conditions (LTX video-to-video: the clip's latents, as the adapter hands them)."""
    from PIL import Image

    from videogen.video.spec import (
        CONTROL_TO_VIDEO,
        FIRST_LAST_FRAME,
        IMAGE_TO_VIDEO,
        KEYFRAMES,
        REFERENCE_TO_VIDEO,
        TEXT_TO_VIDEO,
        VIDEO_INPAINT,
        VIDEO_TO_VIDEO,
    )

    def image(shade: int) -> Image.Image:
        return Image.new("RGB", (width, height), (shade, 120, 255 - shade))

    clip = [image(200 - 30 * i % 200) for i in range(num_frames)]
    if task == TEXT_TO_VIDEO:
        return {}
    if type(pipe).__name__ == "Cosmos2_5_PredictBasePipeline" and task in (IMAGE_TO_VIDEO, VIDEO_TO_VIDEO):
        # as the adapter hands them: the image as a one-frame clip (its own path needs torchvision), a clip continued
        return (
            {"video": [image(200)], "num_latent_conditional_frames": 1} if task == IMAGE_TO_VIDEO else {"video": clip}
        )
    if type(pipe).__name__ == "EasyAnimateInpaintPipeline" and task in (IMAGE_TO_VIDEO, FIRST_LAST_FRAME):
        from videogen.video.families.easyanimate.adapter import inpaint_inputs  # the clip and mask the adapter makes

        last = image(40) if task == FIRST_LAST_FRAME else None
        video, mask = inpaint_inputs(image(200), last, num_frames, height, width)
        return {"video": video, "mask_video": mask}
    if task == IMAGE_TO_VIDEO:
        return {"image": image(200)}
    if task == FIRST_LAST_FRAME:
        return {"image": image(200), "last_image": image(40)}
    if task == VIDEO_TO_VIDEO and type(pipe).__name__ == "LTXConditionPipeline":
        from videogen.video.families.ltx_video.conditions import clip_latents

        return {"latents": clip_latents(pipe, clip, height, width), "denoise_strength": 0.8}
    if task == VIDEO_TO_VIDEO and type(pipe).__name__ == "SkyReelsV2DiffusionForcingVideoToVideoPipeline":
        return {"video": clip, "overlap_history": 1}  # extends the clip from its last frame: no strength
    if task == VIDEO_TO_VIDEO and type(pipe).__name__ == "LucyEditPipeline":
        return {"video": clip}  # edits the clip at every step: no strength
    if task == VIDEO_TO_VIDEO and type(pipe).__name__ in ("HeliosPipeline", "HeliosPyramidPipeline"):
        return {"video": clip}  # continues the clip: no strength
    if task == VIDEO_TO_VIDEO:
        return {"video": clip, "strength": 0.8}
    if task == KEYFRAMES:
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        last = num_frames - 1
        return {
            "conditions": [
                LTXVideoCondition(image=image(200), frame_index=0),
                LTXVideoCondition(image=image(40), frame_index=last),
            ]
        }
    if task == VIDEO_INPAINT:  # white: regenerate the middle square
        mask = Image.new("L", (width, height), 0)
        mask.paste(255, (width // 4, height // 4, 3 * width // 4, 3 * height // 4))
        return {"video": clip, "mask": [mask.convert("RGB")] * num_frames}
    if task == CONTROL_TO_VIDEO:  # each pipeline's own name for the control clip
        name = {"CogVideoXFunControlPipeline": "control_video", "AnimateDiffControlNetPipeline": "conditioning_frames"}
        return {name.get(type(pipe).__name__, "video"): clip}
    if task == REFERENCE_TO_VIDEO:
        return {"reference_images": [image(90)]}
    raise KeyError(f"no test media for task {task!r}")
