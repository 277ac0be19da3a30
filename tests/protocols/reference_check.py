"""``checks.check`` as it was before issue 12's fast type tests: every present documented field's
rule called. The reference decoders and the checks' reference tests share it."""

from __future__ import annotations

from gptgate.protocols.checks import Spec
from gptgate.types import JSONObject


def ref_check(body: JSONObject, spec: Spec, path: str = "") -> None:
    if len(body) < len(spec):
        for key, value in body.items():
            if value is not None and (rule := spec.get(key)) is not None:
                rule(value, path + key)
        return
    for key, rule in spec.items():
        value = body.get(key)
        if value is not None:
            rule(value, path + key)
