"""A big page never starves people: it is written in chunks, and a person's action gets its turn in between.

One process stores a page of 6,000 mentions, as the collect stage does; this
process meanwhile claims and hands back a case, again and again, as a responder
would, with a lock wait of 1.5 s. Every action succeeds, and the page is stored
whole. A pause between chunks alone was not enough: on a loaded machine the
waiting click kept missing the moment the file was free (CI failed this way), so
the click now says it waits and the writer holds back until it got in.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from responders.cases import CaseService
from tests.builders import Post, case_ids, fresh_store, seed_posts, write_team_settings
from voxwatch.errors import StoreError
from voxwatch.settings import load_settings
from voxwatch.store.duckdb_store import _someone_waits, _waiting

BIG_PAGE = """
import sys
from datetime import UTC, datetime
from voxwatch.domain import Mention, RawResponse
from voxwatch.settings import load_settings
from voxwatch.store import stages, store_for

settings = load_settings(sys.argv[1])
now = datetime.now(UTC)
page = [Mention(f"big-{i}", f"Acme order {i} is late", f"https://x.example/{i}", f"u{i}", published_at=now)
        for i in range(6000)]
print("storing", flush=True)
inserted = stages.save_page(store_for(settings), "blog", RawResponse("u", 200, {}, b"page", now), page,
                            settings.store.write_chunk)
print("stored", inserted.new, flush=True)
"""


def test_people_get_their_turn_while_a_big_page_is_stored(tmp_path: Path) -> None:
    config = write_team_settings(tmp_path)
    settings = load_settings(config)
    (case,) = case_ids(seed_posts(fresh_store(settings), settings, [Post("Acme lost my parcel, refund me")]))
    impatient = settings.model_copy(
        update={"store": settings.store.model_copy(update={"lock_timeout_seconds": 1.5})}
    )
    service = CaseService(impatient)

    writer = subprocess.Popen(
        [sys.executable, "-c", BIG_PAGE, str(config)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "storing"
    actions, refused = 0, []
    while writer.poll() is None:
        try:
            service.assign(case, "amy", "ben" if actions % 2 else "amy")
            actions += 1
        except StoreError as exc:
            refused.append(str(exc))
        time.sleep(0.05)
    assert writer.wait() == 0 and writer.stdout.read().strip() == "stored 6000"
    assert refused == []
    assert actions >= 3  # the people really were acting while the page was being written


def test_a_waiting_process_is_seen_until_it_stops_waiting(tmp_path: Path) -> None:
    store = tmp_path / "voxwatch.duckdb"
    assert not _someone_waits(store)  # no one has ever waited: not even the file exists
    with _waiting(store):
        assert _someone_waits(store)
        with _waiting(store):  # two waiters at once
            assert _someone_waits(store)
        assert _someone_waits(store)
    assert not _someone_waits(store)
