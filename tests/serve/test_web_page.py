"""The web page at / in headless Chromium (Debian's chromium driven by Playwright), against the served app.

Load the page, the served (tiny) model's defaults as placeholders and an estimate that admits them, a bad
value shown beside its field, submit a tiny job, watch its progress reach done, the <video> player plays it
(readyState >= 2) at a visible size, cancel a long job. Hostile data (prompts, a family name echoed in an
error) is rendered as text, never as markup, and the page's Content-Security-Policy blocks inline script.
``make install`` sets up Playwright and Debian's chromium; without them this test fails (it is never skipped).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from html.parser import HTMLParser

import numpy as np
import pytest
from playwright import sync_api
from serve_helpers import wait_job, wait_until
from testkit import png_bytes

from videogen.serve.web import CONTENT_SECURITY_POLICY, WEB_DIR
from videogen.video.encode import write_mp4
from videogen.video.spec import KEYFRAMES, TASK_INPUTS, TASK_OPTIONAL_INPUTS, TEXT_TO_VIDEO, VIDEO_INPAINT

pytestmark = pytest.mark.serve

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOSTILE_PROMPTS = (
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=2</script>",
    '"><svg onload=window.__pwned=3>',
)
HOSTILE_MODEL = "<img src=x onerror=window.__pwned=4>"
HOSTILE_FAMILY = "<img src=x onerror=window.__pwned=5>"
# Elements only hostile data could have put in the page (it has no svg, iframe or <img src="x"> of its own).
INJECTED = "img[src='x'], svg, iframe, object, embed"


@pytest.fixture(scope="module")
def page(served_app):
    assert CHROMIUM, "no chromium binary: `make install` installs Debian's (apt-get install -y chromium)"
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
        )
        page = browser.new_page()
        page.goto(served_app.base_url + "/")
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        yield page
        browser.close()


def _reload(page):
    page.reload()
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)


def _fill(page, family, **fields):
    page.select_option("#family", family)
    page.select_option("#task", "text-to-video")
    for name in ("num_frames", "width", "height", "num_inference_steps", "seed"):
        page.fill(f"#{name}", str(fields.get(name, "")))


def _pwned(page) -> str:
    return page.evaluate("() => typeof window.__pwned")


class _Markup(HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        self.problems += [f"<{tag} {n}=...>" for n in names if n.startswith("on") or n == "style"]
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            self._in_script = True
            if "src" not in names:
                self.problems.append("<script> without src")

    def handle_endtag(self, tag):
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append("inline script text")


def test_the_page_and_its_files_carry_a_strict_policy(served_app):
    with served_app.client() as c:
        scripts = sorted(f"/ui/{p.name}" for p in WEB_DIR.glob("*.js"))
        assert {"/ui/app.js", "/ui/dom.js", "/ui/media.js"} <= set(scripts)
        for path in ("/", *scripts, "/ui/style.css"):
            r = c.get(path)
            assert r.status_code == 200, path
            csp = r.headers["content-security-policy"]
            assert csp == CONTENT_SECURITY_POLICY, path
            assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe" not in csp
            assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"
            if path.endswith(".js"):  # module scripts run only with a JavaScript type under nosniff
                assert r.headers["content-type"].startswith("text/javascript"), (path, r.headers["content-type"])
        assert c.get("/ui/__init__.py").status_code == 404  # /ui serves the page's files, not the package's
    markup = _Markup()
    markup.feed((WEB_DIR / "index.html").read_text())
    assert markup.problems == []
    for path in WEB_DIR.glob("*.js"):
        script = path.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in script, (path.name, sink)


def test_placeholders_and_estimate_use_the_served_models_defaults(page, served_app):
    with served_app.client() as c:
        # the estimate judges on the hardware a replica reported: wait for wan's report
        wait_until(lambda: c.post("/api/video/estimate", json={"family": "wan", "prompt": "x"}).json()["reported_by"])
        wan = next(m for m in c.get("/api/video/models").json()["models"] if m["id"] == "wan")
    served = wan["request_defaults"]["text-to-video"]
    # the tiny model's defaults, not the real family's (81 frames at 832x480)
    assert (served["num_frames"], served["width"], served["height"]) != tuple(
        wan["defaults"][k] for k in ("num_frames", "width", "height")
    )
    _fill(page, "wan")
    for name in ("num_frames", "width", "height", "num_inference_steps"):
        assert page.get_attribute(f"#{name}", "placeholder") == str(served[name]), name
    limits = page.inner_text("#limits")
    size = wan["request_limits"]["text-to-video"]["size"]
    assert f"{size['min']} to {size['max']} in multiples of {size['multiple']}" in limits
    assert f"defaults {served['num_frames']} frames at {served['width']}×{served['height']}" in limits
    assert page.get_attribute("#num_frames", "step") == "4" and page.get_attribute("#width", "min") == str(size["min"])
    page.click("#estimate-btn")
    sync_api.expect(page.locator("#estimate")).to_have_attribute("data-verdict", "admitted", timeout=15_000)
    assert "refused" not in page.inner_text("#estimate") and "Estimate: about" in page.inner_text("#estimate")


def test_bad_value_is_shown_beside_its_field(page):
    _fill(page, "wan", num_inference_steps=500)
    page.click("#submit-btn")
    error = page.locator(".field-error[data-for='num_inference_steps']")
    sync_api.expect(error).to_contain_text("num_inference_steps", timeout=15_000)
    assert "(allowed: at most 200)" in error.inner_text()  # the error's `allowed`, as words
    assert "invalid" in (page.get_attribute("#num_inference_steps", "class") or "")


def test_several_lora_adapters_are_ticked_with_their_scales(page, served_app):
    """wan declares two adapters (tests/serve/conftest.py): a row each, ticked to use it; a scale outside its
    range is refused beside its row; both ticked run together with their scales."""
    _fill(page, "wan", num_inference_steps=2, seed=3)
    rows = page.locator("#loras .lora")
    sync_api.expect(rows).to_have_count(2)
    assert page.is_visible("#loras-row") and "tiny A" in rows.nth(0).inner_text()
    assert rows.nth(1).locator(".lora-scale").get_attribute("max") == "1"  # style-b's scale_range
    rows.nth(0).locator(".lora-use").check()
    rows.nth(1).locator(".lora-use").check()
    rows.nth(1).locator(".lora-scale").fill("5")
    page.click("#submit-btn")
    sync_api.expect(rows.nth(1).locator(".field-error")).to_contain_text("scale", timeout=15_000)
    assert "invalid" in (rows.nth(1).locator(".lora-scale").get_attribute("class") or "")
    rows.nth(1).locator(".lora-scale").fill("0.5")
    page.click("#submit-btn")
    sync_api.expect(page.locator("#job-stage")).to_have_attribute("data-status", "succeeded", timeout=60_000)
    with served_app.client() as c:
        job = c.get(f"/api/video/jobs/{page.inner_text('#job-id')}").json()
    assert job["params"]["loras"] == [{"name": "style-a", "scale": 1.0}, {"name": "style-b", "scale": 0.5}]
    _fill(page, "cogvideox")  # a model without adapters: no rows
    assert not page.is_visible("#loras-row")


def test_estimate_submit_progress_and_the_video_plays(page):
    _fill(page, "ltx-video", num_inference_steps=2, seed=4)
    page.click("#estimate-btn")
    sync_api.expect(page.locator("#estimate")).to_contain_text("Estimate", timeout=15_000)
    before = page.inner_text("#job-id")  # an earlier test's job may be shown, succeeded: wait for this one
    page.click("#submit-btn")
    sync_api.expect(page.locator("#job-id")).not_to_have_text(before, timeout=15_000)
    sync_api.expect(page.locator("#job-stage")).to_have_attribute("data-status", "succeeded", timeout=60_000)
    assert page.eval_on_selector("#job-progress", "p => p.value") == 100
    page.wait_for_function("() => document.querySelector('#job-video').readyState >= 2", timeout=30_000)
    video = page.eval_on_selector(
        "#job-video", "v => ({w: v.videoWidth, shown: v.getBoundingClientRect().width, controls: v.controls})"
    )
    # a real player: controls, and a 32-pixel tiny video scaled up by a whole factor to be seen
    assert video["controls"] and video["w"] > 0 and video["shown"] >= 320 and video["shown"] % video["w"] == 0, video
    assert "download MP4" in page.inner_text("#job-facts")
    sync_api.expect(page.locator("#gallery .tile img").first).to_be_visible(timeout=15_000)
    if os.environ.get("VIDEOGEN_SCREENSHOT"):  # the README's picture: VIDEOGEN_SCREENSHOT=docs/web-page.png
        page.wait_for_timeout(1000)
        page.screenshot(path=os.environ["VIDEOGEN_SCREENSHOT"], full_page=True)
    runtime = page.inner_text("#runtime")
    assert "RUNNING" in runtime or "HEALTHY" in runtime
    assert "Device" in runtime and "cpu" in runtime and "Load policy" in runtime and "ltx-video" in runtime
    assert "{" not in runtime  # words, not JSON


def test_an_ltx2_video_plays_with_its_sound_and_the_box_leaves_it_out(page, served_app):
    """A family with sound shows the "Sound" box (ticked); its video plays unmuted and the browser decodes its AAC
    track; unticked, the job keeps no track. A family without sound has no box."""
    _fill(page, "ltx2", num_inference_steps=2, seed=4)
    assert page.is_visible("#with_audio-row") and page.is_checked("#with_audio")
    for with_audio in (True, False):
        page.set_checked("#with_audio", with_audio)
        before = page.inner_text("#job-id")
        page.click("#submit-btn")
        sync_api.expect(page.locator("#job-id")).not_to_have_text(before, timeout=15_000)
        sync_api.expect(page.locator("#job-stage")).to_have_attribute("data-status", "succeeded", timeout=60_000)
        page.wait_for_function("() => document.querySelector('#job-video').readyState >= 2", timeout=30_000)
        with served_app.client() as c:
            assert c.get(f"/api/video/jobs/{page.inner_text('#job-id')}").json()["params"]["with_audio"] is with_audio
        if with_audio:  # Chromium counts the audio it decoded while the (looping) video plays
            page.wait_for_function(
                "() => { const v = document.querySelector('#job-video');"
                " return !v.muted && !v.paused && v.webkitAudioDecodedByteCount > 0; }",
                timeout=15_000,
            )
            assert "with sound" in page.inner_text("#job-facts")
        else:
            assert "with sound" not in page.inner_text("#job-facts")
    _fill(page, "wan")
    assert page.is_hidden("#with_audio-row")


def test_a_skyreels_long_video_takes_the_forcing_fields_and_shows_its_block(page, served_app):
    """A diffusion-forcing family shows its own fields: a long video in two of the tiny model's windows, its last
    step shown in the second block; the fields reach the job, and a family without them hides them."""
    _fill(page, "skyreels-v2", num_frames=13, num_inference_steps=2, seed=4)
    assert page.is_visible("#forcing-row")
    page.fill("#ar_step", "1")
    before = page.inner_text("#job-id")
    page.click("#submit-btn")
    sync_api.expect(page.locator("#job-id")).not_to_have_text(before, timeout=15_000)
    sync_api.expect(page.locator("#job-stage")).to_have_attribute("data-status", "succeeded", timeout=60_000)
    assert "step 6/6 (block 2/2)" in page.inner_text("#job-stage")
    with served_app.client() as c:
        job = c.get(f"/api/video/jobs/{page.inner_text('#job-id')}").json()
        assert job["params"]["forcing"]["ar_step"] == 1 and job["params"]["denoising_blocks"] == [4, 2]
    page.fill("#ar_step", "")
    _fill(page, "wan")
    assert page.is_hidden("#forcing-row")


def test_video_to_video_from_an_uploaded_clip(page, tmp_path):
    """The task's own inputs: an input video (previewed in the page) and a strength; the job restyles it."""
    import numpy as np

    from videogen.video.encode import write_mp4

    clip = tmp_path / "clip.mp4"
    write_mp4(np.random.default_rng(3).integers(0, 255, (9, 32, 32, 3), dtype=np.uint8), clip, fps=16)
    page.select_option("#family", "wan")
    page.select_option("#task", "video-to-video")
    assert page.is_hidden("#image-row") and page.is_visible("#video-row") and page.is_visible("#strength-row")
    page.set_input_files("#video", str(clip))
    page.wait_for_function("() => document.querySelector('#video-previews video').readyState >= 1", timeout=15_000)
    page.fill("#strength", "0.5")
    for name in ("num_frames", "width", "height", "seed"):
        page.fill(f"#{name}", "")
    page.fill("#num_inference_steps", "2")
    page.click("#submit-btn")
    sync_api.expect(page.locator("#job-stage")).to_have_attribute("data-status", "succeeded", timeout=60_000)
    page.wait_for_function("() => document.querySelector('#job-video').readyState >= 2", timeout=30_000)
    page.select_option("#task", "text-to-video")  # the inputs of another task go away again
    assert page.is_hidden("#video-row") and page.is_hidden("#strength-row")


