"""Dashboard passwords: scrypt hashes that verify the right password and nothing else.

A sign-in reads ``password_hash`` from a settings file someone edited by hand, so a
malformed hash must simply not match: ``verify_password`` returns False and never
raises. scrypt is slow on purpose (~50 ms), so the property tests draw few examples.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from voxwatch.passwords import PREFIX, hash_password, verify_password

SLOW = settings(max_examples=10, deadline=None)


@SLOW
@given(st.text(max_size=64))
def test_a_hash_verifies_its_own_password(password: str) -> None:
    assert verify_password(password, hash_password(password))


@SLOW
@given(st.text(min_size=1, max_size=32), st.text(min_size=1, max_size=32))
def test_a_hash_refuses_any_other_password(password: str, other: str) -> None:
    assume(password != other)
    assert not verify_password(other, hash_password(password))


@pytest.mark.parametrize(
    "wrong", ["correct horse battery stapl", "Correct horse battery staple", "correct horse battery staple "]
)
def test_near_misses_fail(wrong: str) -> None:
    assert not verify_password(wrong, hash_password("correct horse battery staple"))


def test_the_hash_records_its_parameters_and_a_fresh_salt() -> None:
    first, second = hash_password("密码-pässwörd"), hash_password("密码-pässwörd")
    prefix, n, r, p, salt, digest = first.split("$")
    assert (prefix, n, r, p) == (PREFIX, str(2**14), "8", "1")
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(digest)) == 32
    assert first.split("$")[4] != second.split("$")[4]  # each hash its own salt
    assert verify_password("密码-pässwörd", first) and verify_password("密码-pässwörd", second)


def test_a_hash_made_with_other_parameters_still_verifies() -> None:
    # the format records n, r, p so they can be raised later without breaking old hashes
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"old-secret", salt=salt, n=2**10, r=4, p=2, dklen=24)
    stored = "$".join(
        [PREFIX, "1024", "4", "2", base64.b64encode(salt).decode(), base64.b64encode(digest).decode()]
    )
    assert verify_password("old-secret", stored)
    assert not verify_password("new-secret", stored)


def _valid() -> str:
    return hash_password("pw")


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "",
        "pw",
        "plain-text-password",
        "bcrypt$16384$8$1$AAAA$AAAA",  # another scheme's prefix
        "scrypt$16384$8$1$AAAA",  # a field missing
        "scrypt$16384$8$1$AAAA$AAAA$extra",  # a field too many
        "scrypt$many$8$1$AAAA$AAAA",  # n not a number
        "scrypt$3$8$1$AAAA$AAAA",  # n not a power of two
        "scrypt$0$8$1$AAAA$AAAA",
        "scrypt$-16384$8$1$AAAA$AAAA",
        "scrypt$1048576$8$1$AAAA$AAAA",  # more memory than scrypt is allowed
        "scrypt$16384$0$1$AAAA$AAAA",
        "scrypt$16384$8$1$%%%%$AAAA",  # salt not base64
        "scrypt$16384$8$1$AAAA$A",  # digest with broken padding
        "scrypt$16384$8$1$AAAA$",  # empty digest
        "scrypt$16384$8$1$é$AAAA",  # not ASCII
        f"scrypt${10**30}$8$1$AAAA$AAAA",  # a huge number
        f"scrypt$16384$8${10**30}$AAAA$AAAA",
    ],
)
def test_a_malformed_hash_never_matches_and_never_raises(stored: str | None) -> None:
    assert verify_password("pw", stored) is False


@SLOW
@given(st.text(max_size=80))
def test_arbitrary_stored_text_never_matches(stored: str) -> None:
    assert verify_password("pw", stored) is False


@SLOW
@given(st.integers(min_value=0, max_value=4), st.text(alphabet="$=+/Aé\x00", min_size=1, max_size=4))
def test_a_damaged_valid_hash_never_matches(field: int, junk: str) -> None:
    parts = _valid().split("$")
    parts[field] = junk
    assert verify_password("pw", "$".join(parts)) is False


def test_a_hash_cut_before_its_digest_never_matches() -> None:
    stored = _valid()
    for cut in range(stored.rindex("$") + 1):
        assert verify_password("pw", stored[:cut]) is False
    assert verify_password("pw", stored) is True
