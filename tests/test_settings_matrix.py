"""Settings, key by key: every invalid value is refused with a message that names its key.

A team edits ``voxwatch.toml`` by hand (or through the admin's editor), so each
rule in ``voxwatch.settings`` meets a wrong value here, one at a time, against a
file that is otherwise valid; the message must name the file and the key, so the
person can find the line. Also: environment overrides, the look-ups the other
layers use (``people_who_may``, ``person``, ``source``) and the editor's refusals.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from responders.settings_editor import area_text, save_area, validate_area
from tests.builders import team_settings, write_team_settings
from voxwatch.errors import SettingsError
from voxwatch.permissions import Action
from voxwatch.settings import CONFIG_ENV, Settings, load_settings
from voxwatch.store import queries, store_for

BASE = """
[brand]
name = "Acme"
keywords = ["acme"]

[store]
path = "vw.duckdb"
lock_timeout_seconds = 5

[model]
batch_size = 16
backend = "auto"

[sla]
urgent_first_response_hours = 2
normal_first_response_hours = 24
resolution_hours = 48

[sla.business_hours]
timezone = "Europe/Berlin"
start = 09:00:00
end = 17:00:00
weekdays = [0, 1, 2, 3, 4]

[triage]
strong_negative = 0.85
high_reach_followers = 10000

[spikes]
k = 3.0
min_mentions = 5
examples = 3

[dashboard]
session_minutes = 480

[notifications]
smtp_port = 587
retries = 3

[[sources]]
name = "blog"
kind = "rss"
url = "https://example.com/feed.xml"
interval_minutes = 15

[[sources]]
name = "toots"
kind = "mastodon"
url = "https://mastodon.example"
query = "#acme"

[[sources]]
name = "sky"
kind = "bluesky"
url = "https://bsky.example"
query = "acme"

[[responders]]
name = "amy"
display_name = "Amy"
team = "care"
roles = ["responder"]
capacity = 10

[[responders]]
name = "sara"
display_name = "Sara"
team = "escalations"
roles = ["responder", "approver"]
capacity = 5

[routing]
default_team = "care"
negative_threshold = 0.5

[[routing.rules]]
name = "urgent"
team = "escalations"
tiers = ["urgent"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "voxwatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def changed(old: str, new: str) -> str:
    assert BASE.count(old) >= 1, old
    return BASE.replace(old, new, 1)


def test_the_base_file_is_valid(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, BASE))
    assert [s.name for s in settings.sources] == ["blog", "toots", "sky"]
    assert settings.sla.business_hours is not None and settings.sla.business_hours.timezone == "Europe/Berlin"
    assert settings.routing.rules[0].tiers == ["urgent"]
    assert settings.store.path == (tmp_path / "vw.duckdb").resolve()


