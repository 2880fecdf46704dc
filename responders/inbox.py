"""The inbox's rules: which cases a responder sees for the filters chosen, and which are breached."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from voxwatch.store.queries.cases import OPEN_STATUSES


def is_breached(case: dict[str, Any], now: datetime | None = None) -> bool:
    """Escalated, or past the due time of what it waits for (first response, or resolution once answered)."""
    return case.get("escalated_at") is not None or next_due(case)[1] < (now or datetime.now(UTC))


def filter_cases(cases: list[dict[str, Any]], **chosen: list[str]) -> list[dict[str, Any]]:
    """Keep the cases whose field matches one of the chosen values (no choice: any).

    ``themes`` matches when any of the case's themes is chosen.
    """

    def keep(case: dict[str, Any]) -> bool:
        for field, values in chosen.items():
            if not values:
                continue
            have = case.get(field)
            if field == "themes":
                if not set(have or []) & set(values):
                    return False
            elif (have if have is not None else "(none)") not in values:
                return False
        return True

    return [case for case in cases if keep(case)]


def next_due(case: dict[str, Any]) -> tuple[str, datetime]:
    """What the case waits for next, and by when.

    An answered case (``first_response_at`` set) has left the first-response queue:
    its clock is now the resolution due time, so it no longer sits on top as "urgent".
    """
    if case.get("first_response_at") is None:
        return "first response", case["first_response_due"]
    return "resolution", case["resolution_due"]


def queue_order(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Most urgent first: unanswered cases by first-response due, then answered ones by resolution due."""
    return sorted(cases, key=lambda c: (c.get("first_response_at") is not None, next_due(c)[1], c["case_id"]))


def status_counts(cases: list[dict[str, Any]]) -> dict[str, int]:
    """Cases per status, in the order a case moves through them (for the counts above the queue)."""
    counts: dict[str, int] = {}
    for case in cases:
        counts[case["status"]] = counts.get(case["status"], 0) + 1
    order = list(OPEN_STATUSES)
    return dict(sorted(counts.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
