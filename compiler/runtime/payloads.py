"""Reading a request's payload: JSON, a form or query parameters, validated by the webhook's pydantic model."""

from __future__ import annotations

import functools
import json
import typing
from typing import Any
from urllib.parse import parse_qsl

from flowc.bxml.webhooks import Webhook, model_for
from flowc.runtime.problem import Problem
from pydantic import BaseModel, ValidationError


def is_flat(body: bytes, content_type: str) -> bool:
    """Whether parse_body reads flat text fields (query parameters or a form) rather than JSON."""
    return not body.strip() or content_type.startswith("application/x-www-form-urlencoded")


def query_fields(query_string: bytes) -> dict[str, str]:
    """The parameters of a request's URL (the last of a repeated name wins); nothing to build for none."""
    if not query_string:
        return {}
    return dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))


def parse_body(body: bytes, content_type: str, query: dict[str, str]) -> dict[str, Any]:
    """The payload's fields. Parameters written in the callback URL (`"/hooks/rec?tenant=acme"`) are kept
    under the body's own fields, so hooks can read them (`payload.model_extra`)."""
    if not body.strip():
        return dict(query)
    if content_type.startswith("application/x-www-form-urlencoded"):
        data = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    else:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[..." nested too deep
            raise Problem(400, "the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise Problem(400, "the body must be a JSON object")
    return {**query, **data} if query else data


@functools.cache
def _object_fields(model: type[Webhook]) -> frozenset[str]:
    """The JSON names of the fields holding an object (diversion, machineDetectionResult, sipHeaders ...)."""
    names = set()
    for name, info in model.model_fields.items():
        kinds = typing.get_args(info.annotation) or (info.annotation,)
        if any(typing.get_origin(k) is dict or isinstance(k, type) and (k is dict or issubclass(k, BaseModel))
               for k in kinds):
            names.add(info.alias or name)
    return frozenset(names)


def _unflatten(data: dict[str, Any], model: type[Webhook]) -> dict[str, Any]:
    """Query parameters and form fields are flat text: an object field arrives as JSON text, or in some form
    this app cannot read. Decode the first; leave the second out of the typed payload (it stays in the raw
    data) rather than refuse the call over a field no document needs."""
    found = _object_fields(model) & data.keys()
    if not found:
        return data
    data = dict(data)
    for name in found:
        value = data[name]
        if isinstance(value, str):
            try:
                decoded = json.loads(value)
            except (ValueError, RecursionError):
                decoded = None
            if isinstance(decoded, dict):
                data[name] = decoded
            else:
                del data[name]
    return data


def validate(data: dict[str, Any], conference: bool, flat: bool = False) -> Webhook:
    """The typed payload; `conference` for a conference's event route, `flat` for GET query parameters and
    form bodies."""
    event_type = data.get("eventType")
    event_type = event_type if isinstance(event_type, str) else ""
    model = model_for(event_type, conference or event_type.startswith("conference"))
    try:
        return model.model_validate(_unflatten(data, model) if flat else data)
    except ValidationError as error:
        detail = [{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
                  for e in error.errors(include_url=False, include_input=False)]
        raise Problem(422, "the payload does not match the webhook", detail) from None