# (what to replace, with what, the key the message must name)
INVALID = [
    ('roles = ["responder"]', 'roles = ["boss"]', "responders.0.roles.0"),
    ('roles = ["responder", "approver"]', 'roles = ["responder", "owner"]', "responders.1.roles.1"),
    ('kind = "rss"', 'kind = "twitter"', "sources.0.kind"),
    ('url = "https://example.com/feed.xml"', 'url = "file:///etc/passwd"', "sources.0.url"),
    ('url = "https://example.com/feed.xml"', 'url = "example.com/feed.xml"', "sources.0.url"),
    ('url = "https://mastodon.example"', 'url = "javascript:alert(1)"', "sources.1.url"),
    ('query = "#acme"\n', "", "a mastodon source needs query"),
    ('query = "#acme"', 'query = "#"', "a mastodon source needs query"),
    ('query = "#acme"', 'query = "   "', "a mastodon source needs query"),
    ('query = "acme"\n', "", "a bluesky source needs query"),
    ('name = "blog"', 'name = "my blog"', "sources.0.name"),
    ('name = "toots"', 'name = "blog"', "duplicate name(s) blog"),
    ("interval_minutes = 15", "interval_minutes = 0", "sources.0.interval_minutes"),
    (
        'name = "urgent"\nteam = "escalations"',
        'name = "urgent"\nteam = "legal"',
        "routing.rules[urgent].team",
    ),
    ('default_team = "care"', 'default_team = "comms"', "routing.default_team"),
    ("capacity = 10", "capacity = -1", "responders.0.capacity"),
    ("capacity = 10", 'capacity = "lots"', "responders.0.capacity"),
    ('display_name = "Amy"\n', "", "responders.0.display_name"),
    ("negative_threshold = 0.5", "negative_threshold = 1.5", "routing.negative_threshold"),
    ("negative_threshold = 0.5", "negative_threshold = 0", "routing.negative_threshold"),
    ("negative_threshold = 0.5", "negative_threshold = 1", "routing.negative_threshold"),
    ('tiers = ["urgent"]', 'tiers = ["critical"]', "routing.rules.0.tiers.0"),
    ("strong_negative = 0.85", "strong_negative = 1.0", "triage.strong_negative"),
    ("high_reach_followers = 10000", "high_reach_followers = -5", "triage.high_reach_followers"),
    ("urgent_first_response_hours = 2", "urgent_first_response_hours = 0", "sla.urgent_first_response_hours"),
    ("resolution_hours = 48", "resolution_hours = -48", "sla.resolution_hours"),
    ('timezone = "Europe/Berlin"', 'timezone = "Mars/Olympus"', "sla.business_hours.timezone"),
    ("end = 17:00:00", 'end = "17:00:00+01:00"', "sla.business_hours"),  # 08:00 is a night shift now
    ("weekdays = [0, 1, 2, 3, 4]", "weekdays = [0, 7]", "sla.business_hours"),
    ("weekdays = [0, 1, 2, 3, 4]", "weekdays = []", "sla.business_hours"),
    ("k = 3.0", "k = 0", "spikes.k"),
    ("k = 3.0", "k = 11", "spikes.k"),
    ("min_mentions = 5", "min_mentions = 0", "spikes.min_mentions"),
    ("examples = 3", "examples = 11", "spikes.examples"),
    ("session_minutes = 480", "session_minutes = 0", "dashboard.session_minutes"),
    ("batch_size = 16", "batch_size = 0", "model.batch_size"),
    ('backend = "auto"', 'backend = "gpu"', "model.backend"),
    ("lock_timeout_seconds = 5", "lock_timeout_seconds = 0", "store.lock_timeout_seconds"),
    ("retries = 3", "retries = 0", "notifications.retries"),
    ('keywords = ["acme"]', 'keywords = "acme"', "brand.keywords"),
    ('[brand]\nname = "Acme"\n', "[brand]\n", "brand.name"),
    ('[routing]\ndefault_team = "care"', "[routing]", "routing.default_team"),
    # unknown keys, at every level: a typo must not be silently ignored
    ("[brand]", 'colour = "red"\n[brand]', "colour"),
    ("[sla]", "[sla]\nurgent_hours = 1", "sla.urgent_hours"),
    ("[store]", '[store]\nspeed = "fast"', "store.speed"),
    ('name = "blog"', 'name = "blog"\nfrequency = 5', "sources.0.frequency"),
    ('name = "amy"', 'name = "amy"\nphone = "555"', "responders.0.phone"),
    ('tiers = ["urgent"]', 'tiers = ["urgent"]\nauthors = ["x"]', "routing.rules.0.authors"),
    ("[triage]", "[triage]\nvip = []", "triage.vip"),
]


@pytest.mark.parametrize(("old", "new", "key"), INVALID, ids=[case[2] for case in INVALID])
def test_an_invalid_value_is_refused_naming_its_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    path = write(tmp_path, changed(old, new))
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    message = str(info.value)
    assert str(path) in message
    assert key in message


@pytest.mark.parametrize(
    ("section", "key", "env"),
    [
        ("notifications", "smtp_password", "VOXWATCH_NOTIFICATIONS__SMTP_PASSWORD"),
        ("notifications", "webhook_url", "VOXWATCH_NOTIFICATIONS__WEBHOOK_URL"),
        ("bluesky", "app_password", "VOXWATCH_BLUESKY__APP_PASSWORD"),
    ],
)
def test_a_secret_in_an_existing_section_is_refused(tmp_path: Path, section: str, key: str, env: str) -> None:
    text = (
        BASE.replace(f"[{section}]", f'[{section}]\n{key} = "s3cret"')
        if f"[{section}]" in BASE
        else (BASE + f'\n[{section}]\n{key} = "s3cret"\n')
    )
    path = write(tmp_path, text)
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    message = str(info.value)
    assert f"{section}.{key} is a secret" in message and env in message
    assert "s3cret" not in message  # the refusal does not echo the secret


def test_several_problems_are_all_named(tmp_path: Path) -> None:
    text = changed("capacity = 10", "capacity = -1").replace('kind = "rss"', 'kind = "gopher"')
    with pytest.raises(SettingsError) as info:
        load_settings(write(tmp_path, text))
    assert "responders.0.capacity" in str(info.value) and "sources.0.kind" in str(info.value)


