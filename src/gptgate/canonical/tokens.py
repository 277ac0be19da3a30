"""Local token counts in the upstream's encoding (o200k_base), with no network at run time.

The encoding ships inside the ``bpe-openai`` wheel. Text is counted exactly; per-message
framing follows OpenAI's chat accounting (a few tokens per message); images and files, whose
cost depends on what the upstream does with them, get documented estimates.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Final, Protocol

import orjson

from gptgate.canonical.request import CanonicalRequest
from gptgate.types import JSONObject

ENCODING: Final = "o200k_base"
PER_MESSAGE: Final = 3  # <|start|>role ... <|end|>
PER_REPLY: Final = 3  # the assistant turn the model is primed with
PER_TOOL_CALL: Final = 4
IMAGE_LOW: Final = 85
IMAGE_DEFAULT: Final = 765  # a 1024x1024 image at "auto" detail: 85 + 4 tiles * 170
BASE64_BYTES_PER_TOKEN: Final = 4.0 * 4 / 3  # about 4 bytes of decoded file per token


class _Encoding(Protocol):
    def encode(self, text: str) -> list[int]: ...


@functools.cache
def encoding() -> _Encoding:
    with warnings.catch_warnings():  # bpe-openai reads its data with a deprecated importlib call
        warnings.simplefilter("ignore", DeprecationWarning)
        import bpe_openai  # loaded on first use, kept for the process

        enc: _Encoding = bpe_openai.get_encoding(ENCODING)
        enc.encode("warm up")  # the vocabulary loads on first use
    return enc


#: The encoder refuses texts of 1M characters or 200k tokens; texts are counted in chunks
#: below both, cut at whitespace so that (almost) no token spans a cut.
CHUNK: Final = 100_000
#: Past this many characters a text is counted exactly up to here and extrapolated for the rest,
#: so one request's count stays within tens of milliseconds of CPU whatever its size.
EXACT_LIMIT: Final = 2_000_000


def count_text(text: str) -> int:
    if not text:
        return 0
    if len(text) <= CHUNK:
        return _encode_count(text)
    head = text[:EXACT_LIMIT]
    exact = sum(_encode_count(chunk) for chunk in _chunks(head))
    return exact if len(text) == len(head) else round(exact * len(text) / len(head))


def _chunks(text: str) -> list[str]:
    out: list[str] = []
    start = 0
    while start < len(text):
        end = min(start + CHUNK, len(text))
        if end < len(text):
            cut = text.rfind(" ", start + CHUNK // 2, end)
            end = cut if cut > start else end
        out.append(text[start:end])
        start = end
    return out


def _encode_count(text: str) -> int:
    try:
        return len(encoding().encode(text))
    except Exception:  # the encoder's own limits (odd inputs): an estimate beats a 500
        return max(1, len(text) // 4)


def count_request(req: CanonicalRequest) -> int:
    """Input tokens of a request: instructions, every input item, and the tool declarations."""
    total = PER_REPLY
    if req.instructions:
        total += PER_MESSAGE + count_text(req.instructions)
    for item in req.input:
        total += count_item(item)
    if req.tools:
        total += count_text(orjson.dumps(req.tools).decode())
    return total


def count_item(item: JSONObject) -> int:
    kind = item.get("type", "message")
    if kind == "message":
        return PER_MESSAGE + count_text(str(item.get("role") or "")) + _count_content(item.get("content"))
    if kind in ("function_call", "custom_tool_call"):
        args = item.get("arguments") if kind == "function_call" else item.get("input")
        return PER_TOOL_CALL + count_text(str(item.get("name") or "")) + count_text(str(args or ""))
    if kind in ("function_call_output", "custom_tool_call_output"):
        return PER_MESSAGE + _count_content(item.get("output"))
    if kind == "reasoning":
        return sum(count_text(s.get("text") or "") for s in item.get("summary") or ())
    return count_text(orjson.dumps(item).decode())


def _count_content(content: Any) -> int:
    if isinstance(content, str):
        return count_text(content)
    if not isinstance(content, list):
        return 0
    return sum(_count_part(part) for part in content if isinstance(part, dict))


def _count_part(part: JSONObject) -> int:
    kind = part.get("type")
    if kind in ("input_text", "output_text", "text"):
        return count_text(part.get("text") or "")
    if kind == "refusal":
        return count_text(part.get("refusal") or "")
    if kind == "input_image":
        return IMAGE_LOW if part.get("detail") == "low" else IMAGE_DEFAULT
    if kind == "input_file":
        data = part.get("file_data") or ""
        payload = data.partition(",")[2] if data.startswith("data:") else data
        return int(len(payload) / BASE64_BYTES_PER_TOKEN) + count_text(part.get("filename") or "")
    return 0
