"""Dashboard sessions that outlive a tab, and sign-ins that cannot be guessed at leisure.

The rules live in ``dashboard.auth`` as plain code on a real store: signed tokens that
expire and cannot be altered, "sign out everywhere" voiding every older token, a key
from the environment or made once per store, and lockouts per account and per address
with every failure audited. The app's form is checked through AppTest; the cookie in a
real browser is covered in test_dashboard_browser.py. The launch command's production
options are checked here too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from pydantic import SecretStr
from streamlit.testing.v1 import AppTest

import dashboard
from dashboard.auth import AUDIT_ENTITY, WRONG, SignInService, issue_token, read_token
from dashboard.session import USER_KEY
from tests.builders import fresh_store, write_team_settings
from voxwatch.cli.main import dashboard_command
from voxwatch.passwords import hash_password
from voxwatch.settings import Settings, load_settings
from voxwatch.store import queries

APP = Path(dashboard.__file__).parent / "app.py"
PASSWORD = "correct horse battery staple"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEY = b"k" * 32
LIMITS = "\n[dashboard]\nsession_minutes = 60\nsign_in_attempts = 5\nsign_in_lockout_minutes = 15\n"


def settings_file(folder: Path) -> Path:
    """The team's settings with the lockout limits spelled out, amy and erin with a password."""
    path = write_team_settings(folder, LIMITS)
    text = path.read_text(encoding="utf-8")
    for name in ("amy", "erin"):
        text = text.replace(f'name = "{name}"\n', f'name = "{name}"\npassword_hash = "{HASH}"\n', 1)
    path.write_text(text, encoding="utf-8")
    return path


HASH = hash_password(PASSWORD)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    loaded = load_settings(settings_file(tmp_path))
    fresh_store(loaded)
    return loaded


@pytest.fixture
def auth(settings: Settings) -> SignInService:
    return SignInService(settings)


def sign_in_audit(auth: SignInService) -> list[tuple[str, str, str]]:
    """(action, account, address) of each sign-in audit entry, oldest first."""
    rows = auth.store.read(lambda c: queries.audit_entries(c, AUDIT_ENTITY, 100))
    return [(r["action"], r["entity_id"], str(r["after"])) for r in reversed(rows)]


# --- tokens ----------------------------------------------------------------------------------


def test_a_token_says_who_until_it_expires() -> None:
    token = issue_token(KEY, "amy", 3, NOW, minutes=60)
    session = read_token(KEY, token, NOW + timedelta(minutes=59))
    assert session is not None and (session.person, session.generation) == ("amy", 3)
    assert session.expires_at == NOW + timedelta(minutes=60)
    assert read_token(KEY, token, NOW + timedelta(minutes=60)) is None


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # another signature
        lambda t: issue_token(KEY, "grace", 3, NOW, 60).split(".")[0] + "." + t.split(".")[1],  # new name
        lambda t: issue_token(KEY, "amy", 3, NOW, 9999).split(".")[0] + "." + t.split(".")[1],  # longer life
        lambda t: issue_token(b"x" * 32, "amy", 3, NOW, 60),  # someone else's key
        lambda t: t.split(".")[0],  # no signature
        lambda t: "",
        lambda t: "not a token at all.",
    ],
)
def test_an_altered_or_foreign_token_is_void(forge) -> None:  # type: ignore[no-untyped-def]
    token = issue_token(KEY, "amy", 3, NOW, minutes=60)
    assert read_token(KEY, forge(token), NOW) is None


def test_the_token_holds_no_secret(auth: SignInService) -> None:
    outcome = auth.sign_in("amy", PASSWORD, "10.0.0.1", NOW)
    assert outcome.token is not None
    assert HASH not in outcome.token and PASSWORD not in outcome.token
    assert auth.signing_key().decode() not in outcome.token


def test_the_signing_key_is_made_once_per_store(settings: Settings) -> None:
    first, second = SignInService(settings), SignInService(settings)
    assert first.signing_key() == second.signing_key() and len(first.signing_key()) >= 32
    token = first.issue("amy")
    assert second.session_for(token) is not None  # another process on the same store