# -- the task media inputs (mask, reference images, keyframes, conditioning scale) ------------------------------------
MEDIA_ROWS = (
    "image",
    "last_image",
    "video",
    "mask",
    "reference_images",
    "conditions",
    "strength",
    "conditioning_scale",
)
HOSTILE_FILE = "<img src=x onerror=window.__pwned=6>.txt"
JOBS = re.compile(r".*/api/video/jobs$")


def _models_view(served_app) -> dict:
    with served_app.client() as c:
        return c.get("/api/video/models").json()


def _takes(m: dict, task: str) -> list[str]:
    return m["required_inputs"][task] + m["optional_inputs"][task]


def _offering(view: dict, task: str) -> str:
    """The served family that offers ``task`` (ltx-video's keyframes, wan's video-inpaint through VACE)."""
    families = [
        m["id"]
        for m in view["models"]
        if m.get("served") and m["task_support"].get(task, "not_supported") != "not_supported"
    ]
    assert families, f"no served family offers {task}"
    return families[0]


def _choose(page, family: str, task: str, **fields):
    page.select_option("#family", family)
    page.select_option("#task", task)
    for name in ("num_frames", "width", "height", "num_inference_steps", "seed"):
        page.fill(f"#{name}", str(fields.get(name, "")))


def _shown(page) -> set[str]:
    return {f for f in MEDIA_ROWS if page.is_visible(f"#{f}-row")}


