"""Settings: one TOML file, validated, with errors that name the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from voxwatch.errors import SettingsError
from voxwatch.settings import load_settings

VALID = """
[brand]
name = "Acme"

[store]
path = "data/acme.duckdb"

[[sources]]
name = "blog"
kind = "rss"
url = "https://example.com/feed.xml"

[[responders]]
name = "amy"
display_name = "Amy"
team = "care"

[routing]
default_team = "care"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "voxwatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_loads_with_defaults_from_domain_practice(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, VALID))
    assert settings.sla.urgent_first_response_hours == 2
    assert settings.sla.normal_first_response_hours == 24
    assert settings.sla.resolution_hours == 48
    assert settings.sources[0].interval_minutes == 15
    # a relative store path travels with the settings file
    assert settings.store.path == (tmp_path / "data" / "acme.duckdb").resolve()


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOXWATCH_SLA__URGENT_FIRST_RESPONSE_HOURS", "1.5")
    assert load_settings(write(tmp_path, VALID)).sla.urgent_first_response_hours == 1.5


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('kind = "rss"', 'kind = "gopher"'), "sources.0.kind"),
        (('url = "https://example.com/feed.xml"', 'url = "ftp://example.com"'), "sources.0.url"),
        (('default_team = "care"', 'default_team = "nobody"'), "routing.default_team: team 'nobody'"),
        (("[store]", '[store]\nspeed = "fast"'), "store.speed"),
        (('name = "blog"', 'name = "Blog Feed!"'), "sources.0.name"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    path = write(tmp_path, VALID.replace(*change))
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_broken_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "\n[routing\n")
    with pytest.raises(SettingsError, match=r"not valid TOML.*line"):
        load_settings(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read settings file"):
        load_settings(tmp_path / "nope.toml")


def test_cli_reports_user_errors_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace('kind = "rss"', 'kind = "gopher"'))
    result = subprocess.run(
        [sys.executable, "-m", "voxwatch", "check-config", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "sources.0.kind" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("notifications", "smtp_password"),
        ("notifications", "webhook_url"),
        ("bluesky", "app_password"),
        ("publishing", "mastodon_token"),
        ("publishing", "bluesky_app_password"),
        ("publishing", "webhook_url"),
    ],
)
def test_secrets_in_the_file_are_refused(tmp_path: Path, section: str, key: str) -> None:
    path = write(tmp_path, VALID + f'\n[{section}]\n{key} = "hunter2"\n')
    with pytest.raises(SettingsError, match=f"VOXWATCH_{section.upper()}__{key.upper()}"):
        load_settings(path)


def test_secrets_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOXWATCH_NOTIFICATIONS__SMTP_PASSWORD", "hunter2")
    settings = load_settings(write(tmp_path, VALID))
    assert settings.notifications.smtp_password is not None
    assert settings.notifications.smtp_password.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(settings)


def test_publishing_secrets_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOXWATCH_PUBLISHING__MASTODON_TOKEN", "masto-tok-1234")
    monkeypatch.setenv("VOXWATCH_PUBLISHING__WEBHOOK_URL", "https://relay.example/hooks/tok-5678")
    monkeypatch.setenv("VOXWATCH_NOTIFICATIONS__WEBHOOK_URL", "https://hooks.example/T0/B1/xyz-9012")
    settings = load_settings(
        write(tmp_path, VALID + '\n[publishing]\nmastodon_base_url = "https://social.example"\n')
    )
    publishing = settings.publishing
    assert publishing.mastodon_token is not None and publishing.webhook_url is not None
    assert publishing.mastodon_token.get_secret_value() == "masto-tok-1234"
    assert publishing.webhook_url.get_secret_value() == "https://relay.example/hooks/tok-5678"
    assert settings.notifications.webhook_url is not None
    assert settings.notifications.webhook_url.get_secret_value().endswith("xyz-9012")
    assert not any(s in repr(settings) for s in ("masto-tok-1234", "tok-5678", "xyz-9012"))
    assert settings.source("blog").reply_via == "manual"


@pytest.mark.parametrize(
    ("kind", "reply_via", "problem"),
    [
        ("rss", "mastodon", "a rss source can reply via email, webhook or manual"),
        ("rss", "bluesky", "answers bluesky posts"),
        ("rss", "fax", "sources.0.reply_via"),
    ],
)
def test_reply_via_must_fit_the_source(tmp_path: Path, kind: str, reply_via: str, problem: str) -> None:
    text = VALID.replace('kind = "rss"', f'kind = "{kind}"\nreply_via = "{reply_via}"')
    with pytest.raises(SettingsError, match=problem):
        load_settings(write(tmp_path, text))


def test_passwords_are_stored_as_salted_hashes_only() -> None:
    from voxwatch.passwords import hash_password, verify_password

    first, second = hash_password("larkspur-demo"), hash_password("larkspur-demo")
    assert first != second and "larkspur-demo" not in first  # salted, never the password
    assert verify_password("larkspur-demo", first) and not verify_password("larkspur-dem0", first)
    assert not verify_password("anything", None) and not verify_password("anything", "plain-text")
