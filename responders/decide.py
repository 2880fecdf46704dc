"""Turn scored, untriaged mentions into triage records and, where needed, cases.

Pure: it reads nothing and writes nothing, so the route flow can store its result
in one transaction and ``voxwatch route --explain`` can show it without storing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from responders.alerts import new_case_messages
from responders.follow_ups import follow_up_for
from responders.routing import RouteInput, choose_owner, choose_team
from responders.sla import clock_start, first_response_due, resolution_due
from responders.triage import Triage, TriageInput, triage
from voxwatch.domain import (
    AnsweredCase,
    CaseStatus,
    Decision,
    FollowUp,
    Routing,
    RoutingCandidate,
    TriageRecord,
    Validity,
)
from voxwatch.i18n import N_
from voxwatch.settings import Settings


def off_topic_reason(settings: Settings, source: str, text: str) -> str | None:
    """For sources that must name the brand, the reason a mention does not; else None."""
    wanted = [s for s in settings.sources if s.name == source and s.require_brand_keyword]
    keywords = settings.brand.keywords
    if not wanted or not keywords:
        return None
    lowered = text.casefold()
    if any(k.casefold() in lowered for k in keywords):
        return None
    return N_("off-topic: does not mention {brand} ({keywords})").format(
        brand=settings.brand.name, keywords=", ".join(keywords)
    )


def triage_candidate(
    settings: Settings, candidate: RoutingCandidate, urgent_themes: frozenset[str] = frozenset()
) -> Triage:
    """Triage one candidate; ``urgent_themes`` are the theme ids that make a complaint urgent."""
    mention = candidate.mention
    return triage(
        TriageInput(
            text=mention.text,
            p_negative=candidate.score.negative,
            label=candidate.score.label,
            author=mention.author,
            author_reach=mention.author_reach,
            prior_negatives=candidate.prior_negatives,
            negative_threshold=settings.routing.negative_threshold,
            themes=candidate.score.themes,
            urgent_themes=urgent_themes,
            off_topic=off_topic_reason(settings, mention.source, mention.text),
            duplicate_of=mention.duplicate_of,
        ),
        settings.triage,
    )


def route_case(
    settings: Settings,
    result: Triage,
    mention_id: str,
    source: str,
    lang: str | None,
    text: str,
    since: datetime,
    load: dict[str, int],
    themes: tuple[str, ...] = (),
) -> Routing:
    """Team, owner and SLA for one triaged mention; counts the assignment into ``load``."""
    if result.validity is Validity.INVALID:
        rule, team, owner, status = (
            "triage: invalid",
            settings.routing.default_team,
            None,
            CaseStatus.DISMISSED,
        )
    else:
        rule, team = choose_team(settings.routing, RouteInput(source, lang, text, result.tier, themes))
        owner = choose_owner(settings.responders, team, lang, load)
        status = CaseStatus.ASSIGNED if owner else CaseStatus.NEW
        if owner:
            load[owner] = load.get(owner, 0) + 1
    return Routing(
        mention_id=mention_id,
        validity=result.validity,
        validity_reason=result.validity_reason,
        tier=result.tier,
        reasons=result.reasons,
        rule=rule,
        team=team,
        owner=owner,
        status=status,
        first_response_due=first_response_due(settings.sla, result.tier, since),
        resolution_due=resolution_due(settings.sla, since),
    )


def link_follow_up(
    candidate: RoutingCandidate,
    answered: AnsweredCase,
    statuses: dict[str, CaseStatus],
    load: dict[str, int],
) -> FollowUp:
    """Link ``candidate`` to its answered case; track the case's new status and its owner's load."""
    before = statuses.get(answered.case_id, answered.status)
    follow_up = follow_up_for(candidate, answered, before)
    if follow_up.status is not None and answered.owner is not None:
        was_open, now_open = before is not CaseStatus.CLOSED, follow_up.status is not CaseStatus.CLOSED
        load[answered.owner] = load.get(answered.owner, 0) + now_open - was_open
    statuses[answered.case_id] = follow_up.status or before
    return follow_up


def decide(
    settings: Settings,
    candidates: list[RoutingCandidate],
    load: Mapping[str, int],
    urgent_themes: frozenset[str] = frozenset(),
) -> list[Decision]:
    """Triage every candidate in order; open a case for those that need one.

    A candidate that answers one of its author's posted replies (``answered_case``)
    opens no case: it is triaged, then linked to that case (``responders.follow_ups``),
    whatever its validity, since a "thanks, that worked" is the follow-up we wait
    for even though it names no complaint. The themes that make a complaint urgent
    come from the caller (the model's theme definitions are the sentiment stage's
    data, not ours).
    """
    load = dict(load)
    statuses: dict[str, CaseStatus] = {}  # answered cases moved by earlier mentions of this batch
    decisions = []
    for candidate in candidates:
        mention = candidate.mention
        result = triage_candidate(settings, candidate, urgent_themes)
        record = TriageRecord(
            mention.id,
            candidate.score.model_id,
            result.validity,
            result.validity_reason,
            result.tier,
            result.reasons,
        )
        if candidate.answered_case is not None:
            follow_up = link_follow_up(candidate, candidate.answered_case, statuses, load)
            decisions.append(Decision(record, None, candidate, follow_up=follow_up))
            continue
        case = None
        if result.needs_case:
            case = route_case(
                settings,
                result,
                mention.id,
                mention.source,
                mention.lang,
                mention.text,
                clock_start(candidate),
                load,
                candidate.score.themes,
            )
        decisions.append(Decision(record, case, candidate, new_case_messages(settings, case)))
    return decisions
