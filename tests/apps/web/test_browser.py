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
from conftest import IMAGES
from PIL import Image

from impasto.record.provenance import read_record

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("no Chromium executable (install Debian's chromium package)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra)")

WAIT_MS = 180_000  # a safety net only: runs here are a few iterations at 96 px


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium, headless (named apart from pytest-playwright's fixtures, which would
    use a browser that Playwright downloads)."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def tab(chromium, site):
    """A fresh browser tab on the real server's page."""
    site.ensure_running()
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
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
    """Counts the distinct images the live cards show (window.previews), cards made later included."""
    page.evaluate("""() => {
        window.previews = new Set();
        new MutationObserver((changes) => changes.forEach((change) => window.previews.add(change.target.src)))
            .observe(document.getElementById("live"), { subtree: true, attributes: true, attributeFilter: ["src"] });
    }""")


def test_a_run_from_upload_to_download_and_gallery(tab, shots, tmp_path):
    tab.set_input_files("#pick-content", IMAGES / "tubingen.jpg")
    drop_file(tab, "#drop-styles", IMAGES / "starry_night.jpg")
    tab.wait_for_selector("#thumbs-content img")
    tab.wait_for_selector("#thumbs-styles img")
    assert tab.inner_text("#thumbs-styles") == "starry_night.jpg\n×"
    tab.fill("#f-size", "96")
    tab.fill("#f-iterations", "400")
    tab.click("#settings summary")  # Advanced: a style loss whose cost shrinks with the image
    tab.select_option("#f-style_loss", "gram-relative")
    tab.fill("#f-stop_tolerance", "0")  # runs until Stop, however fast the machine
    watch_preview(tab)
    tab.click("#start")

    tab.wait_for_function("() => window.previews.size >= 3", timeout=WAIT_MS)  # the image changed at least twice
    tab.wait_for_function("() => document.querySelectorAll('#queue li').length === 1")
    tab.wait_for_function("() => document.querySelector('#queue .state')?.innerText === 'RUNNING'", timeout=WAIT_MS)
    assert tab.inner_text("#live .progress-text").startswith("Iteration ")
    tab.wait_for_timeout(600)
    tab.screenshot(path=shots / "web-running.png")
    tab.click("#live .stop")
    tab.wait_for_selector("#live .downloads a", timeout=WAIT_MS)
    assert tab.inner_text("#live .message").startswith("stopped: stopped at iteration")

    with tab.expect_download() as download:
        tab.click("#live .downloads a:has-text('Result (PNG)')")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(saved) as result:
        result.verify()
    assert read_record(saved)["settings"]["size"] == 96

    card = tab.locator("#gallery article").first
    assert card.locator(".state").inner_text() == "STOPPED"
    assert "tubingen.jpg × starry_night.jpg" in card.inner_text()
    assert card.locator("img").first.evaluate("img => img.complete && img.naturalWidth > 0")

    card.locator("button:has-text('Run again with changes')").click()
    assert tab.input_value("#f-size") == "96" and tab.input_value("#f-iterations") == "400"
    assert tab.input_value("#f-style_loss") == "gram-relative"
    assert tab.inner_text("#thumbs-content") == "tubingen.jpg\n×"
    tab.fill("#f-iterations", "3")
    tab.click("#start")
    tab.wait_for_function("() => document.querySelectorAll('#gallery article').length === 2", timeout=WAIT_MS)
    newest = tab.locator("#gallery article").first
    assert newest.locator(".state").inner_text() == "DONE" and "3 it." in newest.inner_text()
    tab.locator("#gallery-card").scroll_into_view_if_needed()
    tab.screenshot(path=shots / "web-gallery.png")


def test_refusals_are_shown_on_the_page(tab, tmp_path):
    fake = tmp_path / "fake.png"
    fake.write_text("this is text, not a picture\n")
    tab.set_input_files("#pick-content", fake)
    tab.wait_for_selector("[data-error-for=images]:has-text('fake.png is not a PNG')")

    big = tmp_path / "big.jpg"
    with open(big, "wb") as file:
        file.truncate(100 * 2**20)
    tab.set_input_files("#pick-styles", big)
    tab.wait_for_selector("[data-error-for=images]:has-text('big.jpg is over the 50 MB upload limit')")
    assert tab.locator("#thumbs-content img, #thumbs-styles img").count() == 0
    sent_anyway = tab.evaluate("""async () => (await fetch("/api/uploads", {
        method: "POST", headers: { "Content-Type": "application/octet-stream" }, body: new Blob([new Uint8Array(100 * 2 ** 20)]),
    })).status""")  # the page's own check bypassed: the server refuses it too
    assert sent_anyway == 413

    tab.set_input_files("#pick-content", IMAGES / "tubingen.jpg")
    tab.set_input_files("#pick-styles", IMAGES / "starry_night.jpg")
    tab.wait_for_selector("#thumbs-styles img")
    tab.fill("#f-size", "0")
    tab.click("#start")
    tab.wait_for_selector("[data-error-for=size]:has-text('Size must be at least 1, got 0')")
    assert "invalid" in tab.get_attribute("#field-size", "class")


def api(url, path, body=None, raw=None, name=None):
    """GET `path`, or POST a JSON `body` or a `raw` upload named `name`."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    headers = {"X-Filename": name} if name else {"Content-Type": "application/json"}
    with urllib.request.urlopen(urllib.request.Request(url + path, data=data, headers=headers)) as answer:
        return json.loads(answer.read())


def test_a_crashed_server_restarts_with_its_gallery_and_the_run_interrupted(site, tab):
    photo = api(site.url, "/api/uploads", raw=(IMAGES / "tubingen.jpg").read_bytes(), name="tubingen.jpg")
    art = api(site.url, "/api/uploads", raw=(IMAGES / "starry_night.jpg").read_bytes(), name="starry_night.jpg")
    job = api(
        site.url,
        "/api/jobs",
        {
            "settings": {"size": "96", "iterations": "5000", "style_loss": "gram-relative"},
            "content": photo,
            "styles": [art],
        },
    )
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
    tab.goto(site.url)
    card = tab.locator(f"#gallery article[data-job='{job['id']}']")
    card.wait_for()
    assert card.locator(".state").inner_text() == "INTERRUPTED"
    assert "the server stopped during this run" in card.inner_text()
    assert tab.locator("#gallery article").count() == before


def test_the_server_wrote_nothing_outside_its_data_folder(site):
    assert list(site.home.rglob("*")) == []
    # The weights cache of every impasto command: it remembers the weights file's checksum.
    assert [p.name for p in site.weights_cache.rglob("*")] == ["impasto-hashes.json"]
