"""Trends: how the brand is talked about over time, and how well the team answers.

Charts where people look, numbers where they compare. Every headline figure is
``insights.kpis``'s (the monthly report's too); per-day totals count each mention
once, whatever the breakdown; every day of the period is drawn, zero days included.
"""

from datetime import timedelta

import altair as alt
import streamlit as st

from dashboard.data import current_settings, data_days, monthly_report_html, theme_names, trends
from dashboard.display import escape_markdown
from dashboard.i18n import _, current
from dashboard.session import require
from dashboard.words import LABEL_WORDS
from insights.report import current_month
from insights.trends import breakdown_csv, period_choices, totals_csv
from sentiment.registry import model_id_for
from voxwatch.permissions import Action

settings = current_settings()
require(settings, Action.VIEW_TRENDS)

tr = current()
names = theme_names(tr.lang)
st.title(_("Trends"))
period, breakdown = st.columns(2)
model_id = model_id_for(settings.model.name)
choices, default = period_choices(data_days(model_id))
days = period.selectbox(
    _("Period"),
    choices,
    index=choices.index(default),  # what the data covers, not a fixed 90 days
    format_func=lambda d: _("last day") if d == 1 else _("last {n} days", n=d),
)
BREAKDOWNS = {"source": _("source"), "language": _("language"), "theme": _("theme")}
by = breakdown.selectbox(_("Break volume down by"), list(BREAKDOWNS), format_func=BREAKDOWNS.__getitem__)
data = trends(model_id, days, by)
kpis = data["kpis"]


def named(row: dict) -> dict:
    """A chart row with its theme (if any) named in the interface language."""
    return {**row, "theme": names.get(row["theme"], row["theme"])} if "theme" in row else row


def shown(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{tr.number(value)}{unit}"


cols = st.columns(8)
HOURS = _(" h")
cols[7].metric(_("Mentions"), data["volume"], help=_("Each mention once, whatever the breakdown below."))
cols[0].metric(_("Net sentiment"), shown(data["net_sentiment"]))
cols[1].metric(_("Median first response"), shown(kpis["median_first_response_hours"], HOURS))
cols[2].metric(_("Median resolution"), shown(kpis["median_resolution_hours"], HOURS))
cols[3].metric(_("SLA met"), shown(kpis["sla_met_pct"], " %"))
cols[4].metric(_("First-contact resolution"), shown(kpis["first_contact_resolution_pct"], " %"))
cols[5].metric(_("Repeat complaints"), shown(kpis["repeat_complaint_pct"], " %"))
cols[6].metric(  # with its n, so nobody reads 100 % from one case
    _("Service recovery"),
    f"{shown(kpis['service_recovery_pct'], ' %')} (n={kpis['service_recovery_n']})",
    help=_(
        "Answered complaints whose author's next mention (within the follow-up window) was not negative; "
        "n of {answered} answered complaints had a next mention.",
        answered=kpis["answered_complaints"],
    ),
)
DAY, MENTIONS, SENTIMENT = _("day"), _("mentions"), _("sentiment")
# Days as numbers (2026-11-30, 11-30): the charts' own month and weekday names would be English.
DAY_FORMAT = "%Y-%m-%d"
DAY_AXIS = alt.Axis(format="%m-%d", labelAngle=0)
LABELS = [_(LABEL_WORDS[label]) for label in ("negative", "neutral", "positive")]

st.subheader(_("Mentions per day by sentiment"))
if data["volume"]:
    chart = (
        alt.Chart(
            alt.Data(
                values=[
                    {**r, "day": r["day"].isoformat(), "label": _(LABEL_WORDS[r["label"]])}
                    for r in data["totals_daily"]
                ]
            )
        )
        .mark_bar()
        .encode(
            x=alt.X("day:T", title=DAY, axis=DAY_AXIS),
            y=alt.Y("sum(mentions):Q", title=MENTIONS),
            color=alt.Color(
                "label:N",
                title=SENTIMENT,
                scale=alt.Scale(domain=LABELS, range=["#d62728", "#bbbbbb", "#2ca02c"]),
            ),
            tooltip=[
                alt.Tooltip("day:T", title=DAY, format=DAY_FORMAT),
                alt.Tooltip("label:N", title=SENTIMENT),
                alt.Tooltip("mentions:Q", title=MENTIONS),
            ],
        )
    )
    st.altair_chart(chart, use_container_width=True)
    st.subheader(_("Mentions per day by {breakdown}", breakdown=BREAKDOWNS[by]))
    if by == "theme":
        st.caption(
            _(
                "A mention can carry several themes, so these lines can add up to more than the "
                "{volume} mentions above; the totals count each mention once.",
                volume=data["volume"],
            )
        )
    st.altair_chart(
        alt.Chart(alt.Data(values=[named({**r, "day": r["day"].isoformat()}) for r in data["lines"]]))
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title=DAY, axis=DAY_AXIS),
            y=alt.Y("sum(mentions):Q", title=MENTIONS),
            color=alt.Color(f"{by}:N", title=BREAKDOWNS[by]),
            tooltip=[
                alt.Tooltip("day:T", title=DAY, format=DAY_FORMAT),
                alt.Tooltip(f"{by}:N", title=BREAKDOWNS[by]),
                alt.Tooltip("sum(mentions):Q", title=MENTIONS),
            ],
        ),
        use_container_width=True,
    )