def _submitted(page) -> dict:
    with page.expect_request(lambda r: r.method == "POST" and JOBS.match(r.url) is not None) as sent:
        page.click("#submit-btn")
    return sent.value.post_data_json


def _refused_as_text(page, field: str, *words: str):
    slot = page.locator(f".field-error[data-for='{field}']")
    sync_api.expect(slot).to_contain_text(words[0], timeout=15_000)
    text = slot.inner_text()
    assert all(w in text for w in words), text
    return text


def test_media_inputs_appear_only_for_tasks_that_take_them(page, served_app):
    view = _models_view(served_app)
    wan = next(m for m in view["models"] if m["id"] == "wan")
    assert wan["optional_inputs"]["video-to-video"] == ["strength"]  # the models view says what each task may take
    seen = set()
    for m in (m for m in view["models"] if m.get("served")):
        for task in (t for t in m["tasks"] if m["task_support"][t] != "not_supported"):
            page.select_option("#family", m["id"])
            page.select_option("#task", task)
            assert _shown(page) == set(_takes(m, task)) & set(MEDIA_ROWS), (m["id"], task)
            seen.add(task)
    assert {TEXT_TO_VIDEO, "image-to-video", "video-to-video", "first-last-frame"} <= seen
    assert {KEYFRAMES, VIDEO_INPAINT} <= seen  # ltx-video's keyframes, wan's video-inpaint
    for task in (KEYFRAMES, VIDEO_INPAINT):
        page.select_option("#family", _offering(view, task))
        page.select_option("#task", task)
        assert _shown(page) == set(TASK_INPUTS[task] + TASK_OPTIONAL_INPUTS.get(task, ())) & set(MEDIA_ROWS), task
        page.select_option("#task", TEXT_TO_VIDEO)
        assert _shown(page) == set()


