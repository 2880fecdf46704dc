"""Change the settings file from the dashboard: validate first, write atomically, audit.

An admin edits one area at a time (responders, routing rules, SLA tiers, the
team's own templates) as TOML text. A change is checked by loading the whole
resulting settings exactly as every process will (``load_settings``), and
templates by compiling each in the sandbox; only a valid change is written, via
a temporary file and a rename, with the previous file kept as ``.bak``. Every
saved change goes to the audit log with the text before and after.

Password hashes never reach the editor: they are taken out of the text shown
and carried over by name on save. Comments elsewhere in the file survive
(``tomlkit`` keeps them).
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import tomlkit
from tomlkit.exceptions import TOMLKitError

from responders.lifecycle import check_role
from voxwatch.errors import SettingsError
from voxwatch.permissions import Action
from voxwatch.settings import Settings, load_settings
from voxwatch.store import Store, queries

Area = Literal["responders", "routing", "sla", "templates"]
AREAS: tuple[Area, ...] = ("responders", "routing", "sla", "templates")
TEAM_TEMPLATES = "templates.toml"  # created beside the settings file on the first template edit

__all__ = ["AREAS", "Area", "area_text", "save_area", "validate_area"]


def _document(path: Path) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except (OSError, TOMLKitError) as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc}") from exc


def _templates_file(path: Path, settings: Settings) -> Path:
    return settings.library.templates or path.parent / TEAM_TEMPLATES


def area_text(path: Path, area: Area) -> str:
    """The area as the TOML an admin edits (no password hashes)."""
    if area == "templates":
        target = _templates_file(path, load_settings(path))
        return target.read_text(encoding="utf-8") if target.is_file() else ""
    document = _document(path)
    if area not in document:
        return ""
    section = tomlkit.document()
    section[area] = document[area]
    if area == "responders":
        for person in section["responders"]:
            person.pop("password_hash", None)
    return tomlkit.dumps(section)


def _merged(path: Path, area: Area, text: str) -> tuple[str, str | None]:
    """(new settings file text, new templates file text or None), not yet checked."""
    try:
        edited = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise SettingsError(f"{area}: not valid TOML: {exc}") from exc
    document = _document(path)
    if area == "templates":
        if set(edited) - {"templates"}:
            raise SettingsError(
                f"templates: only [[templates]] tables belong here, not {sorted(set(edited))}"
            )
        if "library" not in document or "templates" not in document["library"]:
            document.setdefault("library", tomlkit.table())["templates"] = TEAM_TEMPLATES
        return tomlkit.dumps(document), text
    if set(edited) != {area}:
        raise SettingsError(
            f"{area}: the text must hold the [{area}] section only, found {sorted(set(edited))}"
        )
    if area == "responders":
        hashes = {p.get("name"): p.get("password_hash") for p in document.get("responders", [])}
        for person in edited["responders"]:
            if hashes.get(person.get("name")) and "password_hash" not in person:
                person["password_hash"] = hashes[person.get("name")]
    document[area] = edited[area]
    return tomlkit.dumps(document), None


def validate_area(path: Path, area: Area, text: str) -> tuple[str, str | None]:
    """Load the settings as they would be after the change; SettingsError names the problem.

    Returns what would be written: the settings file's text, and the templates
    file's text when templates changed.
    """
    from responders.templates import TemplateLibrary

    settings_text, templates_text = _merged(path, area, text)
    with tempfile.TemporaryDirectory() as scratch:
        candidate = Path(scratch) / path.name
        candidate.write_text(settings_text, encoding="utf-8")
        if templates_text is not None:
            (Path(scratch) / TEAM_TEMPLATES).write_text(templates_text, encoding="utf-8")
        try:
            load_settings(candidate)
            if templates_text is not None:
                TemplateLibrary.load(Path(scratch) / TEAM_TEMPLATES)
        except SettingsError as exc:  # name what the person edited, never the scratch copy
            message = str(exc).replace(str(Path(scratch) / TEAM_TEMPLATES), f"the {area} you typed")
            raise SettingsError(
                message.replace(str(candidate), f"{path.name} with the {area} you typed")
            ) from None
    return settings_text, templates_text


def _replace(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` atomically, keeping the old file as ``.bak``."""
    if target.is_file():
        target.with_name(target.name + ".bak").write_bytes(target.read_bytes())
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, target)


def save_area(path: Path, area: Area, text: str, actor: str, store: Store) -> None:
    """Validate, write and audit one area's change. Nothing is written if it is invalid.

    The actor's role is checked against the settings as they are now, before the
    change, so nobody can grant themselves the right to make it.
    """
    check_role(Action.EDIT_SETTINGS, load_settings(path).person(actor))
    settings_text, templates_text = validate_area(path, area, text)
    before = area_text(path, area)
    if templates_text is not None:  # first, so the settings never name a file that is not there
        _replace(_templates_file(path, load_settings(path)), templates_text)
    if settings_text != path.read_text(encoding="utf-8"):
        _replace(path, settings_text)
    after = area_text(path, area)
    now = datetime.now(UTC)

    def _audit(conn: Any) -> None:
        queries.append_audit(conn, now, actor, "settings", area, "changed", {"toml": before}, {"toml": after})

    store.write(_audit)