else:
    st.info(_("No mentions in this period."))

st.subheader(_("Negative mentions and spikes"))
st.caption(
    _(
        "A day is a spike when its negative mentions exceed the mean of the 7 days before it "
        "+ {k} standard deviations (and reach {least}). Hover a point for the arithmetic.",
        k=f"{settings.spikes.k:g}",
        least=settings.spikes.min_mentions,
    )
)
SPIKE, NO_SPIKE = _("spike"), _("no spike")
spikes = [
    {
        **d,
        "day": d["day"].isoformat(),
        "spike": SPIKE if d["spike"] else NO_SPIKE,
        "why": tr.recorded(d["why"]),
    }
    for d in data["spikes"]
]
if spikes:
    base = alt.Chart(alt.Data(values=spikes)).encode(x=alt.X("day:T", title=DAY, axis=DAY_AXIS))
    negatives = _("negative mentions")
    st.altair_chart(
        base.mark_line(color="#d62728").encode(y=alt.Y("negative:Q", title=negatives))
        + base.mark_line(strokeDash=[4, 4], color="#888888").encode(y=alt.Y("threshold:Q", title=negatives))
        + base.mark_point(filled=True, size=90).encode(
            y="negative:Q",
            color=alt.Color(
                "spike:N",
                scale=alt.Scale(domain=[SPIKE, NO_SPIKE], range=["#d62728", "#cccccc"]),
                title=_("spike"),
            ),
            tooltip=[
                alt.Tooltip("day:T", title=DAY, format=DAY_FORMAT),
                alt.Tooltip("negative:Q", title=negatives),
                alt.Tooltip("why:N", title=_("why")),
            ],
        ),
        use_container_width=True,
    )
    fired = [d for d in data["spikes"] if d["spike"]]
    for day in fired:
        st.markdown(
            "**"
            + escape_markdown(_("Spike {day}", day=tr.day(day["day"])))
            + "**: "
            + escape_markdown(tr.recorded(day["why"]))
        )

left, right = st.columns(2)
with left:
    st.subheader(_("Top complaint themes"))
    if data["themes"]:
        st.altair_chart(
            alt.Chart(alt.Data(values=[named(r) for r in data["themes"]]))
            .mark_bar()
            .encode(
                x=alt.X("complaints:Q", title=_("complaints")),
                y=alt.Y("theme:N", sort="-x", title=_("theme")),
            ),
            use_container_width=True,
        )
with right:
    st.subheader(_("Open backlog by age"))
    backlog = [{"age": _(k), "cases": v} for k, v in kpis["open_backlog_by_age"].items()]
    if backlog:
        st.altair_chart(
            alt.Chart(alt.Data(values=backlog))
            .mark_bar()
            .encode(
                x=alt.X("age:N", title=_("age"), sort=None),
                y=alt.Y("cases:Q", title=_("cases")),
            ),
            use_container_width=True,
        )

st.download_button(
    _("Export CSV"),
    totals_csv(data["totals_daily"]),
    file_name=f"voxwatch-trends-{days}d.csv",
    mime="text/csv",
    on_click="ignore",  # a download changes nothing: no re-run
    help=_("Mentions per day and sentiment, each mention once."),
)
st.download_button(
    _("Export CSV by {breakdown}", breakdown=BREAKDOWNS[by]),
    breakdown_csv(data["daily"], by),
    file_name=f"voxwatch-trends-{days}d-by-{by}.csv",
    mime="text/csv",
    on_click="ignore",  # a download changes nothing: no re-run
    help=_("By theme, a mention is in one row per theme."),
)

st.subheader(_("Monthly leader report"))
this_month = current_month()  # the UTC month, as the report's bounds are
months = [this_month, (this_month - timedelta(days=1)).replace(day=1)]
month = st.selectbox(_("Month"), months, format_func=tr.month)
st.download_button(
    _("Download report (HTML)"),
    monthly_report_html(model_id, month, tr.lang),
    file_name=f"voxwatch-report-{month:%Y-%m}.html",
    mime="text/html",
    on_click="ignore",
)