def test_keyframes_are_sent_and_refusals_shown_beside_their_row(page, served_app, tmp_path):
    view = _models_view(served_app)
    (tmp_path / "key.png").write_bytes(png_bytes(32))
    family = _offering(view, KEYFRAMES)
    _choose(page, family, KEYFRAMES, num_inference_steps=2, seed=3)
    assert page.locator("#conditions .condition").count() == 1  # one row to start with
    page.click("#add-condition")
    assert page.locator("#conditions .condition").count() == 2
    page.locator("#conditions .condition-remove").nth(1).click()
    assert page.locator("#conditions .condition").count() == 1
    page.set_input_files("#conditions .condition-file", str(tmp_path / "key.png"))
    page.wait_for_function("() => document.querySelector('#conditions .previews img')?.naturalWidth > 0")
    page.fill("#conditions .condition-frame", "0")
    page.fill("#conditions .condition-strength", "0.8")
    body = _submitted(page)
    assert body["task"] == KEYFRAMES and len(body["conditions"]) == 1
    condition = body["conditions"][0]
    assert condition["image"].startswith("data:image/png;base64,") and "video" not in condition
    assert (condition["frame_index"], condition["strength"]) == (0, 0.8)
    sync_api.expect(page.locator("#job-stage")).to_have_attribute("data-status", "succeeded", timeout=60_000)
    sync_api.expect(page.locator("#job-facts")).to_contain_text(
        f"{family} · {KEYFRAMES} · download MP4", timeout=30_000
    )
    # a frame index the request refuses: the server names conditions.0.frame_index; shown beside the row
    page.fill("#conditions .condition-frame", "5000")
    assert _submitted(page)["conditions"][0]["frame_index"] == 5000
    _refused_as_text(page, "conditions[0].frame_index", "frame_index", "at most 1023")
    assert "invalid" in (page.get_attribute("#conditions .condition-frame", "class") or "")
    # a file that is neither an image nor a clip, with a hostile name: refused beside its row, the name as text
    page.fill("#conditions .condition-frame", "0")
    page.set_input_files(
        "#conditions .condition-file", files=[{"name": HOSTILE_FILE, "mimeType": "text/plain", "buffer": b"hi"}]
    )
    page.click("#submit-btn")
    text = _refused_as_text(page, "conditions[0].media", HOSTILE_FILE, "is not a PNG, JPEG or WebP image")
    assert text.startswith(f'"{HOSTILE_FILE}"')
    page.wait_for_timeout(300)
    assert _pwned(page) == "undefined" and page.eval_on_selector_all(INJECTED, "els => els.length") == 0


