"""The documented content blocks of ``messages[].content`` and ``system``, typed as
anthropic-python's ``*BlockParam`` types them (``ContentBlockParam`` and its sources,
citations and ``cache_control``). What a block means is read by :mod:`content`; this module
only says whether it is well formed, naming the field as the real API does."""

from __future__ import annotations

from typing import Any, Final

from gptgate.protocols import checks as c
from gptgate.protocols.anthropic.rules import by_type, invalid, missing, one_of, shape, text_or_list, variant

CACHE_CONTROL: Final = shape({"type": one_of("ephemeral")}, {"ttl": one_of("5m", "1h")})
CITATIONS_CONFIG: Final = shape(optional={"enabled": c.BOOL})

_CITED: Final[c.Spec] = {"cited_text": c.STR}
_DOCUMENT_CITED: Final[c.Spec] = {**_CITED, "document_index": c.INT}
CITATION: Final = by_type(
    {
        "char_location": variant(
            {**_DOCUMENT_CITED, "start_char_index": c.INT, "end_char_index": c.INT},
            {"document_title": c.STR},
        ),
        "page_location": variant(
            {**_DOCUMENT_CITED, "start_page_number": c.INT, "end_page_number": c.INT},
            {"document_title": c.STR},
        ),
        "content_block_location": variant(
            {**_DOCUMENT_CITED, "start_block_index": c.INT, "end_block_index": c.INT},
            {"document_title": c.STR},
        ),
        "web_search_result_location": variant(
            {**_CITED, "encrypted_index": c.STR, "url": c.STR}, {"title": c.STR}
        ),
        "search_result_location": variant(
            {
                **_CITED,
                "search_result_index": c.INT,
                "source": c.STR,
                "start_block_index": c.INT,
                "end_block_index": c.INT,
            },
            {"title": c.STR},
        ),
    }
)

TEXT: Final = variant({"text": c.STR}, {"cache_control": CACHE_CONTROL, "citations": c.list_of(CITATION)})
IMAGE_SOURCE: Final = by_type(
    {
        "base64": variant(
            {"media_type": one_of("image/jpeg", "image/png", "image/gif", "image/webp"), "data": c.STR}
        ),
        "url": variant({"url": c.STR}),
        "file": variant({"file_id": c.STR}),
    }
)
IMAGE: Final = variant(
    {"source": IMAGE_SOURCE},
    {
        "cache_control": CACHE_CONTROL,
        "transformations": shape(optional={"oversized_image": one_of("downsize", "error")}),
    },
)
_TEXT_OR_IMAGE: Final = by_type({"text": TEXT, "image": IMAGE})
DOCUMENT_SOURCE: Final = by_type(
    {
        "base64": variant({"media_type": one_of("application/pdf"), "data": c.STR}),
        "text": variant({"media_type": one_of("text/plain"), "data": c.STR}),
        "url": variant({"url": c.STR}),
        "content": variant(
            {"content": text_or_list(_TEXT_OR_IMAGE, "a string or an array of content blocks")}
        ),
        "file": variant({"file_id": c.STR}),
    }
)
DOCUMENT: Final = variant(
    {"source": DOCUMENT_SOURCE},
    {
        "cache_control": CACHE_CONTROL,
        "citations": CITATIONS_CONFIG,
        "context": c.STR,
        "title": c.STR,
    },
)
SEARCH_RESULT: Final = variant(
    {"content": c.list_of(by_type({"text": TEXT})), "source": c.STR, "title": c.STR},
    {"cache_control": CACHE_CONTROL, "citations": CITATIONS_CONFIG},
)
#: ``tool_use.caller``: who called the tool (``direct`` or a code-execution server tool).
CALLER: Final = shape({"type": c.STR})
TOOL_RESULT: Final = variant(
    {"tool_use_id": c.STR},
    {
        "content": text_or_list(
            by_type(
                {
                    "text": TEXT,
                    "image": IMAGE,
                    "document": DOCUMENT,
                    "search_result": SEARCH_RESULT,
                    "tool_reference": variant({"tool_name": c.STR}, {"cache_control": CACHE_CONTROL}),
                },
                unchecked=("browser_state",),
            ),
            "a string or an array of content blocks",
        ),
        "is_error": c.BOOL,
        "cache_control": CACHE_CONTROL,
        "toolset_name": c.STR,
    },
)
#: Blocks only Anthropic's servers produce: echoed back in history, not read by this gateway.
SERVER_BLOCKS: Final = (
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result",
    "tool_search_tool_result",
    "container_upload",
    "mcp_tool_use",
    "mcp_tool_result",
)
BLOCK: Final = by_type(
    {
        "text": TEXT,
        "image": IMAGE,
        "document": DOCUMENT,
        "search_result": SEARCH_RESULT,
        "thinking": variant({"thinking": c.STR, "signature": c.STR}),
        "redacted_thinking": variant({"data": c.STR}),
        "tool_use": variant(
            {"id": c.STR, "name": c.STR, "input": c.OBJ},
            {"cache_control": CACHE_CONTROL, "caller": CALLER, "toolset_name": c.STR},
        ),
        "tool_result": TOOL_RESULT,
        "server_tool_use": variant(
            {"id": c.STR, "name": c.STR, "input": c.OBJ},
            {"cache_control": CACHE_CONTROL, "caller": CALLER},
        ),
    },
    unchecked=SERVER_BLOCKS,
)
CONTENT: Final = text_or_list(BLOCK, "a string or an array of content blocks")
SYSTEM: Final = text_or_list(by_type({"text": TEXT}), "a string or an array of text blocks")
ROLE: Final = one_of("user", "assistant", "system")


def message(value: Any, path: str) -> None:
    """One ``messages[]`` entry: ``role`` and ``content``; a ``system`` entry (Claude Code's
    mid-conversation system beta) holds text only."""
    c.OBJ(value, path)
    role = value.get("role")
    if role is None:
        raise missing(path + ".role")
    ROLE(role, path + ".role")
    content = value.get("content")
    if content is None:
        raise missing(path + ".content")
    (SYSTEM if role == "system" else CONTENT)(content, path + ".content")


MESSAGES: Final = c.list_of(message)


def nonempty_messages(value: Any, path: str) -> None:
    MESSAGES(value, path)
    if not value:
        raise invalid(path, "at least one message is required")