def test_a_responder_without_roles_is_a_responder(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, changed('roles = ["responder"]\n', "")))
    assert [str(r) for r in settings.person("amy").roles] == ["responder"]
    assert settings.person("amy").languages == ["en"]


# --- environment overrides ---------------------------------------------------------------


def test_env_overrides_a_nested_key_and_keeps_its_siblings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOXWATCH_BRAND__NAME", "Zed Corp")
    monkeypatch.setenv("VOXWATCH_ROUTING__NEGATIVE_THRESHOLD", "0.7")
    settings = load_settings(write(tmp_path, BASE))
    assert settings.brand.name == "Zed Corp"
    assert settings.brand.keywords == ["acme"]  # the file's other keys in the section stay
    assert settings.routing.negative_threshold == 0.7
    assert settings.routing.default_team == "care"


def test_env_overrides_a_list_as_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOXWATCH_BRAND__KEYWORDS", '["acme", "アクメ"]')
    assert load_settings(write(tmp_path, BASE)).brand.keywords == ["acme", "アクメ"]


def test_env_store_path_is_taken_relative_to_the_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOXWATCH_STORE__PATH", "data/other.duckdb")
    assert load_settings(write(tmp_path, BASE)).store.path == (tmp_path / "data" / "other.duckdb").resolve()
    absolute = tmp_path / "elsewhere" / "vw.duckdb"
    monkeypatch.setenv("VOXWATCH_STORE__PATH", str(absolute))
    assert load_settings(write(tmp_path, BASE)).store.path == absolute


@pytest.mark.parametrize(
    ("env", "value", "key"),
    [
        ("VOXWATCH_ROUTING__NEGATIVE_THRESHOLD", "2", "routing.negative_threshold"),
        ("VOXWATCH_SPIKES__K", "0", "spikes.k"),
        ("VOXWATCH_MODEL__BATCH_SIZE", "many", "model.batch_size"),
        ("VOXWATCH_ROUTING__DEFAULT_TEAM", "nobody", "routing.default_team"),
    ],
)
def test_an_invalid_env_override_names_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: str, value: str, key: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError, match=key.replace(".", r"\.")):
        load_settings(write(tmp_path, BASE))


def test_secrets_come_only_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOXWATCH_NOTIFICATIONS__WEBHOOK_URL", "https://hooks.example/abc")
    monkeypatch.setenv("VOXWATCH_BLUESKY__APP_PASSWORD", "app-pw-1234")
    settings = load_settings(write(tmp_path, BASE))
    assert settings.notifications.webhook_url is not None
    assert settings.notifications.webhook_url.get_secret_value() == "https://hooks.example/abc"
    assert "hooks.example/abc" not in repr(settings.notifications)
    assert settings.bluesky.app_password is not None
    assert settings.bluesky.app_password.get_secret_value() == "app-pw-1234"
    assert "app-pw-1234" not in repr(settings.bluesky)


def test_the_config_path_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, BASE.replace('name = "Acme"', 'name = "From Env"'))
    monkeypatch.setenv(CONFIG_ENV, str(path))
    assert load_settings().brand.name == "From Env"
    monkeypatch.delenv(CONFIG_ENV)
    monkeypatch.chdir(tmp_path)  # then ./voxwatch.toml
    assert load_settings().brand.name == "From Env"


def test_library_paths_are_taken_relative_to_the_settings_file(tmp_path: Path) -> None:
    text = BASE + '\n[library]\ntemplates = "team/templates.toml"\nthemes = "/abs/themes.toml"\n'
    settings = load_settings(write(tmp_path, text))
    assert settings.library.templates == (tmp_path / "team" / "templates.toml").resolve()
    assert settings.library.themes == Path("/abs/themes.toml")
    assert settings.library.lint_rules is None


# --- look-ups the other layers use ---------------------------------------------------------


@pytest.fixture
def acme(tmp_path: Path) -> Settings:
    return team_settings(tmp_path)


@pytest.mark.parametrize(
    ("action", "names"),
    [
        (Action.OWN_CASES, ["amy", "ben", "sara"]),
        (Action.DRAFT, ["amy", "ben", "sara"]),
        (Action.APPROVE, ["sara", "maya"]),
        (Action.SEND, ["amy", "ben", "sara", "maya"]),
        (Action.HEAR_ABOUT_BREACHES, ["grace"]),
        (Action.HEAR_ABOUT_SPIKES, ["sara", "maya", "grace"]),
        (Action.READ_CONFIDENTIAL_NOTES, ["sara", "maya", "grace"]),
        (Action.EDIT_SETTINGS, ["grace"]),
        (Action.VIEW_TRENDS, ["sara", "maya", "grace", "erin"]),
        (Action.VIEW_SOURCES, ["grace"]),
        (Action.CLOSE, ["amy", "ben", "sara", "grace"]),
    ],
)
def test_people_who_may_follow_the_roles_in_settings_order(
    acme: Settings, action: Action, names: list[str]
) -> None:
    assert [p.name for p in acme.people_who_may(action)] == names


