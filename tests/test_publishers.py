"""Each publisher against a local server that speaks its platform's API (tests/fakes/).

What a reply must survive: being sent twice (the same key posts once), an answer
lost after the post landed (``find`` and a repeat see it), rate limits with the
time to come back, refusals in the platform's own words, timeouts, and a secret
that must appear in no message, log line or result.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from responders.publishing.base import Delivery, Posted
from responders.publishing.bluesky import BlueskyPublisher, graphemes, link_facets, record_key
from responders.publishing.email import EmailPublisher, message_id
from responders.publishing.errors import PossiblyPosted, Refused
from responders.publishing.factory import publisher_for, publisher_for_source, secrets_of
from responders.publishing.manual import ManualPublisher
from responders.publishing.mastodon import MastodonPublisher, with_mention
from responders.publishing.webhook import WebhookPublisher
from tests.fakes import FakeBluesky, FakeMastodon, FakeRelay, FakeSmtp, wired
from tests.settings_files import source, write_settings
from voxwatch.errors import OutcomeUnknown, PublishError, TransientPublishError
from voxwatch.settings import load_settings

# The fake SMTP server takes AUTH without TLS (the tests have no certificates); aiosmtpd warns.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

REMOTE_URI = "https://other.example/users/bob/statuses/123"
TEXT = "Hi Bob, I'm sorry your order went missing. We'll check with the courier today."
SLOW = 1.5  # seconds a fake holds its answer: past the publishers' timeout below
TIMEOUT = 0.5


def delivery(target: str, text: str = TEXT, key: str = "reply-c1-v1", **extra: str) -> Delivery:
    return Delivery(key=key, channel="test", target=target, text=text, case_id="c1", extra=extra)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def mastodon(fake: FakeMastodon, token: str | None = None, timeout: float = 5.0) -> MastodonPublisher:
    return MastodonPublisher(fake.base_url, SecretStr(token or fake.token), timeout)


def bluesky(fake: FakeBluesky, password: str | None = None, timeout: float = 5.0) -> BlueskyPublisher:
    return BlueskyPublisher(fake.base_url, fake.handle, SecretStr(password or fake.password), timeout)


def email(fake: FakeSmtp, password: str | None = None, timeout: float = 5.0) -> EmailPublisher:
    secret = SecretStr(password or fake.password or "") if fake.user else None
    return EmailPublisher("127.0.0.1", fake.port, fake.user, secret, False, "care@acme.example", timeout)


def near(when: datetime | None, expected: datetime, slack: float = 5.0) -> bool:
    return when is not None and abs((when - expected).total_seconds()) <= slack


# --- Mastodon ---------------------------------------------------------------------------------


def test_mastodon_answers_the_resolved_status_mentioning_its_author(fake_mastodon: FakeMastodon) -> None:
    parent = fake_mastodon.add_remote_status(REMOTE_URI, acct="bob@other.example")
    posted = mastodon(fake_mastodon).publish(delivery(REMOTE_URI, lang="en"))

    (reply,) = fake_mastodon.our_statuses()
    created = datetime.fromisoformat(reply["created_at"].replace("Z", "+00:00"))
    assert posted == Posted(reply["id"], reply["url"], created)  # the platform's own post time
    assert reply["in_reply_to_id"] == parent and reply["visibility"] == "public" and reply["language"] == "en"
    assert reply["mentions"] == [{"acct": "bob@other.example"}]
    (post,) = fake_mastodon.seen("POST", "/api/v1/statuses")
    assert post.headers["Idempotency-Key"] == "reply-c1-v1"
    assert post.headers["Authorization"] == f"Bearer {fake_mastodon.token}"
    assert post.body["status"] == f"@bob@other.example {TEXT}"
    (search,) = fake_mastodon.seen("GET", "/api/v2/search")
    assert search.args == {"q": REMOTE_URI, "type": "statuses", "resolve": "true", "limit": "1"}


@pytest.mark.parametrize(
    ("text", "acct", "expected"),
    [
        ("Thanks!", "bob@other.example", "@bob@other.example Thanks!"),
        ("@bob@other.example thanks!", "bob@other.example", "@bob@other.example thanks!"),
        ("Hi @BOB@other.example, thanks", "bob@other.example", "Hi @BOB@other.example, thanks"),
        ("@bobby thanks", "bob", "@bob @bobby thanks"),  # a longer handle is someone else
        ("@bob@elsewhere.example thanks", "bob", "@bob @bob@elsewhere.example thanks"),
        ("Thanks!", None, "Thanks!"),
    ],
)
def test_the_author_is_mentioned_once(text: str, acct: str | None, expected: str) -> None:
    assert with_mention(text, acct) == expected


def test_mastodon_posts_once_for_one_key(fake_mastodon: FakeMastodon) -> None:
    fake_mastodon.add_remote_status(REMOTE_URI)
    publisher = mastodon(fake_mastodon)
    first, second = publisher.publish(delivery(REMOTE_URI)), publisher.publish(delivery(REMOTE_URI))
    assert first == second and len(fake_mastodon.our_statuses()) == 1


def test_mastodon_takes_a_numeric_target_as_a_local_id(fake_mastodon: FakeMastodon) -> None:
    parent = fake_mastodon.add_remote_status(REMOTE_URI)
    mastodon(fake_mastodon).publish(delivery(parent))
    assert [s["in_reply_to_id"] for s in fake_mastodon.our_statuses()] == [parent]
    assert not fake_mastodon.seen("GET", "/api/v2/search")


def test_mastodon_find_sees_only_this_reply(fake_mastodon: FakeMastodon) -> None:
    fake_mastodon.add_remote_status(REMOTE_URI)
    publisher = mastodon(fake_mastodon)
    assert publisher.find(delivery(REMOTE_URI)) is None
    publisher.publish(delivery(REMOTE_URI, text="Something else entirely, about a refund.", key="other"))
    assert publisher.find(delivery(REMOTE_URI)) is None  # same status, other words

    text = "Hi @bob@other.example,\n\nsorry & thanks: <we> will call you.\nSee https://acme.example/help"
    posted = publisher.publish(delivery(REMOTE_URI, text=text))
    assert publisher.find(delivery(REMOTE_URI, text=text)) == posted


def test_a_lost_answer_is_found_and_not_posted_again(fake_mastodon: FakeMastodon) -> None:
    fake_mastodon.add_remote_status(REMOTE_URI)
    fake_mastodon.fail(None, method="POST", path="/api/v1/statuses", delay=SLOW, after=True)
    publisher = mastodon(fake_mastodon, timeout=TIMEOUT)
    with pytest.raises(PossiblyPosted, match="may have landed"):
        publisher.publish(delivery(REMOTE_URI))
    found = publisher.find(delivery(REMOTE_URI))
    assert found is not None and publisher.publish(delivery(REMOTE_URI)) == found
    assert len(fake_mastodon.our_statuses()) == 1


def test_mastodon_rate_limit_says_when_to_come_back(fake_mastodon: FakeMastodon) -> None:
    fake_mastodon.add_remote_status(REMOTE_URI)
    reset = (datetime.now(UTC) + timedelta(minutes=5)).replace(microsecond=0)
    headers = {
        "X-RateLimit-Limit": "300",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset.isoformat(),
    }
    fake_mastodon.fail(429, {"error": "Too many requests"}, headers, method="POST")
    with pytest.raises(TransientPublishError, match="HTTP 429 Too many requests") as info:
        mastodon(fake_mastodon).publish(delivery(REMOTE_URI))
    assert info.value.retry_after == reset


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind", "words"),
    [
        (500, "<html>oops</html>", {}, TransientPublishError, "HTTP 500 <html>oops</html>"),
        (
            503,
            {"error": "There was a temporary problem"},
            {"Retry-After": "120"},
            TransientPublishError,
            "503",
        ),
        (422, {"error": "Validation failed: Text can't be blank"}, {}, Refused, "Text can't be blank"),
        (403, {"error": "This action is not allowed"}, {}, Refused, "HTTP 403 This action is not allowed"),
    ],
)
def test_mastodon_errors_keep_the_platforms_words(
    fake_mastodon: FakeMastodon, status: int, body: object, headers: dict[str, str], kind: type, words: str
) -> None:
    fake_mastodon.add_remote_status(REMOTE_URI)
    fake_mastodon.fail(status, body, headers, method="POST")
    with pytest.raises(kind) as info:
        mastodon(fake_mastodon).publish(delivery(REMOTE_URI))
    assert words in str(info.value) and "case c1" in str(info.value)
    if "Retry-After" in headers:
        assert near(info.value.retry_after, datetime.now(UTC) + timedelta(seconds=120))


def test_mastodon_refusals_for_bad_token_long_text_and_unknown_post(fake_mastodon: FakeMastodon) -> None:
    fake_mastodon.add_remote_status(REMOTE_URI)
    with pytest.raises(Refused, match="HTTP 401 The access token is invalid") as info:
        mastodon(fake_mastodon, token="wrong-token").publish(delivery(REMOTE_URI))
    assert info.value.status == 401
    with pytest.raises(Refused, match="character limit of 500"):
        mastodon(fake_mastodon).publish(delivery(REMOTE_URI, text="x" * 501))
    with pytest.raises(PublishError, match="does not know it") as gone:
        mastodon(fake_mastodon).publish(delivery("https://other.example/users/bob/statuses/999"))
    assert not isinstance(gone.value, TransientPublishError)
    assert fake_mastodon.our_statuses() == []


def test_mastodon_unreachable_or_slow_is_transient(fake_mastodon: FakeMastodon) -> None:
    with pytest.raises(TransientPublishError, match="could not connect") as refused:
        MastodonPublisher(f"http://127.0.0.1:{closed_port()}", SecretStr("t0ken-value")).publish(
            delivery("1")
        )
    assert not isinstance(refused.value, PossiblyPosted)
    fake_mastodon.fail(None, method="GET", path="/api/v2/search", delay=SLOW)
    with pytest.raises(TransientPublishError, match="no answer") as slow:
        mastodon(fake_mastodon, timeout=TIMEOUT).publish(delivery(REMOTE_URI))
    assert not isinstance(slow.value, PossiblyPosted)  # a search posts nothing


# --- Bluesky ----------------------------------------------------------------------------------


def test_bluesky_reply_names_its_thread_and_a_key_from_the_delivery(fake_bluesky: FakeBluesky) -> None:
    parent = fake_bluesky.add_post("bob.bsky.example", "Acme lost my order")
    posted = bluesky(fake_bluesky).publish(delivery(parent, lang="en"))

    (reply,) = fake_bluesky.our_posts()
    rkey = record_key("reply-c1-v1")
    assert reply["uri"] == f"at://{fake_bluesky.did}/app.bsky.feed.post/{rkey}"
    assert posted == Posted(reply["uri"], f"https://bsky.app/profile/{fake_bluesky.handle}/post/{rkey}")
    record = reply["value"]
    parent_ref = {"uri": parent, "cid": fake_bluesky.records[parent]["cid"]}
    assert record["reply"] == {"root": parent_ref, "parent": parent_ref}
    assert record["text"] == TEXT and record["langs"] == ["en"] and record["$type"] == "app.bsky.feed.post"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["createdAt"])


def test_bluesky_reply_to_a_reply_keeps_the_threads_root(fake_bluesky: FakeBluesky) -> None:
    root = fake_bluesky.add_post("bob.bsky.example", "Acme lost my order")
    middle = fake_bluesky.add_post("cy.bsky.example", "Same here", reply_to=root)
    bluesky(fake_bluesky).publish(delivery(middle))
    (reply,) = fake_bluesky.our_posts()
    assert reply["value"]["reply"]["root"]["uri"] == root
    assert reply["value"]["reply"]["parent"]["uri"] == middle


@pytest.mark.parametrize(
    "taken",
    [
        (
            500,
            {"error": "InternalServerError", "message": "Internal Server Error"},
        ),  # the reference PDS today
        (409, {"error": "RecordAlreadyExists", "message": "Record already exists"}),
    ],
)
def test_bluesky_posts_once_for_one_key(fake_bluesky: FakeBluesky, taken: tuple[int, dict[str, str]]) -> None:
    fake_bluesky.taken_key_answer = taken
    parent = fake_bluesky.add_post("bob.bsky.example", "Acme lost my order")
    publisher = bluesky(fake_bluesky)
    first, second = publisher.publish(delivery(parent)), publisher.publish(delivery(parent))
    assert first == second and len(fake_bluesky.our_posts()) == 1
    assert len(fake_bluesky.seen("POST", "/xrpc/com.atproto.repo.createRecord")) == 2
    assert fake_bluesky.sessions == 1  # one login serves the publisher


@pytest.mark.parametrize("not_found", ["RecordNotFound", "InvalidRequest"])
def test_bluesky_lost_answer_is_found_at_once(fake_bluesky: FakeBluesky, not_found: str) -> None:
    fake_bluesky.not_found_name = not_found
    parent = fake_bluesky.add_post("bob.bsky.example", "Acme lost my order")
    publisher = bluesky(fake_bluesky, timeout=TIMEOUT)
    assert publisher.find(delivery(parent)) is None
    fake_bluesky.fail(None, method="POST", path="/xrpc/com.atproto.repo.createRecord", delay=SLOW, after=True)
    posted = publisher.publish(delivery(parent))  # no answer: the key is looked up, the post is there
    assert publisher.find(delivery(parent)) == posted and publisher.publish(delivery(parent)) == posted
    assert len(fake_bluesky.our_posts()) == 1


def test_bluesky_lost_answer_before_the_post_landed_may_have_landed(fake_bluesky: FakeBluesky) -> None:
    parent = fake_bluesky.add_post("bob.bsky.example", "Acme lost my order")
    fake_bluesky.fail(None, method="POST", path="/xrpc/com.atproto.repo.createRecord", delay=SLOW)
    with pytest.raises(PossiblyPosted, match="may have landed"):
        bluesky(fake_bluesky, timeout=TIMEOUT).publish(delivery(parent))


def test_bluesky_renews_an_expired_session_once(fake_bluesky: FakeBluesky) -> None:
    parent = fake_bluesky.add_post("bob.bsky.example", "Acme lost my order")
    publisher = bluesky(fake_bluesky)
    publisher.publish(delivery(parent, key="first"))
    fake_bluesky.expire_tokens()
    publisher.publish(delivery(parent, key="second"))
    assert fake_bluesky.sessions == 2 and len(fake_bluesky.our_posts()) == 2


def test_bluesky_refuses_a_reply_over_300_graphemes_before_sending(fake_bluesky: FakeBluesky) -> None:
    parent = fake_bluesky.add_post("bob.bsky.example", "Acme lost my order")
    accented = "e\u0301" * 300  # 300 graphemes, 600 code points: fits
    bluesky(fake_bluesky).publish(delivery(parent, text=accented))
    for text in ("x" * 301, "👩‍👩‍👧‍👦" * 200):  # too many graphemes; too many bytes
        with pytest.raises(PublishError, match=r"case c1 is \d+ characters") as info:
            bluesky(fake_bluesky).publish(delivery(parent, text=text, key=text[:5]))
        assert not isinstance(info.value, TransientPublishError)
    assert len(fake_bluesky.seen("POST", "/xrpc/com.atproto.repo.createRecord")) == 1


def test_bluesky_errors(fake_bluesky: FakeBluesky) -> None:
    parent = fake_bluesky.add_post("bob.bsky.example", "Acme lost my order")
    with pytest.raises(
        Refused, match=f"logging in as {fake_bluesky.handle}: HTTP 401 AuthenticationRequired"
    ):
        bluesky(fake_bluesky, password="wrong-password").publish(delivery(parent))
    missing = parent.rsplit("/", 1)[0] + "/3jzfcijpj2z2a"
    with pytest.raises(Refused, match="RecordNotFound: Could not locate record") as info:
        bluesky(fake_bluesky).publish(delivery(missing))
    assert info.value.code == "RecordNotFound"
    with pytest.raises(PublishError, match="is not a Bluesky post"):
        bluesky(fake_bluesky).publish(delivery("https://example.com/not-a-post"))
    reset = int((datetime.now(UTC) + timedelta(minutes=10)).timestamp())
    limited = {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
    fake_bluesky.fail(
        429, limited, {"ratelimit-reset": str(reset)}, path="/xrpc/com.atproto.repo.createRecord"
    )
    with pytest.raises(TransientPublishError, match="RateLimitExceeded") as rate:
        bluesky(fake_bluesky).publish(delivery(parent))
    assert rate.value.retry_after == datetime.fromtimestamp(reset, tz=UTC)
    assert fake_bluesky.our_posts() == []


def test_a_bsky_app_link_is_a_target_too(fake_bluesky: FakeBluesky) -> None:
    parent = fake_bluesky.add_post("bob.bsky.example", "Acme lost my order")
    link = f"https://bsky.app/profile/bob.bsky.example/post/{parent.rsplit('/', 1)[1]}"
    bluesky(fake_bluesky).publish(delivery(link))
    assert fake_bluesky.our_posts()[0]["value"]["reply"]["parent"]["uri"] == parent


def test_record_keys_are_stable_valid_tids_in_the_past() -> None:
    keys = [record_key(f"reply-c{i}-v1") for i in range(500)]
    assert len(set(keys)) == 500 and record_key("reply-c1-v1") == keys[1]
    alphabet = "234567abcdefghijklmnopqrstuvwxyz"
    for key in keys:
        assert re.fullmatch(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}", key)
        value = 0
        for char in key:
            value = value * 32 + alphabet.index(char)
        micros = value >> 10
        assert (
            datetime(2023, 1, 1, tzinfo=UTC)
            <= datetime.fromtimestamp(micros / 1e6, tz=UTC)
            < datetime.now(UTC)
        )


def test_links_get_facets_with_byte_offsets() -> None:
    text = "Désolé ! Voir https://acme.example/aide?x=1. Merci"
    (facet,) = link_facets(text)
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert text.encode()[start:end].decode() == "https://acme.example/aide?x=1"
    assert facet["features"] == [
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://acme.example/aide?x=1"}
    ]
    assert graphemes("👩‍👩‍👧‍👦é") == 2


# --- email ------------------------------------------------------------------------------------


def test_email_reply_goes_to_the_address_with_a_stable_message_id(fake_smtp: FakeSmtp) -> None:
    posted = email(fake_smtp).publish(delivery("Bob <bob@example.org>", message_id="<orig-1@mail.example>"))
    (got,) = fake_smtp.received
    assert got.recipients == ["bob@example.org"] and got.mail_from == "care@acme.example"
    assert got.message["Message-ID"] == message_id("reply-c1-v1") == posted.external_id
    assert (
        got.message["Subject"] == "Re: your message" and got.message["In-Reply-To"] == "<orig-1@mail.example>"
    )
    assert got.message.get_content().strip() == TEXT and posted.url is None


def test_email_needs_an_address(fake_smtp: FakeSmtp) -> None:
    for target in ("https://reviews.example/r/1", "mtorres_88", ""):
        with pytest.raises(PublishError, match="case c1: the source gives no address"):
            email(fake_smtp).publish(delivery(target))
    assert fake_smtp.received == []


@pytest.mark.parametrize(
    ("command", "reply", "kind"),
    [
        ("RCPT", "451 4.3.0 Try again later", TransientPublishError),
        ("RCPT", "550 5.1.1 No such user", PublishError),
        ("DATA", "452 4.3.1 Insufficient storage", TransientPublishError),
        ("DATA", "554 5.7.1 Message rejected as spam", PublishError),
    ],
)
def test_smtp_4xx_may_pass_and_5xx_is_final(
    fake_smtp: FakeSmtp, command: str, reply: str, kind: type
) -> None:
    fake_smtp.fail_at(command, reply)
    with pytest.raises(PublishError) as info:
        email(fake_smtp).publish(delivery("bob@example.org"))
    assert type(info.value) is kind and reply[:3] in str(info.value) and "case c1" in str(info.value)


def test_smtp_connection_login_and_lost_answers(fake_smtp: FakeSmtp) -> None:
    with pytest.raises(TransientPublishError, match="connecting to"):
        EmailPublisher("127.0.0.1", closed_port(), starttls=False).publish(delivery("bob@example.org"))
    fake_smtp.delay = SLOW
    with pytest.raises(PossiblyPosted, match="may have gone out"):
        email(fake_smtp, timeout=TIMEOUT).publish(delivery("bob@example.org"))
    with pytest.raises(OutcomeUnknown, match="SMTP cannot tell"):
        email(fake_smtp).find(delivery("bob@example.org"))


def test_smtp_login(fake_smtp: FakeSmtp) -> None:
    fake_smtp.user, fake_smtp.password = "care", "smtp-pass-s3cret"
    controller = fake_smtp.controller()  # a second server on a new port, requiring AUTH
    controller.start()
    try:
        email(fake_smtp).publish(delivery("bob@example.org"))
        with pytest.raises(PublishError, match=r"logging in to .* 535") as info:
            email(fake_smtp, password="wrong-pass").publish(delivery("bob@example.org"))
        assert not isinstance(info.value, TransientPublishError)
    finally:
        controller.stop()
    assert len(fake_smtp.received) == 1


# --- webhook and manual -----------------------------------------------------------------------


def test_webhook_hands_over_json_once_per_key(fake_relay: FakeRelay) -> None:
    publisher = WebhookPublisher(SecretStr(fake_relay.url))
    posted = publisher.publish(delivery("https://reviews.example/r/1", version="3"))
    assert publisher.publish(delivery("https://reviews.example/r/1", version="3")) == posted
    assert posted == Posted("relay-1", "https://relay.example/posts/1")
    (body,) = fake_relay.deliveries.values()
    assert body == {
        "case_id": "c1",
        "version": 3,
        "text": TEXT,
        "key": "reply-c1-v1",
        "target": "https://reviews.example/r/1",
    }
    assert fake_relay.seen("POST")[0].headers["Idempotency-Key"] == "reply-c1-v1"
    fake_relay.answer_json = False
    assert publisher.publish(delivery("x", key="other")) == Posted(None, None)
    with pytest.raises(OutcomeUnknown, match="no way to check"):
        publisher.find(delivery("x"))


def test_webhook_errors(fake_relay: FakeRelay) -> None:
    fake_relay.fail(502, "bad gateway")
    with pytest.raises(TransientPublishError, match="HTTP 502"):
        WebhookPublisher(SecretStr(fake_relay.url)).publish(delivery("x"))
    with pytest.raises(Refused, match="HTTP 404"):
        WebhookPublisher(SecretStr(fake_relay.base_url + "/hooks/old-token")).publish(delivery("x"))


def test_manual_posts_nothing() -> None:
    publisher = ManualPublisher()
    assert publisher.publish(delivery("https://x.example/1")) == Posted(None, None)
    assert publisher.find(delivery("https://x.example/1")) is None


# --- no secret leaves -------------------------------------------------------------------------


def _mastodon_leak(fakes: dict[str, object]) -> tuple[list[str], Callable[[], object]]:
    fake = fakes["mastodon"]
    assert isinstance(fake, FakeMastodon)
    fake.add_remote_status(REMOTE_URI)
    fake.fail(401, {"error": f"The access token {fake.token} is invalid"}, path="/api/v2/search")
    return [fake.token], lambda: mastodon(fake).publish(delivery(REMOTE_URI))


def _bluesky_leak(fakes: dict[str, object]) -> tuple[list[str], Callable[[], object]]:
    fake = fakes["bluesky"]
    assert isinstance(fake, FakeBluesky)
    parent = fake.add_post("bob.bsky.example", "Acme lost my order")
    publisher = bluesky(fake)

    def attempt() -> object:
        publisher.publish(delivery(parent, key="fine"))
        token = next(iter(fake.tokens))
        fake.fail(
            400, {"error": "InvalidRequest", "message": f"bad {token} / {fake.password}"}, method="POST"
        )
        fake.fail(500, {"error": "InternalServerError", "message": f"token {token}"}, method="GET", times=2)
        return publisher.publish(delivery(parent))

    return [fake.password, *fake.tokens], attempt


def _webhook_leak(fakes: dict[str, object]) -> tuple[list[str], Callable[[], object]]:
    fake = fakes["relay"]
    assert isinstance(fake, FakeRelay)
    fake.fail(500, f"cannot forward to {fake.url}")
    return [fake.url, fake.token], lambda: WebhookPublisher(SecretStr(fake.url)).publish(delivery("x"))


def _unreachable_webhook_leak(fakes: dict[str, object]) -> tuple[list[str], Callable[[], object]]:
    token = secrets.token_hex(12)  # made here: a literal would show in the traceback's source lines
    url = f"http://127.0.0.1:{closed_port()}/hooks/{token}"
    return [url, token], lambda: WebhookPublisher(SecretStr(url)).publish(delivery("x"))


def _email_leak(fakes: dict[str, object]) -> tuple[list[str], Callable[[], object]]:
    fake = fakes["smtp"]
    assert isinstance(fake, FakeSmtp)
    password = f"smtp-pass-{secrets.token_hex(8)}"
    fake.user, fake.password = "care", "the-right-one"
    fake.auth_failure = f"535 5.7.8 password {password} is wrong"
    controller = fake.controller()
    controller.start()
    fakes["stop"] = controller.stop
    return [password], lambda: email(fake, password=password).publish(delivery("bob@example.org"))


@pytest.mark.parametrize(
    "scenario", [_mastodon_leak, _bluesky_leak, _webhook_leak, _unreachable_webhook_leak, _email_leak]
)
def test_no_secret_in_errors_logs_or_results(
    scenario: Callable[[dict[str, object]], tuple[list[str], Callable[[], object]]],
    fake_mastodon: FakeMastodon,
    fake_bluesky: FakeBluesky,
    fake_relay: FakeRelay,
    fake_smtp: FakeSmtp,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fakes: dict[str, object] = {"mastodon": fake_mastodon, "bluesky": fake_bluesky, "relay": fake_relay}
    fakes["smtp"] = fake_smtp
    hidden, attempt = scenario(fakes)
    try:
        with pytest.raises(PublishError) as info:
            attempt()
    finally:
        stop = fakes.get("stop")
        if callable(stop):
            stop()
    hidden += list(fake_bluesky.tokens) if scenario is _bluesky_leak else []
    printed = "".join(traceback.format_exception(info.value))
    for secret in hidden:
        assert secret not in str(info.value) and secret not in printed
        assert secret not in caplog.text and all(secret not in r.getMessage() for r in caplog.records)
    assert "***" in str(info.value) or scenario is _unreachable_webhook_leak


def test_successful_results_carry_no_secret(fake_relay: FakeRelay, fake_mastodon: FakeMastodon) -> None:
    fake_mastodon.add_remote_status(REMOTE_URI)
    results = [
        WebhookPublisher(SecretStr(fake_relay.url)).publish(delivery("x")),
        mastodon(fake_mastodon).publish(delivery(REMOTE_URI)),
    ]
    for posted in results:
        assert fake_relay.token not in repr(posted) and fake_mastodon.token not in repr(posted)


# --- the factory ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_publishing_secrets_from_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings here come from each test alone: the session's demo puts its own secrets in the environment."""
    for name in list(os.environ):
        if name.startswith(("VOXWATCH_PUBLISHING__", "VOXWATCH_BLUESKY__", "VOXWATCH_NOTIFICATIONS__")):
            monkeypatch.delenv(name)


