"""The spike rule, and recording each spike once, with what the comms channel is told.

A spike is explainable on purpose: negative mentions in the last 24 hours against
the mean and standard deviation of the seven 24-hour windows before them. It
fires when ``count > mean + k * sd`` and ``count >= min_mentions``. The same
function marks spikes on the trends chart, so what people see and what they are
told about never disagree.

Once per spike: while a spike recorded less than 24 hours ago exists, a rule that
keeps firing is the same spike and nobody is told again.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from voxwatch.domain import Notice, Outgoing
from voxwatch.i18n import N_
from voxwatch.permissions import Action
from voxwatch.settings import Settings, SpikeSettings
from voxwatch.store import queries, store_for
from voxwatch.store.database import Connection

BASELINE_WINDOWS = 7
WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class SpikeCheck:
    count: int
    mean: float
    sd: float
    threshold: float
    fired: bool

    def explain(self, k: float) -> str:
        above = N_(
            "{count} negative mentions in 24 h, above the 7-day mean {mean} + {k} x sd {sd} = {threshold}"
        )
        within = N_("{count} negative mentions in 24 h, within the 7-day mean {mean} + {k} x sd {sd} = {sum}")
        return (above if self.fired else within).format(
            count=self.count,
            mean=f"{self.mean:.1f}",
            k=f"{k:g}",
            sd=f"{self.sd:.1f}",
            threshold=f"{self.threshold:.1f}",
            sum=f"{self.threshold:.1f}",
        )


def check(count: int, history: Sequence[int], rule: SpikeSettings) -> SpikeCheck:
    """Apply the rule to one window's count and the counts of the windows before it."""
    mean = statistics.fmean(history) if history else 0.0
    sd = statistics.pstdev(history) if len(history) > 1 else 0.0
    threshold = mean + rule.k * sd
    return SpikeCheck(count, mean, sd, threshold, count > threshold and count >= rule.min_mentions)


def daily_spikes(days: Sequence[tuple[Any, int]], rule: SpikeSettings) -> list[dict[str, Any]]:
    """Mark each day of a daily series against the seven days before it (for charts)."""
    marked = []
    for index, (day, count) in enumerate(days):
        history = [c for _, c in days[max(0, index - BASELINE_WINDOWS) : index]]
        result = check(count, history, rule) if len(history) == BASELINE_WINDOWS else None
        marked.append(
            {
                "day": day,
                "negative": count,
                "threshold": result.threshold if result else None,
                "spike": bool(result and result.fired),
                "why": result.explain(rule.k) if result else N_("not enough history (7 days needed)"),
            }
        )
    return marked


def record_spike(
    settings: Settings,
    model_id: str,
    now: datetime | None = None,
    messages_for: Callable[[Notice], Sequence[Outgoing]] | None = None,
) -> dict[str, Any] | None:
    """Record a new spike and return it; None when the rule is quiet or the spike is known.

    ``messages_for`` turns the spike's notice into outbox messages (the caller
    knows the channels); they are queued in the same transaction as the spike,
    so a crash cannot record a spike and lose its alert.
    """
    now = now or datetime.now(UTC)
    rule = settings.spikes
    store = store_for(settings)

    def _write(conn: Connection) -> dict[str, Any] | None:
        counts = queries.negative_counts_per_window(conn, model_id, now, BASELINE_WINDOWS + 1)
        result = check(counts[0], counts[1:], rule)
        if not result.fired:
            return None
        latest = queries.latest_spike(conn)
        if latest and latest["detected_at"] > now - WINDOW:
            return None  # the same spike, already told
        found = queries.window_negatives(conn, model_id, now - WINDOW, now, rule.examples)
        spike = {
            "detected_at": now,
            "window_start": now - WINDOW,
            "window_end": now,
            "mentions": result.count,
            "baseline_mean": result.mean,
            "baseline_sd": result.sd,
            "threshold": result.threshold,
            "themes": found["themes"],
            "examples": found["examples"],
            "why": result.explain(rule.k),
        }
        spike["id"] = queries.insert_spike(conn, spike)
        for message in messages_for(spike_notice(settings, spike)) if messages_for else ():
            queries.enqueue(conn, message, now)
        return spike

    return store.write(_write)


def comms_emails(settings: Settings) -> list[str]:
    """Comms leads (approvers) and supervisors hear about spikes."""
    return [p.email for p in settings.people_who_may(Action.HEAR_ABOUT_SPIKES) if p.email]


def spike_notice(settings: Settings, spike: dict[str, Any]) -> Notice:
    """Plain text: mention text is quoted as data, shortened, never formatted."""
    themes = ", ".join(f"{t['theme']} ({t['mentions']})" for t in spike["themes"]) or "no tagged theme"
    lines = [f"Why: {spike['why']}.", f"Top themes: {themes}.", "Examples:"]
    for example in spike["examples"]:
        text = " ".join(str(example["text"]).split())
        lines.append(f'- {example["source"]} / {example["author"] or "anonymous"}: "{text[:200]}"')
    return Notice(
        event="spike",
        subject=f"[VoxWatch] spike in negative mentions of {settings.brand.name}",
        text="\n".join(lines),
        ref=f"spike-{spike['id']}" if "id" in spike else None,
    )
