"""Remove secrets from text bound for a log: tokens, keys, cookies, passwords, ``?key=`` values.

One ordered table of patterns serves two purposes: :func:`redact` replaces each secret by a
marker (the log handlers run every final line through it), and :func:`secret_kinds` names the
patterns a text still triggers (the test suite's scan of every log line it wrote). A pattern
keeps what tells a reader where the secret was (``Bearer``, ``?key=``, the cookie's name) and
replaces only the value, so redacting twice changes nothing: a line is clean exactly when
:func:`redact` leaves it as it is.
"""

from __future__ import annotations

import re

MARK = "[REDACTED]"

_SECRET_NAMES = (
    r"password|passwd|pwd|secret|client_secret|secret_key|api_key|apikey|x-api-key|x-goog-api-key"
    r"|authorization|cookie|set-cookie|access_token|refresh_token|id_token|session_token|admin_token"
)

#: (kind, pattern, replacement) applied in order; the replacement keeps group 1 (the context).
PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    # a JWT: three dot-separated base64url parts, the first a JSON object ("eyJ" = '{"')
    ("jwt", re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), MARK),
    ("bearer", re.compile(r"(?i)(\bBearer\s++)(?!\[REDACTED\])[^\s\"',;]+"), r"\1" + MARK),
    (
        "session_cookie",
        re.compile(r"(__Secure-next-auth\.session-token(?:\.\d+)?=)[^;\s\"',]+"),
        r"\1" + MARK,
    ),
    # a header line "Cookie: a=b; c=d" or "Set-Cookie: ..." (the whole value)
    ("cookie", re.compile(r"(?i)(\b(?:set-)?cookie:[ \t]*+)(?![\"']|\[REDACTED\])[^\r\n]+"), r"\1" + MARK),
    # "password": "..." / 'Cookie': '...' / password='...' (JSON, dict reprs, headers reprs)
    (
        "secret_field",
        re.compile(
            rf"(?i)([\"']?\b(?:{_SECRET_NAMES})[\"']?\s*[:=]\s*([\"']))(?!\[REDACTED\])(?:\\.|(?!\2).)+(?=\2)"
        ),
        r"\1" + MARK,
    ),
    # password=... in a query string, a form body or a key=value line
    (
        "secret_param",
        re.compile(rf"(?i)(\b(?:{_SECRET_NAMES})=)(?![\"']|\[REDACTED\])[^&\s\"',;]+"),
        r"\1" + MARK,
    ),
    # ?key=... / &key=... (the Gemini SDK's way to send its key), and tokens in query strings
    ("query_key", re.compile(r"(?i)([?&](?:key|token)=)(?!\[REDACTED\])[^&\s\"'#]+"), r"\1" + MARK),
    # scheme://user:password@host (proxies, database URLs)
    (
        "url_password",
        re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/\s@\"']+:)(?!\[REDACTED\]@|\*+@)[^@/\s\"']+@"),
        r"\1" + MARK + "@",
    ),
    ("openai_key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{3,}"), "sk-" + MARK),
    ("gptgate_key", re.compile(r"\bgg-[A-Za-z0-9_-]{4,}"), "gg-" + MARK),
    ("refresh_token", re.compile(r"\brt_[A-Za-z0-9._-]{4,}"), "rt_" + MARK),
)


#: Every pattern needs one of these words: a line without any (most lines) is returned at once.
_TRIGGER = re.compile(r"(?i)eyJ|bearer|cookie|pass|pwd|secret|key|token|authoriz|://|sk-|gg-|rt_")


def redact(text: str) -> str:
    """``text`` with every secret the patterns know replaced by ``[REDACTED]``."""
    if _TRIGGER.search(text) is None:
        return text
    for _, pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def secret_kinds(text: str) -> list[str]:
    """The kinds of secret still present in ``text`` (empty: the text is clean)."""
    return [kind for kind, pattern, replacement in PATTERNS if pattern.sub(replacement, text) != text]
