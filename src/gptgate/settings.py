"""Every setting, from (highest first) command-line flags, ``GPTGATE_*`` environment variables,
chat2api's environment variables (``settings_chat2api.py``), a TOML config file (``--config`` /
``GPTGATE_CONFIG``), then these defaults.

Each field's description is the documentation: ``gptgate settings`` prints them and a test
checks that README.md lists every one.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from gptgate.settings_chat2api import Chat2ApiSource

DEFAULT_MODELS = [
    "gpt-5.5",
    "gpt-5.4",
    "gpt-5.4-mini",
    "gpt-5.3-codex",
    "gpt-5.2",
    "gpt-5.1-codex",
    "gpt-5.1",
]
DEFAULT_ALIASES = {
    "auto": "default",
    "gpt-4o": "default",
    "gpt-4o-mini": "default",
    "gpt-4": "default",
    "gpt-4-turbo": "default",
    "gpt-4.1": "default",
    "gpt-3.5-turbo": "default",
    "gpt-5": "default",
    # The Codex platform's names (gpt-5-codex-low|medium|high, gpt-5-minimal): the current Codex
    # models with the effort each name says (gpt-5-minimal: gpt-5 is 'default', plus its suffix).
    "gpt-5-codex": "gpt-5.3-codex",
    "gpt-5-codex-low": "gpt-5.3-codex-low",
    "gpt-5-codex-medium": "gpt-5.3-codex-medium",
    "gpt-5-codex-high": "gpt-5.3-codex-high",
    "gpt-5-codex-mini": "gpt-5.4-mini",
    "codex-mini-latest": "gpt-5.4-mini",
    "gpt-5-minimal": "default-minimal",
    "gpt-5-low": "default-low",
    "gpt-5-medium": "default-medium",
    "gpt-5-high": "default-high",
    # dated snapshot names (the platform docs list these beside the bare names)
    "gpt-5-2025-08-07": "default",
    "gpt-5.1-2025-11-13": "gpt-5.1",
    "gpt-5.2-2025-12-11": "gpt-5.2",
    # Claude Code and the Anthropic SDK: any Claude name works; its thinking settings set the effort.
    "claude-opus-*": "default",
    "claude-sonnet-*": "default",
    "claude-haiku-*": "gpt-5.4-mini",
    "claude-*": "default",
    # google-genai: the Gemini tiers map to the nearest upstream tier.
    "gemini-*-pro*": "default",
    "gemini-*-flash-lite*": "gpt-5.4-mini-low",
    "gemini-*-flash*": "gpt-5.4-mini",
    "gemini-*": "default",
}
DEFAULT_CLAUDE_MODELS = ["claude-opus-4-8", "claude-sonnet-4-5", "claude-haiku-4-5"]
DEFAULT_GEMINI_MODELS = ["gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GPTGATE_", extra="forbid", validate_default=True)

    # -- listening
    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8080, ge=0, le=65535, description="Port to listen on.")
    workers: int = Field(1, ge=1, le=64, description="Worker processes sharing the port.")
    api_keys: list[SecretStr] = Field(
        default_factory=list,
        description="Client API keys (Bearer / x-api-key). Required to listen on a non-loopback address.",
    )
    api_prefix: str | None = Field(
        None,
        description="Secret path prefix (chat2api's API_PREFIX): the API is served only under "
        "/{api_prefix}/v1/... (health, metrics and /admin stay where they are).",
    )
    max_body_mb: float = Field(32.0, gt=0, description="Largest request body accepted, in MiB.")
    keepalive_seconds: float = Field(
        15.0, gt=0, description="Idle time before a keep-alive is sent on a stream."
    )
    shutdown_seconds: float = Field(
        30.0,
        ge=0,
        description="On SIGTERM: stop accepting, answer 503 on /readyz, let open requests and streams "
        "finish for up to this many seconds, then write buffered usage and quota snapshots and exit "
        "(an orchestrator's grace period should be a little longer).",
    )
    tls_cert: Path | None = Field(
        None,
        description="PEM certificate (chain) to serve HTTPS with, together with tls_key (Codex CLI "
        "signed in with ChatGPT needs an https:// chatgpt_base_url); unset: plain HTTP.",
    )
    tls_key: Path | None = Field(None, description="PEM private key of tls_cert.")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Log level.")
    log_format: Literal["text", "json"] = Field(
        "text",
        description="Log line format: text, or json (one object per line: time, level, logger, message, "
        "request_id).",
    )
    log_file: Path | None = Field(
        None, description="Also append every log line (redacted, like all of them) to this file."
    )
    metrics: bool = Field(
        True,
        description="Count every model call (requests by door, model and status; time to first "
        "token; duration; error classes) for /metrics; off: those series stay empty and calls cost "
        "nothing for them (cooldowns, refreshes and account states are still counted).",
    )
    metrics_label_ids: bool = Field(
        False,
        description="Count requests per client key id and account id on /metrics "
        "(gptgate_requests_by_id_total); off: no id in any metric label.",
    )

    # -- the Codex upstream
    codex_base_url: str = Field(
        "https://chatgpt.com/backend-api/codex",
        description="Base URL of the Codex backend (or of a gateway in front of it).",
    )
    codex_transport: Literal["aiohttp", "curl_cffi"] = Field(
        "aiohttp",
        description="HTTP client for the Codex upstream; curl_cffi sends a browser TLS fingerprint.",
    )
    codex_impersonate: str = Field("chrome", description="Browser profile for the curl_cffi transport.")
    codex_websocket: bool = Field(
        False,
        description="Send turns to the Codex upstream over its Responses WebSocket (one socket per "
        "account, reused by the next turn) instead of one HTTP request each; aiohttp transport only. "
        "Off: HTTP, the measured default.",
    )
    client_version: str = Field("0.169.0", description="Codex client version sent upstream (version header).")
    originator: str = Field("codex_cli_rs", description="originator header sent upstream.")
    connect_timeout: float = Field(10.0, gt=0, description="Seconds to connect to the upstream.")
    first_byte_timeout: float = Field(
        120.0, gt=0, description="Seconds to wait for the upstream's first event."
    )
    idle_timeout: float = Field(
        300.0, gt=0, description="Seconds of upstream silence before a stream is failed."
    )
    retry_times: int = Field(
        2, ge=0, le=10, description="Extra attempts (other accounts) before the first byte."
    )
    upstream_connections: int = Field(1024, ge=1, description="Connection pool size to the upstream.")
    upstream_idle_connections: int = Field(
        64,
        ge=0,
        description="Idle keep-alive connections kept per upstream host (more close after 2 s idle).",
    )
    upstream_keepalive_seconds: float = Field(
        15.0, gt=0, description="How long an idle upstream connection is kept for reuse."
    )

    # -- the account (a pool of many comes with the account store)
    access_token: SecretStr | None = Field(None, description="ChatGPT access token (JWT) of the account.")
    account_id: str | None = Field(
        None, description="ChatGPT account/workspace id; read from the token if unset."
    )
    auth_json: Path | None = Field(None, description="Path of a Codex CLI auth.json to serve from.")

    # -- models
    default_model: str = Field("gpt-5.5", description="Upstream model that the alias target 'default' means.")
    models: list[str] = Field(default_factory=lambda: list(DEFAULT_MODELS), description="Model catalogue.")
    model_aliases: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_ALIASES),
        description="Client model name or glob (claude-opus-*) -> upstream model or 'default', "
        "optionally with an effort suffix (gpt-5.5-high).",
    )
    claude_models: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CLAUDE_MODELS),
        description="Claude-named models listed by the Anthropic GET /v1/models (Claude Code shows only these).",
    )
    gemini_models: list[str] = Field(
        default_factory=lambda: list(DEFAULT_GEMINI_MODELS),
        description="Gemini-named models listed by GET /v1beta/models besides the catalogue.",
    )
    fetch_upstream_models: bool = Field(
        True, description="Add the models the upstream reports to the catalogue."
    )
    reasoning_output: Literal["reasoning_content", "reasoning", "think", "none"] = Field(
        "reasoning_content", description="Where Chat Completions carries reasoning summaries."
    )
    reasoning_summary: Literal["auto", "concise", "detailed", "none"] = Field(
        "auto", description="Reasoning summary asked of the upstream for translated requests."
    )
    default_effort: str | None = Field(None, description="Reasoning effort when the client names none.")

    # -- storage
    data_dir: Path = Field(
        default_factory=lambda: (
            Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local/share") / "gptgate"
        ),
        description="Directory of the default SQLite account store and of the generated secret key file.",
    )
    database_url: SecretStr | None = Field(
        None,
        description="Account store: sqlite:///path or postgresql://user:pass@host:port/db "
        "(default: SQLite file gptgate.db in data_dir).",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Key that encrypts stored tokens (a generated key, or a passphrase of 16+ characters); "
        "overrides secret_key_file. Every instance sharing a database needs the same key.",
    )
    secret_key_file: Path | None = Field(
        None,
        description="File holding the token key, created (mode 0600) if missing (default: data_dir/secret.key).",
    )

    # -- shared state
    redis_url: SecretStr | None = Field(
        None,
        description="Redis URL for state shared by processes and instances (redis://host:6379/0); in-process if unset.",
    )
    redis_prefix: str = Field(
        "gptgate:",
        description="Prefix of every Redis key and channel (deployments sharing one Redis differ).",
    )
    sticky_ttl_seconds: float = Field(
        3600.0, gt=0, description="How long a session stays bound to its account after its last request."
    )

    # -- account pool
    account_store: bool = Field(
        True, description="Serve the accounts in the account store (besides access_token/auth_json)."
    )
    pool_strategy: Literal["round_robin", "random", "least_busy", "quota_headroom"] = Field(
        "round_robin",
        description="How the pool picks an account for a request without a sticky session: "
        "round_robin, random, least_busy (fewest in flight), quota_headroom (most quota left).",
    )
    reload_seconds: float = Field(
        2.0,
        ge=0,
        description="How often each worker checks the store for changes to accounts and keys made "
        "elsewhere (the CLI, the admin API, another instance); 0 turns the check off.",
    )
    refresh_before_seconds: float = Field(
        600.0,
        gt=0,
        description="Refresh an access token this long before it expires (each account at its own "
        "offset within this margin); an expired one is refreshed before use and on a 401.",
    )
    usage_poll_seconds: float = Field(
        900.0,
        ge=0,
        description="Read every account's quota windows from the usage endpoint this often, spread "
        "over the period (0: only from the headers of served requests).",
    )

    # -- usage accounting
    usage_batch_size: int = Field(
        200,
        ge=1,
        description="Usage rows are written as soon as this many wait (one executemany); with "
        "usage_flush_seconds this bounds what a kill -9 can lose.",
    )
    usage_flush_seconds: float = Field(
        1.0,
        gt=0,
        description="Usage rows wait at most this long before they are written (the age bound of "
        "what a kill -9 can lose).",
    )
    usage_buffer_rows: int = Field(
        50_000,
        ge=1,
        description="Most usage rows kept in memory while the store cannot take them; beyond it the "
        "oldest are dropped, counted and warned about.",
    )
    usage_retention_days: float = Field(
        90.0, ge=0, description="Usage rows older than this are pruned daily; 0 keeps them forever."
    )

    # -- token endpoints
    oauth_token_url: str = Field(
        "https://auth.openai.com/oauth/token",
        description="OAuth token endpoint that refreshes Codex logins (a gateway or the simulator in tests).",
    )
    oauth_client_id: str = Field(
        "app_EMoamEEZ73f0CkXaXp7hrann", description="OAuth client id sent with a refresh (Codex CLI's)."
    )
    session_base_url: str = Field(
        "https://chatgpt.com",
        description="Base URL whose /api/auth/session turns a web session token into an access token.",
    )
    token_timeout: float = Field(
        20.0, gt=0, description="Seconds to wait for the token endpoint or the session endpoint."
    )

    # -- egress
    proxies: list[str] = Field(
        default_factory=list,
        description="Egress proxies (http://, https://, socks4://, socks4a://, socks5://, socks5h://, "
        "optionally user:pass@) for accounts without a proxy of their own; each account keeps one, "
        "chosen by a hash of its id. Empty: such accounts go direct.",
    )
    codex_base_urls: list[str] = Field(
        default_factory=list,
        description="More Codex base URLs, tried after codex_base_url when a base cannot be reached, "
        "times out before the first byte or answers 5xx.",
    )
    base_down_seconds: float = Field(
        30.0, gt=0, description="How long a failed base URL is tried only after the healthy ones."
    )

    # -- the ChatGPT web upstream (conversation backend, through an operator's gateway)
    chatgpt_base_urls: list[str] = Field(
        default_factory=list,
        description="Site roots of gateways that accept the ChatGPT web protocol (chat2api's "
        "CHATGPT_BASE_URL), tried in turn with failover; empty: the web upstream is off.",
    )
    chatgpt_conversation_path: Literal["/backend-api/conversation", "/backend-api/f/conversation"] = Field(
        "/backend-api/conversation", description="The conversation path the web gateway serves."
    )
    chatgpt_history: bool = Field(
        False,
        description="Keep web conversations in the account's history (chat2api's HISTORY_DISABLED=false).",
    )
    chatgpt_sentinel: bool = Field(
        False,
        description="Make the requirements call and solve the proof of work for each web turn; off "
        "(chat2api's CONVERSATION_ONLY) when the gateway supplies those tokens itself.",
    )
    chatgpt_pow_difficulty: str = Field(
        "000032", description="The hardest proof-of-work difficulty to attempt (chat2api's POW_DIFFICULTY)."
    )
    chatgpt_auth_key: SecretStr | None = Field(
        None, description="Sent as the 'authkey' header to the web gateway (chat2api's AUTH_KEY)."
    )
    chatgpt_headers: dict[str, str] = Field(
        default_factory=dict, description="More headers for the web gateway (name -> value)."
    )

    # -- files (images and files in requests, generated files in answers)
    fetch_max_mb: float = Field(
        20.0,
        gt=0,
        description="Largest image or file the gateway fetches from a URL or takes as base64, in MiB.",
    )
    fetch_timeout: float = Field(
        30.0, gt=0, description="Seconds to fetch an image or file from a URL (all redirects included)."
    )
    fetch_allow_private: bool = Field(
        False,
        description="Let image and file URLs point at loopback, link-local (169.254.169.254), private and "
        "other non-public addresses; off, such URLs (and redirects to them) are refused with a 400.",
    )
    fetch_proxy: str | None = Field(
        None,
        description="Proxy (http://, socks5://...) that image and file URLs are fetched through "
        "(chat2api's EXPORT_PROXY_URL); unset: direct.",
    )
    file_link_seconds: float = Field(
        3600.0, gt=0, description="How long a download link to a generated image or file (/files/...) works."
    )
    public_base_url: str | None = Field(
        None,
        description="Base URL of the gateway as clients reach it (https://gw.example.com), for download "
        "links; unset: from the request's Host and X-Forwarded-Proto/-Host headers.",
    )

    # -- bring your own token
    byo_tokens: bool = Field(
        False,
        description="Bring your own token: a client key that is a ChatGPT access token (JWT) or refresh "
        "token (rt_...), optionally 'token,account_id' or with a ChatGPT-Account-ID header, is served "
        "from that account instead of the pool. api_keys still use the pool.",
    )
    byo_only: bool = Field(
        False,
        description="With byo_tokens: refuse (401) a request that brings neither its own token nor one "
        "of api_keys, instead of serving it from the pool (matters when api_keys is empty).",
    )
    byo_opaque_refresh: bool = Field(
        False,
        description="With byo_tokens: take any other non-JWT key that is not one of api_keys for a "
        "refresh token (older logins have opaque ones), not only rt_-prefixed keys.",
    )
    byo_cache_size: int = Field(
        10_000,
        ge=1,
        description="Client tokens (and exchanged refresh tokens) remembered in memory, least recently "
        "used out; a refresh token evicted after its exchange must be replaced by the client.",
    )

    # -- admin console and admin API
    admin_password: SecretStr | None = Field(
        None,
        description="Password of the admin console and admin API (/admin); kept only as a hash once loaded "
        "(a scrypt$... hash is accepted too). Without it or admin_token the admin API is off on a "
        "non-loopback bind; on loopback serve prints a one-time password.",
    )
    admin_token: SecretStr | None = Field(
        None, description="Admin token for scripts: 'Authorization: Bearer <token>' on /admin/api."
    )
    admin_session_hours: float = Field(12.0, gt=0, description="How long an admin console sign-in lasts.")
    admin_lockout: int = Field(
        5, ge=1, description="Failed admin sign-ins from one address before it is locked out for a while."
    )

    # -- demo
    demo: bool = Field(False, description="Start an embedded simulator and a demo account.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config = _CONFIG_FILE.get() or os.environ.get("GPTGATE_CONFIG")
        # chat2api's variables (API_PREFIX, AUTHORIZATION, CHATGPT_BASE_URL...) just below GPTGATE_*
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            env_settings,
            Chat2ApiSource(settings_cls),
        ]
        if config:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config)))
        return tuple(sources)

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    def key_values(self) -> list[str]:
        return [k.get_secret_value() for k in self.api_keys]


#: the config file named by ``--config`` while its settings are read (it wins over
#: ``GPTGATE_CONFIG``); never written to the environment, where it would outlive the call
_CONFIG_FILE: ContextVar[Path | None] = ContextVar("gptgate_config_file", default=None)


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Settings from flags (``overrides``, None values skipped), env, and the config file."""
    token = _CONFIG_FILE.set(config)
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    finally:
        _CONFIG_FILE.reset(token)


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")
