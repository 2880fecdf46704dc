"""Triage, SLA, routing and (later) templates, approvals and audit: the rules a care
team works by. Pure functions over domain types; the flows call them and the
store keeps what they decide."""