def test_inpaint_inputs_are_sent_with_previews_and_refusals_shown(page, served_app, tmp_path):
    view = _models_view(served_app)
    clip, mask = tmp_path / "clip.mp4", tmp_path / "mask.png"
    write_mp4(np.random.default_rng(5).integers(0, 255, (9, 32, 32, 3), dtype=np.uint8), clip, fps=16)
    mask.write_bytes(png_bytes(32))
    refs = []
    for i in range(5):
        refs.append(tmp_path / f"ref{i}.png")
        refs[-1].write_bytes(png_bytes(24 + i))
    family = _offering(view, VIDEO_INPAINT)
    _choose(page, family, VIDEO_INPAINT, num_inference_steps=2, seed=3)
    page.set_input_files("#video", str(clip))
    page.set_input_files("#mask", str(mask))
    page.set_input_files("#reference_images", [str(p) for p in refs[:2]])
    page.fill("#conditioning_scale", "0.7")
    page.wait_for_function("() => document.querySelector('#video-previews video')?.readyState >= 1")
    preview = page.eval_on_selector(
        "#video-previews video", "v => ({muted: v.muted, loop: v.loop, blob: v.src.startsWith('blob:')})"
    )
    assert preview == {"muted": True, "loop": True, "blob": True}
    page.wait_for_function("() => document.querySelector('#mask-previews img')?.naturalWidth > 0")
    assert page.locator("#reference_images-previews img").count() == 2
    body = _submitted(page)
    assert body["task"] == VIDEO_INPAINT and body["video"].startswith("data:video/mp4;base64,")
    assert body["mask"].startswith("data:image/png;base64,") and body["conditioning_scale"] == 0.7
    assert [r[:22] for r in body["reference_images"]] == ["data:image/png;base64,"] * 2
    assert "conditions" not in body and "strength" not in body
    sync_api.expect(page.locator("#job-stage")).to_have_attribute("data-status", "succeeded", timeout=60_000)
    sync_api.expect(page.locator("#job-facts")).to_contain_text(
        f"{family} · {VIDEO_INPAINT} · download MP4", timeout=30_000
    )
    page.set_input_files("#reference_images", [str(p) for p in refs])  # five: refused in the page, by name
    page.click("#submit-btn")
    _refused_as_text(page, "reference_images", "5 images chosen; at most 4")
    page.set_input_files("#reference_images", [])
    page.set_input_files("#mask", files=[{"name": HOSTILE_FILE, "mimeType": "text/plain", "buffer": b"hi"}])
    assert page.locator("#mask-previews > *").count() == 0  # nothing to preview
    page.click("#submit-btn")
    _refused_as_text(page, "mask", HOSTILE_FILE, "is not an MP4, WebM or MOV video or a PNG, JPEG or WebP image")
    # a mask the server cannot read (a PNG's name and type, not its bytes): its 4xx names mask, shown beside it
    page.set_input_files("#mask", files=[{"name": "mask.png", "mimeType": "image/png", "buffer": b"not a png"}])
    assert _submitted(page)["mask"].startswith("data:image/png;base64,")
    _refused_as_text(page, "mask", "mask")
    # several images: an image sequence, sent in name order; one of another size is refused naming its index
    frames = [tmp_path / "frame10.png", tmp_path / "frame2.png"]
    frames[0].write_bytes(png_bytes(40))
    frames[1].write_bytes(png_bytes(32))
    page.set_input_files("#mask", [str(p) for p in frames])
    sent = _submitted(page)["mask"]
    assert [base64.b64decode(m.partition(",")[2]) for m in sent] == [png_bytes(32), png_bytes(40)]  # 2 before 10
    _refused_as_text(page, "mask", "mask[1]", "all of one size")
    page.wait_for_timeout(300)
    assert _pwned(page) == "undefined" and page.eval_on_selector_all(INJECTED, "els => els.length") == 0


