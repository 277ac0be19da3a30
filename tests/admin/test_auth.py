"""Admin auth without a server: password hashes, signed sessions, lockout, the one-time password."""

from __future__ import annotations

from pydantic import SecretStr

from gptgate.admin.auth import (
    AdminAuth,
    admin_enabled,
    console_hint,
    hash_password,
    is_hash,
    one_time_password,
    verify_password,
)
from gptgate.settings import Settings


def settings(**values: object) -> Settings:
    return Settings(**values)  # type: ignore[arg-type]


def test_password_is_kept_as_a_scrypt_hash() -> None:
    stored = hash_password("hunter2", salt=b"0123456789abcdef")
    assert stored.startswith("scrypt$16384$8$1$MDEyMzQ1Njc4OWFiY2RlZg$") and is_hash(stored)
    assert "hunter2" not in stored
    assert verify_password("hunter2", stored) and not verify_password("hunter3", stored)
    assert not verify_password("hunter2", "scrypt$broken")
    auth = AdminAuth.from_settings(settings(admin_password=SecretStr(stored)))
    assert auth.check_password("hunter2")  # a configured hash is taken as it is


def test_sessions_are_signed_expire_and_end() -> None:
    auth = AdminAuth.from_settings(settings(admin_password=SecretStr("pw"), admin_session_hours=1.0))
    cookie, expires = auth.new_session(now=1000.0)
    assert expires == 4600.0
    assert auth.session_expiry(cookie, now=1001.0) == 4600.0
    assert auth.session_expiry(cookie, now=4600.0) is None  # expired
    sid, _, mac = cookie.split(".")
    assert auth.session_expiry(f"{sid}.9999999999.{mac}", now=1001.0) is None  # tampered expiry
    other = AdminAuth.from_settings(settings(admin_password=SecretStr("pw"), admin_session_hours=1.0))
    assert other.session_expiry(cookie, now=1001.0) == 4600.0  # another worker, same secret: accepted
    changed = AdminAuth.from_settings(settings(admin_password=SecretStr("new")))
    assert changed.session_expiry(cookie, now=1001.0) is None  # a new password ends old sessions
    live, _ = auth.new_session()
    auth.end_session(live)
    assert auth.session_expiry(live) is None


def test_lockout_after_the_configured_failures() -> None:
    auth = AdminAuth.from_settings(settings(admin_password=SecretStr("pw"), admin_lockout=2))
    auth.failed("10.0.0.1", now=100.0)
    assert auth.locked_for("10.0.0.1", now=100.0) == 0.0
    auth.failed("10.0.0.1", now=101.0)
    assert auth.locked_for("10.0.0.1", now=101.0) == 300.0
    assert auth.locked_for("10.0.0.2", now=101.0) == 0.0
    assert auth.locked_for("10.0.0.1", now=401.0) == 0.0


def test_admin_token_is_compared_by_hash() -> None:
    auth = AdminAuth.from_settings(settings(admin_token=SecretStr("tok-123")))
    assert auth.check_token("tok-123") and not auth.check_token("tok-124")
    assert not auth.check_password("tok-123")


def test_one_time_password_only_on_loopback_without_a_secret() -> None:
    loopback, password = one_time_password(settings())
    assert password is not None and len(password) >= 16
    assert loopback.admin_password is not None and is_hash(loopback.admin_password.get_secret_value())
    assert AdminAuth.from_settings(loopback).check_password(password)
    assert console_hint(loopback, "http://127.0.0.1:8080", password) == (
        f"console: http://127.0.0.1:8080/admin — sign in with password {password} "
        "(generated for this run; set admin_password to choose one)"
    )
    configured = settings(admin_password=SecretStr("pw"))
    assert one_time_password(configured) == (configured, None)
    public = settings(host="0.0.0.0")
    assert one_time_password(public) == (public, None)
    assert not admin_enabled(public)
    assert console_hint(public, "http://0.0.0.0:8080", None) == (
        "console: off on this address (set admin_password or admin_token to turn it on)"
    )
    assert admin_enabled(settings(host="0.0.0.0", admin_token=SecretStr("t")))
