"""The document operations of delta encoding v1 (chatgpt-web-backend.md §2.2).

A v1 stream keeps one JSON document per message (``{message, conversation_id, error}``) and
changes it with ``{p, o, v}`` records: ``p`` a JSON Pointer into the document, ``o`` one of
``append`` (string concat, list extend/push, object merge), ``replace``, ``add``, ``truncate``,
``remove`` or ``patch`` (``v`` a list of sub-records applied in order). One function per op.
An op that does not fit the document (a missing key, a wrong type) is skipped: the answer text
is computed from the document, so a skipped op costs at most that op's text, never the stream.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gptgate.types import JSONObject

Container = dict[str, Any] | list[Any]


def _tokens(path: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in path.split("/")[1:]]


def _locate(root: JSONObject, path: str) -> tuple[Container, str | int]:
    """The container holding the pointer's last token, and that token (an int for lists)."""
    tokens = _tokens(path)
    node: Any = root
    for token in tokens[:-1]:
        node = node[int(token)] if isinstance(node, list) else node[token]
    last = tokens[-1]
    if isinstance(node, list):
        return node, len(node) if last == "-" else int(last)
    if not isinstance(node, dict):
        raise TypeError(path)
    return node, last


def _get(container: Container, key: str | int) -> Any:
    if isinstance(container, list):
        return container[int(key)] if int(key) < len(container) else None
    return container.get(str(key))


def _set(container: Container, key: str | int, value: Any) -> None:
    if isinstance(container, list):
        index = int(key)
        if index == len(container):
            container.append(value)
        else:
            container[index] = value
    else:
        container[str(key)] = value


def op_append(container: Container, key: str | int, value: Any) -> None:
    current = _get(container, key)
    if isinstance(current, str) and isinstance(value, str):
        _set(container, key, current + value)
    elif isinstance(current, list):
        current.extend(value) if isinstance(value, list) else current.append(value)
    elif isinstance(current, dict) and isinstance(value, dict):
        current.update(value)
    else:
        _set(container, key, value)


def op_replace(container: Container, key: str | int, value: Any) -> None:
    _set(container, key, value)


def op_add(container: Container, key: str | int, value: Any) -> None:
    if isinstance(container, list):
        container.insert(int(key), value)
    else:
        container[str(key)] = value


def op_truncate(container: Container, key: str | int, value: Any) -> None:
    current = _get(container, key)
    if isinstance(current, str | list):
        _set(container, key, current[: int(value)])


def op_remove(container: Container, key: str | int, value: Any) -> None:
    if isinstance(container, list):
        del container[int(key)]
    else:
        container.pop(str(key), None)


OPS: dict[str, Callable[[Container, str | int, Any], None]] = {
    "append": op_append,
    "replace": op_replace,
    "add": op_add,
    "truncate": op_truncate,
    "remove": op_remove,
}


def apply(root: JSONObject, path: str, op: str, value: Any) -> None:
    """Apply one record to ``root`` in place (``patch`` recursively); unfit ops are skipped."""
    if op == "patch":
        for sub in value if isinstance(value, list) else ():
            if isinstance(sub, dict):
                apply(root, str(sub.get("p") or ""), str(sub.get("o") or "append"), sub.get("v"))
        return
    if not path:  # the root itself: only a whole new document makes sense
        if op in ("add", "replace") and isinstance(value, dict):
            root.clear()
            root.update(value)
        return
    func = OPS.get(op)
    if func is None:
        return
    try:
        container, key = _locate(root, path)
        func(container, key, value)
    except (KeyError, IndexError, TypeError, ValueError):
        return
