"""The inbox's rules: which cases a responder sees for the filters chosen, and which are breached."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def is_breached(case: dict[str, Any], now: datetime | None = None) -> bool:
    """Escalated, or past its first-response due time with no response yet."""
    return case.get("escalated_at") is not None or case["first_response_due"] < (now or datetime.now(UTC))


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
