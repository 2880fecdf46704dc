"""The admin's settings editor: validated before saving, written whole, audited."""

from __future__ import annotations

import tempfile
from importlib import resources
from pathlib import Path

import pytest

from responders.settings_editor import area_text, save_area, validate_area
from tests.builders import write_team_settings
from voxwatch.errors import SettingsError
from voxwatch.settings import load_settings
from voxwatch.store import queries, store_for


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "voxwatch.toml"
    demo = resources.files("voxwatch.demo").joinpath("voxwatch.toml").read_text(encoding="utf-8")
    path.write_text(demo.replace("{server}", "http://127.0.0.1:9"), encoding="utf-8")
    store = store_for(load_settings(path))
    store.migrate()
    return path


def audit(path: Path) -> list[dict]:
    return store_for(load_settings(path)).read(lambda c: queries.audit_entries(c, "settings", 10))


def test_responders_are_edited_without_seeing_password_hashes(config: Path) -> None:
    text = area_text(config, "responders")
    assert "[[responders]]" in text and "password_hash" not in text and "scrypt$" not in text
    save_area(
        config,
        "responders",
        text.replace("capacity = 0", "capacity = 3", 1),
        "grace",
        store_for(load_settings(config)),
    )
    settings = load_settings(config)
    assert all(p.password_hash for p in settings.responders)  # carried over by name
    assert "# An executive" in config.read_text(encoding="utf-8")  # comments elsewhere survive
    (entry,) = audit(config)
    assert (entry["actor"], entry["entity_id"], entry["action"]) == ("grace", "responders", "changed")


def test_an_invalid_change_names_the_problem_and_writes_nothing(config: Path) -> None:
    before = config.read_text(encoding="utf-8")
    store = store_for(load_settings(config))
    bad_sla = area_text(config, "sla").replace(
        "urgent_first_response_hours = 2", "urgent_first_response_hours = -2"
    )
    with pytest.raises(SettingsError, match="urgent_first_response_hours"):
        save_area(config, "sla", bad_sla, "grace", store)
    with pytest.raises(SettingsError, match="not valid TOML"):
        validate_area(config, "routing", "[routing\ndefault_team =")
    with pytest.raises(SettingsError, match=r"\[routing\] section only"):
        validate_area(
            config, "routing", '[routing]\ndefault_team = "care"\n[store]\npath = "/tmp/elsewhere.duckdb"\n'
        )
    assert config.read_text(encoding="utf-8") == before and audit(config) == []


def test_sla_change_is_saved_and_loaded(config: Path) -> None:
    text = area_text(config, "sla").replace(
        "urgent_first_response_hours = 2", "urgent_first_response_hours = 1"
    )
    save_area(config, "sla", text, "grace", store_for(load_settings(config)))
    assert load_settings(config).sla.urgent_first_response_hours == 1
    assert (config.parent / "voxwatch.toml.bak").is_file()
    (entry,) = audit(config)
    assert "= 2" in entry["before"] and "= 1" in entry["after"]


TEMPLATE = '''[[templates]]
situation = "first_response"
lang = "en"
version = 7
body = """Hi {{ customer }}, {{ responder }} here. We will reply by {{ reply_by }}."""
'''


def test_templates_are_checked_in_the_sandbox_then_saved_beside_the_settings(config: Path) -> None:
    from responders.templates import TemplateLibrary

    store = store_for(load_settings(config))
    with pytest.raises(SettingsError, match="unknown variable"):
        save_area(
            config, "templates", TEMPLATE.replace("{{ customer }}", "{{ config.__class__ }}"), "grace", store
        )
    assert not (config.parent / "templates.toml").exists()
    save_area(config, "templates", TEMPLATE, "grace", store)
    settings = load_settings(config)
    assert settings.library.templates == config.parent / "templates.toml"
    assert TemplateLibrary.load(settings.library.templates).get("first_response", "en").version == 7
    assert area_text(config, "templates") == TEMPLATE


@pytest.mark.parametrize("area", ["sla", "templates"])
def test_a_typo_names_the_area_typed_and_never_a_scratch_path(tmp_path: Path, area: str) -> None:
    path = write_team_settings(tmp_path)
    typo = {"sla": "[sla]\nurgent_first_response_hours = -2\n", "templates": "[[templates]]\nsituation = 1\n"}
    with pytest.raises(SettingsError) as info:
        validate_area(path, area, typo[area])
    message = str(info.value)
    assert tempfile.gettempdir() not in message and "/tmp" not in message
