"""The page as a shared studio, in a real headless Chromium (Debian's) against a real
`impasto serve --workers 2 --backend ray --token ...` on a local Ray cluster of two workers:
two people run jobs at once, each with its own live card; Stop on one leaves the other; a
browser without the token gets nothing; a killed Ray worker leaves the server answering.

`IMPASTO_SCREENSHOTS=docs/images python3 -m pytest tests/apps/web/test_studio_browser.py -k two`
refreshes docs/images/studio-two-jobs.png."""

import json
import os
import shutil
import signal
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import IMAGES

pytestmark = [pytest.mark.browser, pytest.mark.ray, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("no Chromium executable (install Debian's chromium package)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra)")
pytest.importorskip("ray", reason="Ray is not installed (the ray extra)")

TOKEN = "studio-test-token-0123456789"
SERVE = ("--workers", "2", "--backend", "ray", "--token", TOKEN)
WAIT_MS = 120_000  # a safety net only: runs here are a few hundred iterations at 96 px
WIDE, NARROW = {"width": 1280, "height": 800}, {"width": 420, "height": 800}


@pytest.fixture(scope="module")
def studio(tmp_path_factory, squeezenet_weights, server_process):
    root = tmp_path_factory.mktemp("studio")
    server = server_process(root / "data", root / "home", squeezenet_weights, *SERVE)
    yield server
    server.stop()


def get(studio, path: str) -> bytes:
    """GET `path` with the token, as a member's script would."""
    request = urllib.request.Request(studio.url + path, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.read()


@pytest.fixture(scope="module")
def chromium():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def member(chromium, studio):
    """member() -> a page in a fresh browser context (a person of its own) that opened the
    tokened link the server printed."""
    contexts = []

    def member(viewport=WIDE):
        context = chromium.new_context(viewport=viewport, accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{studio.url}/?token={TOKEN}")
        page.wait_for_selector("#f-size")
        page.wait_for_selector("#connection.ok")
        watch_previews(page)
        return page

    yield member
    for context in contexts:
        context.close()


def watch_previews(page):
    """Collects, per job, the distinct live images its card shows (window.previews[id]) and
    how often its iteration count went back to a lower one (window.restarts[id])."""
    page.evaluate("""() => {
        Object.assign(window, { previews: {}, restarts: {}, iterations: {} });
        new MutationObserver((changes) => changes.forEach(({ target }) => {
            const card = (target.closest ? target : target.parentElement).closest("[data-job]");
            if (!card) return;
            const id = card.dataset.job;
            if (target.src?.startsWith("data:")) (window.previews[id] ??= new Set()).add(target.src);
            const iteration = Number(/^Iteration (\\d+)/.exec(card.querySelector(".progress-text").textContent)?.[1]);
            if (iteration < window.iterations[id]) window.restarts[id] = (window.restarts[id] || 0) + 1;
            if (iteration >= 0) window.iterations[id] = iteration;
        })).observe(document.getElementById("live"), { subtree: true, childList: true, attributes: true, attributeFilter: ["src"] });
    }""")


def prepare(page, iterations: int, style: str = "starry_night.jpg", size: int = 96) -> None:
    """Adds the photo and the artwork, and sets a small run that goes all its iterations."""
    page.set_input_files("#pick-content", IMAGES / "tubingen.jpg")
    page.set_input_files("#pick-styles", IMAGES / style)
    page.wait_for_selector("#thumbs-content img")
    page.wait_for_selector("#thumbs-styles img")
    page.fill("#f-size", str(size))
    page.fill("#f-iterations", str(iterations))
    page.click("#settings summary")
    page.select_option("#f-style_loss", "gram-relative")
    page.fill("#f-stop_tolerance", "0")
    page.click("#settings summary")
    page.wait_for_function("() => !document.getElementById('start').disabled")


def start(page) -> str:
    """Presses Start; the new job's id."""
    with page.expect_response(lambda r: r.url.endswith("/api/jobs") and r.request.method == "POST") as answer:
        page.click("#start")
    assert answer.value.status == 201, answer.value.text()
    return answer.value.json()["id"]


def card(page, job: str):
    return page.locator(f"#live .live-card[data-job='{job}']")


def ended(page, job: str, state: str) -> None:
    """Waits for the job's gallery entry in `state`."""
    page.wait_for_selector(f"#gallery article[data-job='{job}'] .state.{state}", timeout=WAIT_MS)


def wait_previews(page, jobs: list[str], at_least: int = 3) -> None:
    page.wait_for_function(
        "([ids, n]) => ids.every((id) => (window.previews[id]?.size || 0) >= n)", arg=[jobs, at_least], timeout=WAIT_MS
    )


def test_two_people_run_jobs_at_once_each_with_its_live_card(member):
    alice, bob = member(), member()
    prepare(alice, 300)
    prepare(bob, 300, "the_scream.jpg")
    jobs = [start(alice), start(bob)]
    wait_previews(alice, jobs, at_least=1)  # both running: a card each, side by side
    cards = [card(alice, job).bounding_box() for job in jobs]
    assert cards[0]["y"] == cards[1]["y"] and cards[0]["x"] + cards[0]["width"] <= cards[1]["x"], "side by side"
    assert all(alice.inner_text(f"#queue li[data-job='{job}'] .state") == "RUNNING" for job in jobs)
    bob.set_viewport_size(NARROW)
    assert bob.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), "no sideways scrolling"
    for page in (alice, bob):  # each page shows both jobs' live images
        wait_previews(page, jobs)
    assert card(alice, jobs[0]).locator(".progress-text").inner_text().startswith("Iteration ")
    shoot(alice)
    for page in (alice, bob):
        for job in jobs:
            ended(page, job, "done")
    assert alice.locator("#live .live-card").count() == 1  # the last run stays, with its downloads
    assert alice.locator("#queue li").count() == 0
    assert alice.locator("#gallery article").count() == 2


def shoot(page) -> None:
    """The docs' picture of two jobs side by side, when $IMPASTO_SCREENSHOTS names a folder."""
    folder = os.environ.get("IMPASTO_SCREENSHOTS")
    if folder:
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=Path(folder) / "studio-two-jobs.png")


def test_stop_on_one_job_leaves_the_other_running_to_its_end(member):
    alice, bob = member(), member()
    prepare(alice, 100_000)
    prepare(bob, 600)
    long, short = start(alice), start(bob)
    wait_previews(alice, [long, short], at_least=2)
    carol = member()  # opened mid-run: each card starts from the job's image and progress so far
    for job in (long, short):
        assert card(carol, job).locator(".preview").get_attribute("src").startswith("data:image/jpeg")
        assert card(carol, job).locator(".progress-text").inner_text().startswith("Iteration ")
    card(alice, long).locator(".stop").click()
    ended(bob, long, "stopped")
    assert card(bob, short).locator(".state").inner_text() == "RUNNING"  # untouched by the other's Stop
    ended(alice, short, "done")
    assert "finished 600 iterations" in alice.inner_text(f"#gallery article[data-job='{short}']")
    assert "stopped at iteration" in alice.inner_text(f"#gallery article[data-job='{long}']")


def test_a_browser_without_the_token_gets_nothing_on_any_route(chromium, studio):
    jobs = json.loads(get(studio, "/api/jobs"))
    finished = next(job for job in jobs if "result.png" in job["files"])
    download = f"/api/jobs/{finished['id']}/files/result.png?download"
    context = chromium.new_context(viewport=WIDE)
    page = context.new_page()
    for token, status in (("", 401), ("?token=not-the-token", 403)):
        answer = page.goto(f"{studio.url}/{token}")
        assert answer.status == status and "impasto" not in page.title()
    for path in ("/api/events", "/api/jobs", download, f"/api/jobs/{finished['id']}", "/api/config"):
        status, body = page.evaluate(
            "async (path) => { const r = await fetch(path); return [r.status, await r.text()]; }", path
        )
        assert status == 401, path
        assert finished["id"] not in body and "PNG" not in body, path
    assert (
        page.evaluate("""() => new Promise((settle) => {
        const source = new EventSource("/api/events");
        source.onmessage = () => settle("data");
        source.onerror = () => { source.close(); settle("refused"); };
    })""")
        == "refused"
    )
    assert [c["name"] for c in context.cookies()] == []
    context.close()


def test_a_killed_ray_worker_gives_a_retried_or_failed_job_and_a_server_that_answers(member, studio):
    page = member()
    prepare(page, 600)
    job = start(page)
    wait_previews(page, [job], at_least=2)
    os.kill(busiest(ray_workers(studio.process.pid)), signal.SIGKILL)
    answered = page.evaluate("async () => (await fetch('/api/jobs', { signal: AbortSignal.timeout(5000) })).status")
    assert answered == 200
    page.wait_for_selector(f"#gallery article[data-job='{job}'] .state:is(.done, .failed)", timeout=WAIT_MS)
    entry = page.locator(f"#gallery article[data-job='{job}']")
    if entry.locator(".state").inner_text() == "FAILED":
        assert "worker" in entry.inner_text() and entry.locator("img").first.evaluate("img => img.naturalWidth > 0")
    else:  # run again from the start on a fresh worker
        assert "finished 600 iterations" in entry.inner_text()
        assert page.evaluate("(id) => window.restarts[id]", job) == 1
    assert page.locator("#connection.ok").count() == 1
    assert json.loads(get(studio, f"/api/jobs/{job}"))["state"] in ("done", "failed")


def ray_workers(server: int) -> list[int]:
    """The PIDs of the server's Ray workers: `ray::WebWorker` processes descending from it."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                title = (entry / "cmdline").read_bytes().split(b"\0")[0]
            except OSError:  # ended meanwhile
                continue
            parents[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), title)

    def descends(pid: int) -> bool:
        while pid in parents and pid != server:
            pid = parents[pid][0]
        return pid == server

    return [pid for pid, (_, title) in parents.items() if title.startswith(b"ray::WebWorker") and descends(pid)]


def busiest(pids: list[int]) -> int:
    """The process that used the most CPU over half a second: the worker running the job."""

    def ticks(pid: int) -> int:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    assert len(pids) == 2, f"expected the server's 2 Ray workers, found {pids}"
    before = {pid: ticks(pid) for pid in pids}
    time.sleep(0.5)
    return max(pids, key=lambda pid: ticks(pid) - before[pid])
