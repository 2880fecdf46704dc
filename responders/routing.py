"""Routing: which team owns a mention, and which responder in it.

Rules are tried in settings order and the first match wins; no match falls to the
default team, and the decision always names the rule that fired. Within a team
the least-loaded responder who speaks the language and has capacity left gets
the case; if nobody fits, the case waits unassigned in the team queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from responders.sla import is_working_time
from voxwatch.domain import Tier
from voxwatch.permissions import Action, may
from voxwatch.settings import ResponderSettings, RoutingRule, RoutingSettings

DEFAULT_RULE = "default"


@dataclass(frozen=True)
class RouteInput:
    source: str
    lang: str | None
    text: str
    tier: Tier
    themes: tuple[str, ...] = ()


def _matches(rule: RoutingRule, item: RouteInput) -> bool:
    lowered = item.text.casefold()
    return (
        (not rule.sources or item.source in rule.sources)
        and (not rule.languages or (item.lang or "und") in rule.languages)
        and (not rule.keywords or any(k.casefold() in lowered for k in rule.keywords))
        and (not rule.tiers or item.tier in rule.tiers)
        and (not rule.themes or bool(set(rule.themes) & set(item.themes)))
    )


def choose_team(routing: RoutingSettings, item: RouteInput) -> tuple[str, str]:
    """Return ``(rule name, team)`` for the first rule that matches."""
    for rule in routing.rules:
        if _matches(rule, item):
            return rule.name, rule.team
    return DEFAULT_RULE, routing.default_team


def choose_owner(
    responders: list[ResponderSettings],
    team: str,
    lang: str | None,
    load: Mapping[str, int],
    now: datetime | None = None,
) -> str | None:
    """Least-loaded responder of ``team`` who speaks ``lang``, is on shift and has room.

    Ties go by name. Only people with the ``responder`` role take cases (comms
    leads approve, they are not routed to).
    """
    fits = [
        r
        for r in responders
        if r.team == team
        and may(r.roles, Action.OWN_CASES)
        and (lang is None or lang == "und" or lang in r.languages)
        and load.get(r.name, 0) < r.capacity
        and (r.shift is None or is_working_time(r.shift, now or datetime.now(UTC)))
    ]
    if not fits:
        return None
    return min(fits, key=lambda r: (load.get(r.name, 0) / max(r.capacity, 1), r.name)).name
