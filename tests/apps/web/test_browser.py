"""The web page in a real headless Chromium (Debian's, never a downloaded one) against a real
`impasto serve`: upload by picker and by drag-and-drop, start, watch, stop, download, the
gallery and "run again", refusals shown on the page, and a server killed mid-run."""

import base64
import json
import os
import shutil
import time
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from conftest import IMAGES
from impasto.record.provenance import read_record

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("no Chromium executable (install Debian's chromium package)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra)")

WAIT_MS = 90_000


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(site.url)
    page.wait_for_selector("#f-size")
    yield page
    context.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where screenshots go: $IMPASTO_SCREENSHOTS if set (to refresh docs/), else the test's folder."""
    return Path(os.environ.get("IMPASTO_SCREENSHOTS", tmp_path))


def drop_file(page, selector, path):
    """Drops a file on an element the way a file manager's drag-and-drop does."""
    data = base64.b64encode(path.read_bytes()).decode()
    transfer = page.evaluate_handle(
        """([data, name]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
            return transfer;
        }""",
        [data, path.name],
    )
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def watch_preview(page):
    page.evaluate("""() => {
        window.previews = new Set();
        const img = document.getElementById("preview");
        new MutationObserver(() => window.previews.add(img.src)).observe(img, { attributes: true, attributeFilter: ["src"] });
    }""")


def test_a_run_from_upload_to_download_and_gallery(page, site, shots, tmp_path):
    page.set_input_files("#pick-content", IMAGES / "tubingen.jpg")
    drop_file(page, "#drop-styles", IMAGES / "starry_night.jpg")
    page.wait_for_selector("#thumbs-content img")
    page.wait_for_selector("#thumbs-styles img")
    assert page.inner_text("#thumbs-styles") == "starry_night.jpg\n×"
    page.fill("#f-size", "128")
    page.fill("#f-iterations", "400")
    watch_preview(page)
    page.click("#start")

    page.wait_for_function("() => window.previews.size >= 3", timeout=WAIT_MS)  # the image changed at least twice
    page.wait_for_function("() => document.querySelectorAll('#queue li').length === 1")
    assert page.inner_text("#queue .state") == "RUNNING"
    assert page.inner_text("#progress-text").startswith("Iteration ")
    page.wait_for_timeout(600)
    page.screenshot(path=shots / "web-running.png")
    page.click("#stop")
    page.wait_for_selector("#live-downloads a", timeout=WAIT_MS)
    assert page.inner_text("#live-message").startswith("stopped: stopped at iteration")

    with page.expect_download() as download:
        page.click("#live-downloads a:has-text('Result (PNG)')")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(saved) as result:
        result.verify()
    assert read_record(saved)["settings"]["size"] == 128

    card = page.locator("#gallery article").first
    assert card.locator(".state").inner_text() == "STOPPED"
    assert "tubingen.jpg × starry_night.jpg" in card.inner_text()
    assert card.locator("img").first.evaluate("img => img.complete && img.naturalWidth > 0")

    card.locator("button:has-text('Run again with changes')").click()
    assert page.input_value("#f-size") == "128" and page.input_value("#f-iterations") == "400"
    assert page.inner_text("#thumbs-content") == "tubingen.jpg\n×"
    page.fill("#f-iterations", "6")
    page.click("#start")
    page.wait_for_function("() => document.querySelectorAll('#gallery article').length === 2", timeout=WAIT_MS)
    newest = page.locator("#gallery article").first
    assert newest.locator(".state").inner_text() == "DONE" and "6 it." in newest.inner_text()
    page.locator("#gallery-card").scroll_into_view_if_needed()
    page.screenshot(path=shots / "web-gallery.png")


def test_refusals_are_shown_on_the_page(page, tmp_path):
    fake = tmp_path / "fake.png"
    fake.write_text("this is text, not a picture\n")
    page.set_input_files("#pick-content", fake)
    page.wait_for_selector("[data-error-for=images]:has-text('fake.png is not a PNG')")

    big = tmp_path / "big.jpg"
    with open(big, "wb") as file:
        file.truncate(100 * 2**20)
    page.set_input_files("#pick-styles", big)
    page.wait_for_selector("[data-error-for=images]:has-text('big.jpg is over the 50 MB upload limit')")
    assert page.locator("#thumbs-content img, #thumbs-styles img").count() == 0

    page.set_input_files("#pick-content", IMAGES / "tubingen.jpg")
    page.set_input_files("#pick-styles", IMAGES / "starry_night.jpg")
    page.wait_for_selector("#thumbs-styles img")
    page.fill("#f-size", "0")
    page.click("#start")
    page.wait_for_selector("[data-error-for=size]:has-text('Size must be at least 1, got 0')")
    assert "invalid" in page.get_attribute("#field-size", "class")


def api(url, path, body=None, raw=None, name=None):
    """GET `path`, or POST a JSON `body` or a `raw` upload named `name`."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    headers = {"X-Filename": name} if name else {"Content-Type": "application/json"}
    with urllib.request.urlopen(urllib.request.Request(url + path, data=data, headers=headers)) as answer:
        return json.loads(answer.read())


def test_a_crashed_server_restarts_with_its_gallery_and_the_run_interrupted(site, page):
    photo = api(site.url, "/api/uploads", raw=(IMAGES / "tubingen.jpg").read_bytes(), name="tubingen.jpg")
    art = api(site.url, "/api/uploads", raw=(IMAGES / "starry_night.jpg").read_bytes(), name="starry_night.jpg")
    job = api(site.url, "/api/jobs", {"settings": {"size": "96", "iterations": "5000"}, "content": photo, "styles": [art]})
    latest = site.data / "jobs" / job["id"] / "latest.png"
    deadline = time.monotonic() + 60
    while not latest.exists():
        assert time.monotonic() < deadline, "the running job never saved its latest image"
        time.sleep(0.1)
    before = len(api(site.url, "/api/jobs"))
    site.kill()
    site.start()

    jobs = api(site.url, "/api/jobs")
    assert len(jobs) == before
    recovered = api(site.url, f"/api/jobs/{job['id']}")
    assert recovered["state"] == "interrupted" and "result.png" in recovered["files"]
    page.goto(site.url)
    card = page.locator(f"#gallery article[data-job='{job['id']}']")
    card.wait_for()
    assert card.locator(".state").inner_text() == "INTERRUPTED"
    assert "the server stopped during this run" in card.inner_text()
    assert page.locator("#gallery article").count() == before


def test_the_server_wrote_nothing_outside_its_data_folder(site):
    assert [str(p) for p in site.home.rglob("*")] == []