def test_nobody_may_when_no_role_allows(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, BASE))  # responders and an approver, no admin
    assert settings.people_who_may(Action.EDIT_SETTINGS) == []
    assert [p.name for p in settings.people_who_may(Action.APPROVE)] == ["sara"]


def test_person_and_source_find_by_name(acme: Settings) -> None:
    assert acme.person("sara").display_name == "Sara Lindqvist"
    assert acme.person("maya").email == "maya@acme.example"
    assert acme.source("shop").kind == "jsonld"


@pytest.mark.parametrize("name", ["nobody", "Amy", "amy ", ""])
def test_an_unknown_person_is_a_settings_error_naming_them(acme: Settings, name: str) -> None:
    with pytest.raises(SettingsError, match=f"no responder named {name!r}"):
        acme.person(name)


@pytest.mark.parametrize("name", ["forum", "Blog", "blog\x00"])
def test_an_unknown_source_is_a_settings_error_naming_it(acme: Settings, name: str) -> None:
    with pytest.raises(SettingsError) as info:
        acme.source(name)
    assert f"no source named {name!r}" in str(info.value)


# --- the admin's editor: refusals leave the file and the audit log as they were -----------


def editor_audit(path: Path) -> list[dict]:
    return store_for(load_settings(path)).read(lambda c: queries.audit_entries(c, "settings", 10))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = write_team_settings(tmp_path)
    store_for(load_settings(path)).migrate()
    return path


def test_an_area_absent_from_the_file_reads_as_empty(config: Path) -> None:
    assert area_text(config, "sla") == ""
    assert area_text(config, "templates") == ""
    assert 'default_team = "care"' in area_text(config, "routing")


def test_removing_a_team_a_rule_routes_to_is_refused(config: Path) -> None:
    before = config.read_text(encoding="utf-8")
    text = area_text(config, "responders").replace('team = "escalations"', 'team = "care"')
    with pytest.raises(SettingsError, match=r"routing\.rules\[escalate urgent\]\.team"):
        save_area(config, "responders", text, "grace", store_for(load_settings(config)))
    assert config.read_text(encoding="utf-8") == before
    assert not (config.parent / "voxwatch.toml.bak").exists()
    assert editor_audit(config) == []


@pytest.mark.parametrize(
    ("area", "text", "message"),
    [
        ("sla", "[sla]\nurgent_first_response_hours = 0\n", "sla.urgent_first_response_hours"),
        ("sla", "[routing]\ndefault_team = 'care'\n", r"\[sla\] section only"),
        ("routing", "[routing]\ndefault_team = 'nobody'\n", "routing.default_team"),
        ("routing", "[routing]\ndefault_team = 'care'\nnegative_threshold = 2\n", "negative_threshold"),
        ("responders", "[[responders]]\nname = 'amy'\n", "display_name"),
        ("templates", "[brand]\nname = 'Evil'\n", "only \\[\\[templates\\]\\] tables"),
        ("sla", "[sla\n", "not valid TOML"),
    ],
)
def test_the_editor_refuses_invalid_areas(config: Path, area: str, text: str, message: str) -> None:
    before = config.read_text(encoding="utf-8")
    with pytest.raises(SettingsError, match=message):
        validate_area(config, area, text)  # type: ignore[arg-type]
    assert config.read_text(encoding="utf-8") == before


def test_a_valid_sla_area_is_added_keeps_a_backup_and_is_audited(config: Path) -> None:
    before = config.read_text(encoding="utf-8")
    save_area(
        config, "sla", "[sla]\nurgent_first_response_hours = 1.5\n", "grace", store_for(load_settings(config))
    )
    assert load_settings(config).sla.urgent_first_response_hours == 1.5
    assert (config.parent / "voxwatch.toml.bak").read_text(encoding="utf-8") == before
    (entry,) = editor_audit(config)
    assert (entry["actor"], entry["entity_id"], entry["action"]) == ("grace", "sla", "changed")
    assert '"toml": ""' in entry["before"] and "1.5" in entry["after"]
