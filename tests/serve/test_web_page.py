"""The web page at / in headless Chromium (Debian's chromium driven by Playwright), against the served app.

Load the page, a bad value shown beside its field, submit a tiny job, watch its progress reach done,
the <video> plays (readyState >= 2), cancel a long job. ``make install`` sets up Playwright and
Debian's chromium; without them this test fails (it is never skipped).
"""

from __future__ import annotations

import os
import shutil

import pytest

from playwright import sync_api
pytestmark = pytest.mark.serve

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def page(served_app):
    assert CHROMIUM, "no chromium binary: `make install` installs Debian's (apt-get install -y chromium)"
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page()
        page.goto(served_app.base_url + "/")
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        yield page
        browser.close()


def _fill(page, family, **fields):
    page.select_option("#family", family)
    page.select_option("#task", "text-to-video")
    for name in ("num_frames", "width", "height", "num_inference_steps", "seed"):
        page.fill(f"#{name}", str(fields.get(name, "")))


def test_bad_value_is_shown_beside_its_field(page):
    _fill(page, "wan", num_inference_steps=500)
    page.click("#submit-btn")
    error = page.locator(".field-error[data-for='num_inference_steps']")
    sync_api.expect(error).to_contain_text("num_inference_steps", timeout=15_000)
    assert "invalid" in (page.get_attribute("#num_inference_steps", "class") or "")


def test_estimate_submit_progress_and_the_video_plays(page):
    _fill(page, "ltx-video", num_inference_steps=2, seed=4)
    page.click("#estimate-btn")
    sync_api.expect(page.locator("#estimate")).to_contain_text("estimate", timeout=15_000)
    page.click("#submit-btn")
    sync_api.expect(page.locator("#job-stage")).to_have_attribute("data-status", "succeeded", timeout=60_000)
    assert page.eval_on_selector("#job-progress", "p => p.value") == 100
    page.wait_for_function("() => document.querySelector('#job-video').readyState >= 2", timeout=30_000)
    sync_api.expect(page.locator("#gallery .tile img").first).to_be_visible(timeout=15_000)
    if os.environ.get("VIDEOGEN_SCREENSHOT"):  # the README's picture: VIDEOGEN_SCREENSHOT=docs/web-page.png
        page.wait_for_timeout(1000)
        page.screenshot(path=os.environ["VIDEOGEN_SCREENSHOT"], full_page=True)
    assert "RUNNING" in page.inner_text("#runtime") or "HEALTHY" in page.inner_text("#runtime")


def test_cancel(page):
    before = page.inner_text("#job-id")
    _fill(page, "cogvideox", num_inference_steps=200, num_frames=49, seed=1)
    page.click("#submit-btn")
    page.wait_for_function(
        "prev => { const id = document.querySelector('#job-id').textContent;"
        " const s = document.querySelector('#job-stage').dataset.status;"
        " return id && id !== prev && (s === 'queued' || s === 'running'); }",
        arg=before, timeout=30_000,
    )
    page.click("#cancel-btn")
    sync_api.expect(page.locator("#job-stage")).to_have_attribute("data-status", "cancelled", timeout=60_000)
