"""In headless Chromium: an author name carrying an image and a link fetches nothing, links nowhere.

An author called ``![x](http://127.0.0.1:PORT/pixel.png) [click](http://evil.example) <img src=x>``
once made the browser fetch a tracking pixel on the inbox, case and approvals pages
(Markdown captions). A local "pixel" server counts every request it gets: after each page
shows the author's name, literally, the count is still zero and no link or image points at it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from flows.pipeline import pipeline_flow
from responders.cases import CaseService
from tests.conftest import copy_demo
from tests.dashboard_server import running_dashboard
from tests.test_dashboard_browser import browser, settle, signed_in  # noqa: F401 (fixture)
from voxwatch.domain import Mention, RawResponse
from voxwatch.settings import load_settings
from voxwatch.store import queries, stages, store_for

pytestmark = pytest.mark.xdist_group("demo")

TEXT = "This is awful, the worst Larkspur coffee ever and I am furious about the pixel."


class Pixel:
    """A local server that counts every request: a fetched image or a followed link shows up here."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def pixel() -> Iterator[Pixel]:
    server = Pixel()
    yield server
    server.server.shutdown()


@pytest.fixture(scope="module")
def hostile_author_store(
    demo_run: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory, pixel: Pixel
) -> tuple[Path, str, str]:
    """(settings file, case label, author): a complaint by the hostile author, its draft awaiting approval."""
    author = f"![x](http://127.0.0.1:{pixel.port}/pixel.png) [click](http://evil.example) <img src=x>"
    config = copy_demo(demo_run, tmp_path_factory.mktemp("pixel"))
    settings = load_settings(config)
    store = store_for(settings)
    raw = RawResponse("http://forum.test/t/pixel", 200, {}, TEXT.encode(), datetime.now(UTC))
    stages.save_page(store, "reddit-larkspur", raw, [Mention("pixel-1", TEXT, author=author)])
    pipeline_flow(str(config))
    case = next(c for c in store.read(lambda conn: queries.inbox(conn, "x")) if c["author"] == author)
    service = CaseService(settings)
    service.draft(case["case_id"], case["owner"])
    service.submit(case["case_id"], case["owner"])
    return config, f"VW-{case['number']}", author


@pytest.fixture(scope="module")
def pixel_dashboard(hostile_author_store: tuple[Path, str, str]) -> Iterator[str]:
    with running_dashboard(hostile_author_store[0]) as url:
        yield url


@pytest.mark.parametrize(("page_name", "who"), [("inbox", "grace"), ("case", "grace"), ("approvals", "maya")])
def test_a_hostile_author_name_fetches_no_pixel_and_links_nowhere(
    pixel_dashboard: str,
    browser,  # noqa: F811
    pixel: Pixel,
    hostile_author_store: tuple[Path, str, str],
    page_name: str,
    who: str,
) -> None:
    _, label, author = hostile_author_store
    page = signed_in(browser, pixel_dashboard, who)  # grace lands on the inbox, maya on approvals
    if page_name == "case":
        page.get_by_role("link", name=f"Open {label}").first.click()
    page.get_by_text("furious about the pixel", exact=False).first.wait_for(timeout=120_000)
    settle(page)
    page.wait_for_timeout(1000)
    assert author in page.inner_text("body")  # the name, every character, as text
    assert page.locator(f"img[src*='127.0.0.1:{pixel.port}']").count() == 0
    assert page.locator("a[href*='evil.example']").count() == 0
    assert pixel.hits == []
    page.close()
