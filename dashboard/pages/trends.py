"""Trends: how the brand is talked about over time, and how well the team answers.

Charts where people look, numbers where they compare. Every headline figure is
``insights.kpis``'s (the monthly report's too); per-day totals count each mention
once, whatever the breakdown; every day of the period is drawn, zero days included.
"""

from datetime import timedelta

import altair as alt
import streamlit as st

from dashboard.data import current_settings, data_days, monthly_report_html, trends
from dashboard.session import require
from insights.report import current_month
from insights.trends import breakdown_csv, period_choices, totals_csv
from sentiment.registry import model_id_for
from voxwatch.permissions import Action

settings = current_settings()
require(settings, Action.VIEW_TRENDS)

st.title("Trends")
period, breakdown = st.columns(2)
model_id = model_id_for(settings.model.name)
choices, default = period_choices(data_days(model_id))
days = period.selectbox(
    "Period",
    choices,
    index=choices.index(default),  # what the data covers, not a fixed 90 days
    format_func=lambda d: f"last {d} day{'' if d == 1 else 's'}",
)
by = breakdown.selectbox("Break volume down by", ["source", "language", "theme"])
data = trends(model_id, days, by)
kpis = data["kpis"]


def shown(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:.1f}{unit}"


cols = st.columns(8)
cols[7].metric("Mentions", data["volume"], help="Each mention once, whatever the breakdown below.")
cols[0].metric("Net sentiment", shown(data["net_sentiment"]))
cols[1].metric("Median first response", shown(kpis["median_first_response_hours"], " h"))
cols[2].metric("Median resolution", shown(kpis["median_resolution_hours"], " h"))
cols[3].metric("SLA met", shown(kpis["sla_met_pct"], " %"))
cols[4].metric("First-contact resolution", shown(kpis["first_contact_resolution_pct"], " %"))
cols[5].metric("Repeat complaints", shown(kpis["repeat_complaint_pct"], " %"))
cols[6].metric(  # with its n, so nobody reads 100 % from one case
    "Service recovery",
    f"{shown(kpis['service_recovery_pct'], ' %')} (n={kpis['service_recovery_n']})",
    help="Answered complaints whose author's next mention (within the follow-up window) was not negative; "
    f"n of {kpis['answered_complaints']} answered complaints had a next mention.",
)

st.subheader("Mentions per day by sentiment")
if data["volume"]:
    chart = (
        alt.Chart(alt.Data(values=[{**r, "day": r["day"].isoformat()} for r in data["totals_daily"]]))
        .mark_bar()
        .encode(
            x=alt.X("day:T", title="day"),
            y=alt.Y("sum(mentions):Q", title="mentions"),
            color=alt.Color(
                "label:N",
                scale=alt.Scale(
                    domain=["negative", "neutral", "positive"], range=["#d62728", "#bbbbbb", "#2ca02c"]
                ),
            ),
            tooltip=["day:T", "label:N", "mentions:Q"],
        )
    )
    st.altair_chart(chart, use_container_width=True)
    st.subheader(f"Mentions per day by {by}")
    if by == "theme":
        st.caption(
            "A mention can carry several themes, so these lines can add up to more than the "
            f"{data['volume']} mentions above; the totals count each mention once."
        )
    st.altair_chart(
        alt.Chart(alt.Data(values=[{**r, "day": r["day"].isoformat()} for r in data["lines"]]))
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title="day"),
            y=alt.Y("sum(mentions):Q", title="mentions"),
            color=alt.Color(f"{by}:N"),
            tooltip=["day:T", f"{by}:N", "sum(mentions):Q"],
        ),
        use_container_width=True,
    )
else:
    st.info("No mentions in this period.")

st.subheader("Negative mentions and spikes")
st.caption(
    f"A day is a spike when its negative mentions exceed the mean of the 7 days before it "
    f"+ {settings.spikes.k:g} standard deviations (and reach {settings.spikes.min_mentions}). "
    "Hover a point for the arithmetic."
)
spikes = [{**d, "day": d["day"].isoformat()} for d in data["spikes"]]
if spikes:
    base = alt.Chart(alt.Data(values=spikes)).encode(x=alt.X("day:T", title="day"))
    st.altair_chart(
        base.mark_line(color="#d62728").encode(y=alt.Y("negative:Q", title="negative mentions"))
        + base.mark_line(strokeDash=[4, 4], color="#888888").encode(y="threshold:Q")
        + base.mark_point(filled=True, size=90).encode(
            y="negative:Q",
            color=alt.Color(
                "spike:N", scale=alt.Scale(domain=[True, False], range=["#d62728", "#cccccc"]), title="spike"
            ),
            tooltip=["day:T", "negative:Q", "why:N"],
        ),
        use_container_width=True,
    )
    fired = [d for d in data["spikes"] if d["spike"]]
    for day in fired:
        st.markdown(f"**Spike {day['day']:%Y-%m-%d}**: {day['why']}")

left, right = st.columns(2)
with left:
    st.subheader("Top complaint themes")
    if data["themes"]:
        st.altair_chart(
            alt.Chart(alt.Data(values=data["themes"]))
            .mark_bar()
            .encode(x=alt.X("complaints:Q"), y=alt.Y("theme:N", sort="-x")),
            use_container_width=True,
        )
with right:
    st.subheader("Open backlog by age")
    backlog = [{"age": k, "cases": v} for k, v in kpis["open_backlog_by_age"].items()]
    if backlog:
        st.altair_chart(
            alt.Chart(alt.Data(values=backlog)).mark_bar().encode(x="age:N", y="cases:Q"),
            use_container_width=True,
        )

st.download_button(
    "Export CSV",
    totals_csv(data["totals_daily"]),
    file_name=f"voxwatch-trends-{days}d.csv",
    mime="text/csv",
    help="Mentions per day and sentiment, each mention once.",
)
st.download_button(
    f"Export CSV by {by}",
    breakdown_csv(data["daily"], by),
    file_name=f"voxwatch-trends-{days}d-by-{by}.csv",
    mime="text/csv",
    help="By theme, a mention is in one row per theme.",
)

st.subheader("Monthly leader report")
this_month = current_month()  # the UTC month, as the report's bounds are
months = [this_month, (this_month - timedelta(days=1)).replace(day=1)]
month = st.selectbox("Month", months, format_func=lambda m: m.strftime("%B %Y"))
st.download_button(
    "Download report (HTML)",
    monthly_report_html(model_id, month),
    file_name=f"voxwatch-report-{month:%Y-%m}.html",
    mime="text/html",
)