def test_the_environments_key_signs_instead(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOXWATCH_DASHBOARD__SECRET_KEY", "e" * 40)
    from_env = load_settings(settings_file(settings.store.path.parent))
    assert from_env.dashboard.secret_key == SecretStr("e" * 40)
    assert SignInService(from_env).signing_key() == b"e" * 40
    stored = SignInService(settings).signing_key()
    assert SignInService(from_env).session_for(SignInService(settings).issue("amy")) is None
    assert stored != b"e" * 40


def test_the_settings_file_may_not_hold_the_key(tmp_path: Path) -> None:
    path = write_team_settings(tmp_path, '\n[dashboard]\nsecret_key = "' + "s" * 40 + '"\n')
    with pytest.raises(Exception, match="VOXWATCH_DASHBOARD__SECRET_KEY"):
        load_settings(path)


def test_sign_out_everywhere_voids_every_older_token(auth: SignInService) -> None:
    phone, laptop = auth.issue("amy", NOW), auth.issue("amy", NOW)
    erin = auth.issue("erin", NOW)
    assert auth.session_for(phone, NOW) is not None
    auth.sign_out_everywhere("amy", NOW)
    assert auth.session_for(phone, NOW) is None and auth.session_for(laptop, NOW) is None
    assert auth.session_for(erin, NOW) is not None  # only hers
    assert auth.session_for(auth.issue("amy", NOW), NOW) is not None  # signing in again works
    assert ("signed_out_everywhere", "amy", '{"generation": 1}') in sign_in_audit(auth)


def test_a_token_for_someone_no_longer_in_settings_is_void(auth: SignInService) -> None:
    assert auth.session_for(issue_token(auth.signing_key(), "mallory", 0, NOW, 60), NOW) is None


def test_a_session_lasts_session_minutes(auth: SignInService) -> None:
    token = auth.issue("amy", NOW)
    assert auth.session_for(token, NOW + timedelta(minutes=59)) is not None
    assert auth.session_for(token, NOW + timedelta(minutes=61)) is None


# --- lockouts --------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_until_the_lockout_ends(auth: SignInService) -> None:
    limit = auth.settings.dashboard.sign_in_attempts
    lockout = timedelta(minutes=auth.settings.dashboard.sign_in_lockout_minutes)
    assert limit == 5
    for n in range(limit):
        outcome = auth.sign_in("amy", f"guess {n}", f"10.0.0.{n}", NOW + timedelta(seconds=n))
        assert outcome.refusal == WRONG and outcome.token is None
    last = NOW + timedelta(seconds=limit - 1)
    refused = auth.sign_in("amy", PASSWORD, "10.0.9.9", last + timedelta(minutes=1))
    assert refused.person is None and "Too many failed sign-ins" in (refused.refusal or "")
    still = auth.sign_in("amy", PASSWORD, "10.0.9.9", NOW + lockout - timedelta(seconds=1))
    assert still.person is None
    later = auth.sign_in("amy", PASSWORD, "10.0.9.9", NOW + lockout + timedelta(seconds=1))
    assert later.person is not None and later.token is not None
    actions = [(action, account) for action, account, _after in sign_in_audit(auth)]
    assert actions == [("sign_in_failed", "amy")] * limit + [
        ("sign_in_locked_out", "amy"),
        ("sign_in_refused_locked", "amy"),
        ("sign_in_refused_locked", "amy"),
        ("signed_in", "amy"),
    ]
    assert "10.0.0.3" in sign_in_audit(auth)[3][2]  # each failure names the address


def test_one_address_trying_many_names_is_locked_too(auth: SignInService) -> None:
    for n, name in enumerate(["amy", "ben", "sara", "nobody", "erin"]):
        auth.sign_in(name, "guess", "203.0.113.7", NOW + timedelta(seconds=n))
    refused = auth.sign_in("erin", PASSWORD, "203.0.113.7", NOW + timedelta(minutes=1))
    assert refused.person is None and "Too many" in (refused.refusal or "")
    elsewhere = auth.sign_in("erin", PASSWORD, "198.51.100.1", NOW + timedelta(minutes=1))
    assert elsewhere.person is not None  # erin failed once only: her account is not locked


def test_a_success_forgets_the_accounts_earlier_failures(auth: SignInService) -> None:
    for n in range(4):
        auth.sign_in("amy", "guess", f"10.1.0.{n}", NOW)
    assert auth.sign_in("amy", PASSWORD, "10.1.1.1", NOW).person is not None
    for n in range(4):
        auth.sign_in("amy", "guess", f"10.2.0.{n}", NOW)
    assert auth.sign_in("amy", PASSWORD, "10.1.1.1", NOW).person is not None


# --- the app's form --------------------------------------------------------------------------


@pytest.fixture
def app_config(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("VOXWATCH_CONFIG", str(settings.store.path.parent / "voxwatch.toml"))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield settings
    st.cache_data.clear()
    st.cache_resource.clear()


def submit(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    return at.button[0].click().run()


def test_the_form_locks_an_account_after_five_wrong_passwords(app_config: Settings) -> None:
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    for n in range(app_config.dashboard.sign_in_attempts):
        submit(at, "erin", f"guess {n}")
        assert [e.value for e in at.error] == [WRONG]
    submit(at, "erin", PASSWORD)
    assert USER_KEY not in at.session_state and not at.sidebar.text
    assert [e.value[:41] for e in at.error] == ["Too many failed sign-ins. Try again after"]
    audit = SignInService(app_config).store.read(lambda c: queries.audit_entries(c, AUDIT_ENTITY, 100))
    actions = [r["action"] for r in reversed(audit)]
    assert actions == ["sign_in_failed"] * 5 + ["sign_in_locked_out", "sign_in_refused_locked"]


def test_signing_in_through_the_form_records_it_and_offers_sign_out_everywhere(app_config: Settings) -> None:
    at = submit(AppTest.from_file(str(APP), default_timeout=60).run(), "erin", PASSWORD)
    assert not at.exception and at.session_state[USER_KEY] == "erin"
    assert [b.label for b in at.sidebar.button] == ["Sign out", "Sign out everywhere"]
    assert [a for a, _n, _x in sign_in_audit(SignInService(app_config))] == ["signed_in"]
    # The browser test clicks "Sign out everywhere": AppTest loses the sidebar on a later run.


def test_a_tab_ends_when_its_person_signs_out_everywhere_elsewhere(app_config: Settings) -> None:
    at = submit(AppTest.from_file(str(APP), default_timeout=60).run(), "erin", PASSWORD)
    assert at.session_state[USER_KEY] == "erin"
    SignInService(app_config).sign_out_everywhere("erin")  # from another browser
    at.run()
    assert not at.exception and USER_KEY not in at.session_state
    assert not at.metric and not at.sidebar.text  # nothing of the page or the person is left


# --- the launch ------------------------------------------------------------------------------


def option(command: list[str], name: str) -> str:
    return command[command.index(f"--{name}") + 1]


def test_the_dashboard_launches_with_production_options() -> None:
    command = dashboard_command(8599)
    assert command[1:4] == ["-m", "dashboard.serve", "run"] and command[4].endswith("dashboard/app.py")
    assert option(command, "client.toolbarMode") == "viewer"  # no Deploy button, no developer menu
    assert option(command, "server.enableXsrfProtection") == "true"
    assert option(command, "server.headless") == "true"
    assert option(command, "server.runOnSave") == "false"
    assert option(command, "browser.gatherUsageStats") == "false"
    assert option(command, "server.address") == "127.0.0.1"
    assert option(command, "server.port") == "8599"


def test_the_address_comes_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import voxwatch.cli.main as cli

    seen: list[list[str]] = []
    monkeypatch.setattr(cli.subprocess, "run", lambda command, **_kw: seen.append(command))
    path = write_team_settings(tmp_path, '\n[dashboard]\naddress = "0.0.0.0"\n')
    cli.launch_dashboard(path, 8600)
    assert option(seen[0], "server.address") == "0.0.0.0"
    assert option(seen[0], "client.toolbarMode") == "viewer"


def test_the_server_never_runs_a_page_without_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh server's first request for /case must still go through app.py's sign-in."""
    from streamlit.runtime.pages_manager import PagesManager

    from dashboard import serve

    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)
    monkeypatch.setattr(serve.cli, "main", lambda **_kw: None)
    serve.main()
    assert PagesManager.uses_pages_directory is False  # so pages/ is not Streamlit's old multipage mode