def test_hostile_data_is_rendered_as_text(page, served_app):
    with served_app.client() as c:
        jobs = [
            c.post("/api/video/jobs", json={"family": family, "prompt": prompt, "num_inference_steps": 2}).json()
            for family, prompt in zip(("wan", "text-to-video-sd"), HOSTILE_PROMPTS[:2], strict=True)
        ]
        v1 = c.post(
            "/v1/videos", json={"prompt": HOSTILE_PROMPTS[2], "model": "wan2.1-t2v-1.3b", "num_inference_steps": 2}
        )
        assert v1.status_code == 200, v1.text
        jobs.append(v1.json())
        refused = c.post("/v1/videos", json={"prompt": "x", "model": HOSTILE_MODEL})
        assert refused.status_code == 400 and HOSTILE_MODEL in refused.json()["error"]["message"]
        for job in jobs:
            assert wait_job(c, job["id"])["status"] == "succeeded", job
    _reload(page)
    prompts = page.eval_on_selector_all("#gallery .tile-prompt", "els => els.map(e => e.textContent)")
    assert set(HOSTILE_PROMPTS) <= set(prompts), prompts  # literally, as text
    # the family <select> sends a name the server echoes in its error: shown beside the field, as text
    page.evaluate(
        "name => { const o = document.createElement('option'); o.value = o.textContent = name;"
        " o.id = 'hostile-family'; document.querySelector('#family').append(o); }",
        HOSTILE_FAMILY,
    )
    page.select_option("#family", HOSTILE_FAMILY)
    page.click("#submit-btn")
    family_error = page.locator(".field-error[data-for='family']")
    sync_api.expect(family_error).to_contain_text(HOSTILE_FAMILY, timeout=15_000)
    assert "not served here" in family_error.inner_text()
    page.evaluate("() => document.querySelector('#hostile-family').remove()")
    _fill(page, "wan")
    # a hostile job opened from its gallery tile plays in the player, its prompt shown as text
    page.click(f"#gallery .tile[data-job='{jobs[0]['id']}']")
    sync_api.expect(page.locator("#job-id")).to_have_text(jobs[0]["id"], timeout=15_000)
    assert page.text_content("#job-prompt") == HOSTILE_PROMPTS[0]
    page.wait_for_function("() => document.querySelector('#job-video').readyState >= 2", timeout=30_000)
    page.wait_for_timeout(300)  # any handler the markup would have set off has had its chance
    assert _pwned(page) == "undefined"
    assert page.eval_on_selector_all(INJECTED, "els => els.length") == 0
    assert page.evaluate("() => [...document.scripts].map(s => new URL(s.src).pathname)") == ["/ui/app.js"]


