"""The page in real headless Chromium (Debian's, driven by Playwright): what a musician does."""

from __future__ import annotations

import os
import shutil

import pytest

from audiostyle.web.app import create_app
from audiostyle.web.limits import Limits
from tests.web.conftest import HOP_SECONDS, running, write_clip

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOLERANCE = max(HOP_SECONDS, 0.05)

if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
    pytest.skip("Debian's chromium is not installed (`make test` installs it)", allow_module_level=True)

DURATION_AFTER_METADATA = """(id) => new Promise((resolve) => {
  const a = document.getElementById(id);
  if (a.readyState >= 1) resolve(a.duration);
  else a.addEventListener("loadedmetadata", () => resolve(a.duration), { once: true });
})"""
IMAGE_WIDTH_WHEN_LOADED = """() => new Promise((resolve) => {
  const img = document.getElementById("spectrogram");
  if (img.complete) resolve(img.naturalWidth);
  else { img.addEventListener("load", () => resolve(img.naturalWidth), { once: true });
         img.addEventListener("error", () => resolve(-1), { once: true }); }
})"""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def site(web_models):
    app = create_app(web_models, Limits(max_seconds=3.0, max_upload_mb=0.5))
    with running(app) as url:
        yield url


@pytest.fixture
def page(browser, site):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(site)
    page.wait_for_function("document.getElementById('model').options.length > 0")
    yield page
    context.close()


def press_and_wait(page) -> str:
    page.click("#go")
    page.wait_for_function("!document.getElementById('go').disabled && "
                           "/^Done|error/.test(document.getElementById('status').textContent + "
                           "document.getElementById('status').className)")
    return page.inner_text("#status")


def test_upload_transfer_play_and_download(page, tmp_path):
    clip = write_clip(tmp_path / "my take.wav", 2.0)
    page.set_input_files("#clip", str(clip))
    assert page.eval_on_selector("#instrument", "s => [...s.options].map(o => o.value)") == ["piano", "violin"]
    page.select_option("#instrument", "violin")
    assert press_and_wait(page).startswith("Done: 2.00 s transferred to violin")
    assert page.is_visible("#results")
    out = page.evaluate(DURATION_AFTER_METADATA, "output-audio")
    inp = page.evaluate(DURATION_AFTER_METADATA, "input-audio")
    assert abs(inp - 2.0) <= TOLERANCE and abs(out - inp) <= TOLERANCE, (inp, out)
    assert page.evaluate(IMAGE_WIDTH_WHEN_LOADED) > 0
    assert page.inner_text("#output-title") == "Output: violin (tiny)"
    href = page.eval_on_selector("#download", "a => a.href")  # absolute URL
    download = page.request.get(href)
    assert download.status == 200 and download.headers["content-disposition"].startswith("attachment")
    assert download.body()[:4] == b"RIFF"


def test_bundled_example_with_a_reference_clip(page, tmp_path):
    info = page.evaluate("fetch('/api/info').then(r => r.json())")
    example = info["examples"][0]
    page.check(f"#source-{example['id']}")
    page.set_input_files("#reference", str(write_clip(tmp_path / "ref.wav", 1.0, freq=660)))
    page.select_option("#instrument", "piano")
    assert press_and_wait(page).startswith("Done:")
    out = page.evaluate(DURATION_AFTER_METADATA, "output-audio")
    assert abs(out - example["seconds"]) <= TOLERANCE
    assert page.evaluate(IMAGE_WIDTH_WHEN_LOADED) > 0


def test_bad_uploads_show_a_clear_message(page, tmp_path):
    cases = {
        "no_file": (None, "Choose a clip to upload"),
        "not_audio": ("notes.wav", "notes.wav: not a readable audio file"),
        "too_long": ("long.wav", "long.wav: is 4.0 s long; the limit is 3.0 s"),
        "too_big": ("huge.wav", "The upload is 0.6 MB; the limit is 0.5 MB per request"),
    }
    (tmp_path / "notes.wav").write_text("these are my notes, not audio\n" * 20)
    write_clip(tmp_path / "long.wav", 4.0)
    (tmp_path / "huge.wav").write_bytes(b"\0" * 600_000)
    for name, expected in cases.values():
        if name:
            page.set_input_files("#clip", str(tmp_path / name))
        assert expected in press_and_wait(page), name
        assert page.get_attribute("#status", "class") == "error"
        assert page.is_hidden("#results")
