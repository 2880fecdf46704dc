"""Trends: how the brand is talked about over time, and how well the team answers.

Charts where people look, numbers where they compare. Net sentiment is
(positive - negative) / (positive + negative) over the period.
"""

import csv
import io

import altair as alt
import streamlit as st

from dashboard.data import current_settings, trends
from dashboard.session import require
from sentiment.registry import model_id_for

settings = current_settings()
require(settings, "executive", "supervisor", "admin", "approver")

st.title("Trends")
days = st.selectbox("Period", [7, 30, 90], index=2, format_func=lambda d: f"last {d} days")
data = trends(model_id_for(settings.model.name), days)
kpis = data["kpis"]


def shown(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:.1f}{unit}"


cols = st.columns(6)
cols[0].metric("Net sentiment", shown(data["net_sentiment"]))
cols[1].metric("Median first response", shown(kpis["median_first_response_hours"], " h"))
cols[2].metric("Median resolution", shown(kpis["median_resolution_hours"], " h"))
cols[3].metric("SLA met", shown(kpis["sla_met_pct"], " %"))
cols[4].metric("First-contact resolution", shown(kpis["first_contact_resolution_pct"], " %"))
cols[5].metric("Repeat complaints", shown(kpis["repeat_complaint_pct"], " %"))

st.subheader("Mentions per day by sentiment")
if data["daily"]:
    chart = (
        alt.Chart(alt.Data(values=[{**r, "day": r["day"].isoformat()} for r in data["daily"]]))
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
            tooltip=["day:T", "source:N", "label:N", "mentions:Q"],
        )
    )
    st.altair_chart(chart, use_container_width=True)
else:
    st.info("No mentions in this period.")

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

buffer = io.StringIO()
writer = csv.DictWriter(buffer, fieldnames=["day", "source", "label", "mentions"])
writer.writeheader()
writer.writerows({**r, "day": r["day"].date().isoformat()} for r in data["daily"])
st.download_button("Export CSV", buffer.getvalue(), file_name=f"voxwatch-trends-{days}d.csv", mime="text/csv")
