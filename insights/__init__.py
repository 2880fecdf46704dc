"""Insights for leaders: trends, spikes and the monthly report, read from the store.

A stage like collecting, scoring and routing: it reads what they stored and
never changes a case. ``trends`` shapes what the trends page shows, ``spikes``
holds the spike rule (used by the chart and by the route flow's alert alike),
``report`` builds the monthly leader report.
"""
