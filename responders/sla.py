"""SLA targets per tier, from settings (defaults from DOMAIN.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

from voxwatch.domain import Tier
from voxwatch.settings import SlaSettings


def first_response_due(sla: SlaSettings, tier: Tier, since: datetime) -> datetime:
    hours = sla.urgent_first_response_hours if tier is Tier.URGENT else sla.normal_first_response_hours
    return since + timedelta(hours=hours)


def resolution_due(sla: SlaSettings, since: datetime) -> datetime:
    return since + timedelta(hours=sla.resolution_hours)
