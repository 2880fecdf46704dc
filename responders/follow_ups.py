"""The loop closes with the customer: what the author's next mention after a posted reply does.

DOMAIN.md's closed loop is acknowledge -> handle -> reply -> follow up, and service
recovery is judged by the customer, not by us. So when the author of an answered
case speaks again on the same source within ``[sla] follow_up_window_hours`` of the
reply being posted, routing links that mention to the case instead of opening a
new one (the store finds the case: ``voxwatch.domain.latest_answered``), and:

- a negative mention means the problem is not solved: the case goes back to its
  owner (assigned; new if it has none), reopened if it was closed. If the case is
  already being worked on again (assigned, drafting, awaiting approval), it is only
  linked: the owner sees it in the case view.
- a neutral or positive mention means the recovery worked: a case that was waiting
  on the customer (sent, follow_up) is closed as recovered, the follow-up counted
  done. A case closed already, or in work again, keeps its status: closing work a
  person has started is that person's call.

Every link counts toward the service recovery KPI (``queries.service_recovery``).
Sources give no thread or parent id today (``flows/sources``), so the same source
and the same author (``normalise_author``) within the window is what "answers" means.

Pure, like ``responders.decide``, which calls it.
"""

from __future__ import annotations

from voxwatch.domain import AnsweredCase, CaseStatus, FollowUp, FollowUpOutcome, RoutingCandidate

# A case waiting on the customer: the reply is out and nobody is working on it.
AWAITING_CUSTOMER = frozenset({CaseStatus.SENT, CaseStatus.FOLLOW_UP})
# Where a negative answer takes a case back from: waiting on the customer, or closed.
REOPENABLE = AWAITING_CUSTOMER | {CaseStatus.CLOSED}


def follow_up_for(candidate: RoutingCandidate, case: AnsweredCase, status: CaseStatus) -> FollowUp:
    """What ``candidate``, the author's next mention, does to ``case``, whose status is now ``status``.

    ``status`` is passed apart from ``case`` because an earlier mention of the same
    routing batch may already have moved the case (``decide`` keeps track).
    """
    label = candidate.score.label
    outcome, target, reason = _outcome(label, status, case.owner)
    return FollowUp(
        case_id=case.case_id,
        mention_id=candidate.mention.id,
        label=label,
        said_at=candidate.said_at,
        outcome=outcome,
        expected=status,
        status=target,
        reason=reason,
    )


def _outcome(
    label: str, status: CaseStatus, owner: str | None
) -> tuple[FollowUpOutcome, CaseStatus | None, str]:
    """(outcome, new status or None, reason for the audit) for a next mention labelled ``label``."""
    said = f"the customer's next mention is {label}"
    if label == "negative":
        if status in REOPENABLE:
            return FollowUpOutcome.REOPENED, CaseStatus.ASSIGNED if owner else CaseStatus.NEW, said
        return FollowUpOutcome.NOTED, None, said
    if status in AWAITING_CUSTOMER:
        return FollowUpOutcome.CLOSED, CaseStatus.CLOSED, f"recovered: {said}"
    return FollowUpOutcome.RECOVERED, None, f"recovered: {said}"
