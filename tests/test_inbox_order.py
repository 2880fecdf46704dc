"""The inbox is the ``limit`` most urgent open cases, whatever else is stored, on both engines.

The query picks the page's cases before joining their mentions (for speed at
millions of cases); Hypothesis checks it against sorting every case in Python.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voxwatch.domain import CaseStatus, Mention, Routing, Score, Tier, Validity, mention_id
from voxwatch.store import queries, store_for
from voxwatch.store.queries.cases import OPEN_STATUSES

pytestmark = pytest.mark.both_engines

D0 = datetime(2026, 11, 10, tzinfo=UTC)
WINDOW = timedelta(hours=72)

case = st.fixed_dictionaries(
    {"due_hours": st.integers(0, 6), "status": st.sampled_from(list(CaseStatus)), "scored": st.booleans()}
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=st.lists(case, max_size=12), limit=st.integers(1, 8))
def test_the_inbox_is_the_most_urgent_open_cases(team, cases: list[dict[str, Any]], limit: int) -> None:
    store = store_for(team)
    batch = uuid.uuid4().hex[:8]
    expected = []

    def _write(conn: queries.Connection) -> None:
        conn.execute("DELETE FROM cases")  # the examples before this one share the store
        for n, c in enumerate(cases):
            mention = Mention(f"{batch}-{n}", f"post {n}", author=f"a{n}", published_at=D0)
            queries.insert_mentions(conn, "shop", [mention], D0, None, WINDOW)
            ident = mention_id("shop", mention.external_id)
            if c["scored"]:
                score = Score(
                    "negative", {"negative": 0.8, "neutral": 0.1, "positive": 0.1}, "m1", ("price",)
                )
                queries.insert_scores(conn, [(ident, score)], D0)
            due = D0 + timedelta(hours=c["due_hours"])
            routing = Routing(
                ident, Validity.COMPLAINT, "", Tier.NORMAL, [], "r", "care", None, c["status"], due, due
            )
            case_id = f"case-{batch}-{n:02d}"
            queries.insert_cases(conn, [(case_id, routing)], D0)
            if c["status"].value in OPEN_STATUSES:
                expected.append((due, case_id, "negative" if c["scored"] else None, f"post {n}"))

    store.write(_write)
    found = store.read(lambda conn: queries.inbox(conn, "m1", limit))
    mine = [(r["first_response_due"], r["case_id"], r["label"], r["text"]) for r in found]
    assert mine == sorted(expected)[:limit]
