"""The reply-by promise in a drafted first response: never in the past, always naming its zone.

``CaseService.suggest`` promises the case's resolution due time; a draft written after
that time has passed must promise a time still ahead (the urgent target from the
service's clock, on a quarter hour), and say which clock it is on, in English and in
Chinese (DOMAIN.md: "Tell the customer when they will hear back").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from responders.cases import CaseService
from responders.sla import round_up_to_quarter_hour
from tests.builders import Post, case_ids, fresh_store, seed_posts, team_settings
from voxwatch.settings import Settings
from voxwatch.store import queries, store_for

pytestmark = pytest.mark.both_engines  # store tests run on DuckDB and on Postgres

SHANGHAI_24_7 = (
    '\n[sla.business_hours]\ntimezone = "Asia/Shanghai"\nstart = "00:00"\nend = "24:00"\n'
    "weekdays = [0, 1, 2, 3, 4, 5, 6]\n"
)
POSTS = {
    "en": Post("My Acme order arrived cold and an hour late.", 0.8, author="pat"),
    "zh": Post("Acme的订单送来时已经凉了，还晚了一个小时。", 0.8, author="li", lang="zh"),
}


def team_with(tmp_path: Path, extra: str) -> Settings:
    settings = team_settings(tmp_path, extra)
    fresh_store(settings)
    return settings


def drafted(settings: Settings, lang: str, clock: datetime | None) -> tuple[dict[str, Any], str]:
    """Seed one post in ``lang``, draft its first response at ``clock``; the case and the body."""
    (routed,) = seed_posts(store_for(settings), settings, [POSTS[lang]])
    (case_id,) = case_ids([routed])
    case = store_for(settings).read(lambda c: queries.get_case(c, case_id))
    assert case is not None and case["owner"]
    at = clock or case["resolution_due"] + timedelta(days=3)
    body = CaseService(settings, clock=lambda: at).draft(case_id, case["owner"])["body"]
    return case, body


@pytest.mark.parametrize(
    ("extra", "zone", "lang", "zone_words"),
    [
        ("", "UTC", "en", "(UTC)"),
        ("", "UTC", "zh", "（UTC 时间）"),
        (SHANGHAI_24_7, "Asia/Shanghai", "en", "(Asia/Shanghai)"),
        (SHANGHAI_24_7, "Asia/Shanghai", "zh", "（北京时间）"),
    ],
)
def test_a_draft_written_after_the_due_time_promises_a_time_still_ahead(
    tmp_path: Path, extra: str, zone: str, lang: str, zone_words: str
) -> None:
    case, body = drafted(team_with(tmp_path, extra), lang, clock=None)
    written_at = case["resolution_due"] + timedelta(days=3)
    # Two hours (the urgent target, round the clock) after the draft, on the next quarter hour.
    promise = round_up_to_quarter_hour(written_at + timedelta(hours=2)).astimezone(ZoneInfo(zone))
    due = case["resolution_due"].astimezone(ZoneInfo(zone))
    if lang == "zh":
        assert f"{promise.month}月{promise.day}日 {promise:%H:%M}{zone_words}" in body
        assert f"{due.month}月{due.day}日 {due:%H:%M}" not in body
    else:
        assert f"{promise:%H:%M} {zone_words} on {promise:%Y-%m-%d}" in body
        assert f"{due:%H:%M} {zone_words} on {due:%Y-%m-%d}" not in body


def test_a_draft_written_in_time_promises_the_resolution_due_time(tmp_path: Path) -> None:
    case, body = drafted(team_with(tmp_path, ""), "en", clock=datetime.now(UTC))
    due = case["resolution_due"].astimezone(UTC)
    assert f"by {due:%H:%M} (UTC) on {due:%Y-%m-%d}" in body