def test_the_policy_blocks_inline_script(page):
    seen = page.evaluate("""() => new Promise((resolve) => {
        const seen = [];
        document.addEventListener('securitypolicyviolation', (e) => seen.push(e.effectiveDirective));
        const s = document.createElement('script');
        s.textContent = 'window.__inline = 1';
        document.body.append(s);
        const img = document.createElement('img');
        img.id = 'csp-probe';
        img.setAttribute('onerror', 'window.__handler = 1');
        img.setAttribute('src', '/no-such-picture');
        document.body.append(img);
        setTimeout(() => resolve(seen), 1000);
    })""")
    ran = page.evaluate("() => [typeof window.__inline, typeof window.__handler]")
    page.evaluate("() => document.querySelector('#csp-probe').remove()")
    assert ran == ["undefined", "undefined"]
    assert "script-src-elem" in seen and "script-src-attr" in seen, seen


def test_the_key_stays_in_this_tab_unless_remembered(page):
    storage = "() => [sessionStorage.getItem('videogen-key'), localStorage.getItem('videogen-key')]"

    def set_key(value):
        page.evaluate("() => { document.body.dataset.ready = '0'; }")
        page.fill("#api-key", value)
        page.dispatch_event("#api-key", "change")
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)

    set_key("k-test")
    assert page.evaluate(storage) == ["k-test", None]
    page.check("#remember-key")
    assert page.evaluate(storage) == ["k-test", "k-test"]
    page.uncheck("#remember-key")
    assert page.evaluate(storage) == ["k-test", None]
    set_key("")
    assert page.evaluate(storage) == [None, None]


def test_cancel(page):
    before = page.inner_text("#job-id")
    _fill(page, "cogvideox", num_inference_steps=200, num_frames=49, seed=1)
    page.click("#submit-btn")
    page.wait_for_function(
        "prev => { const id = document.querySelector('#job-id').textContent;"
        " const s = document.querySelector('#job-stage').dataset.status;"
        " return id && id !== prev && (s === 'queued' || s === 'running'); }",
        arg=before,
        timeout=30_000,
    )
    page.click("#cancel-btn")
    sync_api.expect(page.locator("#job-stage")).to_have_attribute("data-status", "cancelled", timeout=60_000)
