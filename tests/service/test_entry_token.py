"""Entry tokens: sign, parse, and refuse anything we did not sign exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walkout.service.entry.token import EntryToken, EntryTokenSigner, ForgedToken

SIGNER = EntryTokenSigner.from_secret(b"k" * 32)
NOW = datetime(2026, 11, 29, 12, 0, 0, 123456, tzinfo=UTC)
TOKEN = EntryToken.issue(42, NOW, timedelta(seconds=30))
SIGNED = SIGNER.sign(TOKEN)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \n"


def test_round_trip_keeps_the_payload_to_the_millisecond() -> None:
    parsed = SIGNER.parse(SIGNED)
    assert parsed == TOKEN
    assert parsed.account_id == 42
    assert parsed.issued_at == datetime(2026, 11, 29, 12, 0, 0, 123000, tzinfo=UTC)
    assert parsed.expires_at - parsed.issued_at == timedelta(seconds=30)
    assert len(parsed.token_id) == 32
    assert SIGNED.startswith("wo1.")


def test_each_issue_has_a_new_random_id() -> None:
    ids = {EntryToken.issue(1, NOW, timedelta(seconds=30)).token_id for _ in range(50)}
    assert len(ids) == 50


def test_another_key_is_forged() -> None:
    other = EntryTokenSigner.from_secret(b"o" * 32)
    with pytest.raises(ForgedToken, match="bad signature"):
        other.parse(SIGNED)


@pytest.mark.parametrize(
    "text",
    ["", "wo1.", "wo1..", "wo1.AAAA.AAAA", "wo2" + SIGNED[3:], SIGNED + "=", SIGNED + "\n"],
)
def test_malformed_is_forged(text: str) -> None:
    with pytest.raises(ForgedToken):
        SIGNER.parse(text)


@given(st.text(max_size=300) | st.text(alphabet=ALPHABET, max_size=300))
def test_garbage_never_crashes(text: str) -> None:
    try:
        SIGNER.parse(text)
    except ForgedToken:
        return
    pytest.fail(f"garbage accepted: {text!r}")


@given(st.data())
def test_any_modification_of_a_valid_token_is_forged(data: st.DataObject) -> None:
    chars = list(SIGNED)
    action = data.draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
    i = data.draw(st.integers(0, len(chars) - 1))
    if action == "replace":
        chars[i] = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != chars[i]))
    elif action == "insert":
        chars.insert(i, data.draw(st.sampled_from(ALPHABET)))
    elif action == "delete":
        del chars[i]
    else:
        del chars[i:]
    modified = "".join(chars)
    assert modified != SIGNED
    with pytest.raises(ForgedToken):
        SIGNER.parse(modified)


def test_every_single_character_replacement_is_forged() -> None:
    """Exhaustive over one-character edits, including base64's unused trailing bits."""
    accepted = [
        (i, c)
        for i in range(len(SIGNED))
        for c in ALPHABET
        if c != SIGNED[i] and _parses(SIGNED[:i] + c + SIGNED[i + 1 :])
    ]
    assert accepted == []


def _parses(text: str) -> bool:
    try:
        SIGNER.parse(text)
    except ForgedToken:
        return False
    return True
