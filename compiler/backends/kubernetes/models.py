"""Kubernetes client models as plain dicts and lists, the way the client's
`ApiClient.sanitize_for_serialization` gives them, without its detours.

The client (a pydantic model per API type) serialises a model by dumping it
with pydantic, then dumping every nested model again for its own projection
(so a Job's pod spec is dumped once per level above it), then walking the
result once more: as much CPU in a Kubernetes compile as writing the YAML.
Every generated projection comes down to the same thing: the fields that
are not None, in declaration order, under their API names (the fields'
serialisation aliases), nested models projected the same way; `plain`
walks that directly. It covers the values the manifests hold (strings,
ints, bools, floats, lists, string-keyed dicts, models); anything else (a
None inside a list, a date, a model of another library) raises
`Unsupported` and the caller uses the client.
tests/backends/kubernetes/test_k8s_plain.py holds it equal to the client
on random models of every type the manifests can hold."""

from __future__ import annotations

from typing import Any

_MODELS_PACKAGE = "kubernetes.client.models."

# Per model class: (attribute, API name) of each field, in declaration order.
_FIELDS: dict[type, tuple[tuple[str, str], ...]] = {}


class Unsupported(Exception):
    """A value `plain` leaves to the client's serialiser."""


def _fields(cls: type) -> tuple[tuple[str, str], ...]:
    fields = getattr(cls, "model_fields", None)
    if not cls.__module__.startswith(_MODELS_PACKAGE) or not isinstance(fields, dict):
        raise Unsupported(cls.__name__)
    # The name pydantic's dump by alias gives (the projection is that dump):
    # `exec` for the field var_exec, whose alias is `_exec`.
    found = _FIELDS[cls] = tuple(
        (name, next(n for n in (field.serialization_alias, field.alias, name) if n is not None))
        for name, field in fields.items())
    return found


def plain(obj: Any) -> Any:
    """`obj` (a model, or lists and dicts of models and scalars) as the
    client's `sanitize_for_serialization(obj)` gives it."""
    kind = type(obj)
    if kind is str or kind is int or kind is bool or kind is float:
        return obj
    # A None inside a list or dict reaches _fields and is Unsupported: the
    # client keeps it where pydantic's dump of a model field may drop it.
    if kind is list:
        return [plain(item) for item in obj]
    if kind is dict:
        return {_key(key): plain(value) for key, value in obj.items()}
    fields = _FIELDS.get(kind) or _fields(kind)
    values = obj.__dict__
    out = {}
    for name, api_name in fields:
        value = values[name]
        if value is not None:
            value_kind = type(value)
            out[api_name] = value if value_kind is str or value_kind is int or value_kind is bool else plain(value)
    return out


def _key(key: Any) -> str:
    if type(key) is not str:
        raise Unsupported("a key that is not a string")
    return key
