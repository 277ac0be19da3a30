"""Key secrets and limits: shapes, hashes and the limits' one JSON form."""

from __future__ import annotations

import pytest

from gptgate.keys.model import ClientKey, KeyLimits
from gptgate.keys.secrets import display_prefix, hash_secret, looks_like_secret, new_key_id, new_secret


def test_a_secret_is_gg_and_40_base62_characters() -> None:
    secret = new_secret()
    assert secret.startswith("gg-") and len(secret) == 43 and looks_like_secret(secret)
    assert new_secret() != secret
    assert display_prefix("gg-AbC123xyz") == "gg-AbC123"
    assert not looks_like_secret("gg-short") and not looks_like_secret("sk-" + "a" * 40)


def test_the_hash_is_sha256_hex_and_the_id_is_short() -> None:
    assert hash_secret("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    key_id = new_key_id()
    assert key_id.startswith("key_") and len(key_id) == 14 and int(key_id[4:], 16) >= 0


def test_limits_round_trip_through_json() -> None:
    limits = KeyLimits.from_json(
        {
            "models": ["gpt-5*", "claude-*"],
            "rpm": 60,
            "concurrency": 2,
            "max_effort": "medium",
            "see_quota": True,
        }
    )
    assert limits == KeyLimits(
        models=("gpt-5*", "claude-*"), rpm=60, concurrency=2, max_effort="medium", see_quota=True
    )
    assert limits.to_json() == {
        "models": ["gpt-5*", "claude-*"],
        "rpm": 60,
        "tpm": None,
        "concurrency": 2,
        "daily_tokens": None,
        "weekly_tokens": None,
        "monthly_tokens": None,
        "upstreams": [],
        "max_effort": "medium",
        "see_quota": True,
    }
    assert KeyLimits.from_json(limits.to_json()) == limits
    assert KeyLimits.from_json({"rpm": None}, limits).rpm is None
    assert limits.describe() == "models=gpt-5*,claude-* rpm=60 concurrency=2 max_effort=medium see_quota"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rpm": -1}, "rpm must be a whole number"),
        ({"tpm": "10"}, "tpm must be a whole number"),
        ({"max_effort": "ultra"}, "max_effort must be one of none, minimal, low, medium, high, xhigh"),
        ({"models": [1]}, "models must be a list of names"),
        ({"rpn": 5}, "unknown limit 'rpn'"),
        ({"see_quota": "yes"}, "see_quota must be true or false"),
    ],
)
def test_bad_limits_are_refused_by_name(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        KeyLimits.from_json(data)


def test_revoked_and_expired_keys_say_so() -> None:
    assert ClientKey("key_1", "a", "gg-AbC123").refusal(100.0) is None
    assert ClientKey("key_1", "a", "gg-AbC123", revoked_at=5.0).refusal(100.0) == (
        "This API key (gg-AbC123...) was revoked."
    )
    assert ClientKey("key_1", "a", "gg-AbC123", expires_at=50.0).refusal(100.0) == (
        "This API key (gg-AbC123...) has expired."
    )
