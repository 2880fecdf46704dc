"""Turn negative, unrouted mentions into routing decisions: triage, team, owner, SLA.

Pure: it reads nothing and writes nothing, so the route flow can store its result
in one transaction and a dry run can show it without storing.
"""

from __future__ import annotations

from collections.abc import Mapping

from responders.routing import RouteInput, choose_owner, choose_team
from responders.sla import first_response_due, resolution_due
from responders.triage import triage
from voxwatch.domain import CaseStatus, Routing, Validity
from voxwatch.settings import Settings
from voxwatch.store.queries import RoutingCandidate


def decide(settings: Settings, candidates: list[RoutingCandidate], load: Mapping[str, int]) -> list[Routing]:
    """Route ``candidates`` in order, counting each assignment into the load."""
    load = dict(load)
    decisions = []
    for candidate in candidates:
        mention = candidate.mention
        result = triage(mention.text, candidate.score.negative, candidate.prior_negatives)
        since = mention.published_at or mention.collected_at
        if result.validity is Validity.INVALID:
            rule, team, owner, status = "triage", settings.routing.default_team, None, CaseStatus.DISMISSED
        else:
            item = RouteInput(mention.source, mention.lang, mention.text, result.tier)
            rule, team = choose_team(settings.routing, item)
            owner = choose_owner(settings.responders, team, mention.lang, load)
            status = CaseStatus.ASSIGNED if owner else CaseStatus.NEW
            if owner:
                load[owner] = load.get(owner, 0) + 1
        decisions.append(
            Routing(
                mention_id=mention.id,
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
        )
    return decisions