def test_publisher_for_builds_each_channel_from_settings(
    tmp_path: Path,
    fake_mastodon: FakeMastodon,
    fake_bluesky: FakeBluesky,
    fake_relay: FakeRelay,
    fake_smtp: FakeSmtp,
) -> None:
    path = write_settings(
        tmp_path,
        source("toots", "mastodon", "https://social.example", query="acme", reply_via="mastodon"),
        source("sky", "bluesky", "https://bsky.social", query="acme", reply_via="bluesky"),
        source("reviews", "jsonld", "https://reviews.example/acme", reply_via="webhook"),
        source("blog", "rss", "https://blog.example/feed"),
    )
    settings = wired(
        load_settings(path), mastodon=fake_mastodon, bluesky=fake_bluesky, relay=fake_relay, smtp=fake_smtp
    )
    assert settings.source("blog").reply_via == "manual"
    kinds = {
        channel: type(publisher_for(channel, settings))
        for channel in ("mastodon", "bluesky", "email", "webhook", "manual")
    }
    assert kinds == {
        "mastodon": MastodonPublisher,
        "bluesky": BlueskyPublisher,
        "email": EmailPublisher,
        "webhook": WebhookPublisher,
        "manual": ManualPublisher,
    }
    fake_mastodon.add_remote_status(REMOTE_URI)
    publisher_for_source(settings.source("toots"), settings).publish(delivery(REMOTE_URI))
    assert len(fake_mastodon.our_statuses()) == 1
    assert set(secrets_of(settings)) == {fake_mastodon.token, fake_bluesky.password, fake_relay.url}
    with pytest.raises(PublishError, match="no publisher for channel 'fax'"):
        publisher_for("fax", settings)


def test_an_unconfigured_channel_says_what_to_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_settings(
        tmp_path,
        source("toots", "mastodon", "https://social.example", query="acme", reply_via="mastodon"),
        source("more", "mastodon", "https://other.example", query="acme", reply_via="mastodon"),
    )
    settings = load_settings(path)
    for channel, env in [
        ("mastodon", "VOXWATCH_PUBLISHING__MASTODON_TOKEN"),
        ("bluesky", "VOXWATCH_BLUESKY__APP_PASSWORD"),
        ("webhook", "VOXWATCH_PUBLISHING__WEBHOOK_URL"),
        ("email", r"\[notifications\] smtp_host"),
    ]:
        with pytest.raises(PublishError, match=env):
            publisher_for(channel, settings)
    monkeypatch.setenv("VOXWATCH_PUBLISHING__MASTODON_TOKEN", "tok-from-env")
    settings = load_settings(path)
    with pytest.raises(PublishError, match="mastodon_base_url"):  # two instances: which one?
        publisher_for("mastodon", settings)
    chosen = publisher_for_source(settings.source("more"), settings)
    assert isinstance(chosen, MastodonPublisher) and chosen.base_url == "https://other.example"
