"""The dashboard's settings forms, as edits of the same TOML the text editor shows.

A form reads an area's TOML into rows (one per person, one per routing rule), and
writes the rows a person edited back into that TOML: keys the form does not show
(a shift, an e-mail address, a comment) are kept, new rows become new tables, removed
rows go. The result is then checked and saved exactly like typed TOML
(``settings_editor.validate_area`` / ``save_area``), so a form cannot save anything the
editor would refuse, and its errors name the key.

Pure functions: no Streamlit, tested directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Table

from responders.templates import SITUATIONS, Template, TemplateLibrary, checked, render, reply_by_text
from voxwatch.errors import SettingsError

PERSON_FIELDS = ("name", "display_name", "team", "roles", "languages", "capacity", "interface_language")
RULE_FIELDS = ("name", "team", "sources", "languages", "keywords", "themes", "tiers")
SLA_FIELDS = (
    "urgent_first_response_hours",
    "normal_first_response_hours",
    "resolution_hours",
    "follow_up_window_hours",
)
# What a preview fills a template with: plausible values, never a real customer's.
PREVIEW_VALUES = {
    "en": {"customer": "Priya", "responder": "Amy", "case_ref": "VW-1042"},
    "zh": {"customer": "王女士", "responder": "小林", "case_ref": "VW-1042"},
}


def _parse(area: str, text: str) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise SettingsError(f"{area}: not valid TOML: {exc}") from exc


def _plain(value: Any) -> Any:
    """A tomlkit value as plain Python (lists and numbers a table widget can show)."""
    return value.unwrap() if hasattr(value, "unwrap") else value


def _rows(tables: Iterable[Mapping[str, Any]], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{field: _plain(table.get(field)) for field in fields} for table in tables]


def _cleaned(row: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """A row's non-empty values (an empty cell means 'not set', so the default applies)."""
    kept: dict[str, Any] = {}
    for field in fields:
        value = row.get(field)
        if value is None or value == "" or (isinstance(value, float) and value != value):  # NaN: empty
            continue
        if isinstance(value, list | tuple):
            value = [str(v).strip() for v in value if str(v).strip()]
            if not value:
                continue
        elif isinstance(value, float) and value.is_integer() and field == "capacity":
            value = int(value)
        kept[field] = value
    return kept


def _merged_tables(
    old: Iterable[Table], rows: Iterable[Mapping[str, Any]], fields: tuple[str, ...], key: str
) -> AoT:
    """The edited rows as an array of tables, each keeping its old table's other keys (matched on ``key``)."""
    by_key = {str(t.get(key)): t for t in old}
    tables = AoT([])
    for row in rows:
        values = _cleaned(row, fields)
        if not values:
            continue  # a blank row added and left empty
        table = by_key.get(str(values.get(key)), tomlkit.table())
        for field in fields:
            if field in values:
                table[field] = values[field]
            elif field in table:
                del table[field]
        tables.append(table)
    return tables


def people_rows(text: str) -> list[dict[str, Any]]:
    """One row per ``[[responders]]`` table: the fields the people form shows."""
    return _rows(_parse("responders", text).get("responders", []), PERSON_FIELDS)


def people_text(text: str, rows: Iterable[Mapping[str, Any]]) -> str:
    """The responders area with the form's rows; shifts, e-mails and the rest kept by name."""
    document = _parse("responders", text)
    document["responders"] = _merged_tables(document.get("responders", []), rows, PERSON_FIELDS, "name")
    return tomlkit.dumps(document)


def routing_values(text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """({default_team, negative_threshold}, one row per rule) from the routing area."""
    routing = _parse("routing", text).get("routing", {})
    head = {k: _plain(routing.get(k)) for k in ("default_team", "negative_threshold")}
    return head, _rows(routing.get("rules", []), RULE_FIELDS)


def routing_text(text: str, head: Mapping[str, Any], rules: Iterable[Mapping[str, Any]]) -> str:
    """The routing area with the form's default team, threshold and rules (in the form's order)."""
    document = _parse("routing", text)
    routing = document.setdefault("routing", tomlkit.table())
    for key, value in head.items():
        if value not in (None, ""):
            routing[key] = value
    routing["rules"] = _merged_tables(routing.get("rules", []), rules, RULE_FIELDS, "name")
    return tomlkit.dumps(document)


def sla_values(text: str) -> dict[str, Any]:
    """The SLA targets in hours (None where the default applies)."""
    sla = _parse("sla", text).get("sla", {})
    return {field: _plain(sla.get(field)) for field in SLA_FIELDS}


def sla_text(text: str, values: Mapping[str, Any]) -> str:
    """The SLA area with the form's targets; business hours and the rest kept."""
    document = _parse("sla", text)
    sla = document.setdefault("sla", tomlkit.table())
    for field in SLA_FIELDS:
        value = values.get(field)
        if value is None:
            sla.pop(field, None)
        else:
            sla[field] = float(value)
    return tomlkit.dumps(document)


def template_text(text: str, library: TemplateLibrary, situation: str, lang: str, body: str) -> str:
    """The team's templates with a new version of (situation, lang): one above the newest known."""
    if situation not in SITUATIONS:
        raise SettingsError(f"templates: unknown situation {situation!r} (known: {', '.join(SITUATIONS)})")
    document = _parse("templates", text)
    newest = library.latest.get((situation, lang))
    version = (newest.version if newest and newest.lang == lang else 0) + 1
    table = tomlkit.table()
    table.update({"situation": situation, "lang": lang, "version": version})
    table["body"] = tomlkit.string(body.strip(), multiline=True)
    templates = document.setdefault("templates", AoT([]))
    templates.append(table)
    return tomlkit.dumps(document)


def preview(body: str, situation: str, lang: str, brand: str, now: datetime | None = None) -> str:
    """A body rendered as a customer would read it, with made-up values; SettingsError if invalid."""
    template = checked(Template(situation, lang, 0, body.strip()), "the template you typed")
    moment = now or datetime.now(UTC)
    values = PREVIEW_VALUES.get(lang, PREVIEW_VALUES["en"])
    reply_by = reply_by_text(moment + timedelta(hours=2), lang, "UTC", moment)
    return render(template, brand=brand, reply_by=reply_by, **values)
