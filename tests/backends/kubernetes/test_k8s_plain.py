"""The manifests' models as plain data (compiler/backends/kubernetes/models.py)
are exactly what the Kubernetes client's `sanitize_for_serialization` gives:
same keys in the same order, same values of the same types, on random models
of every type a manifest can hold; what the walk leaves to the client it says
so (Unsupported). The goldens prove the bytes of real manifests."""

from __future__ import annotations

import functools
import re
from datetime import timezone

import kubernetes.client as client
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from compiler.backends.kubernetes import models, serialise

# The objects the back end writes (objects.py, multinode.py, ingress.py):
# their fields reach most of the API's types (pod specs hold volumes of
# every kind, probes, affinities...).
TOP_LEVEL = [client.V1Job, client.V1Deployment, client.V1Service, client.V1Namespace,
             client.V1PersistentVolumeClaim, client.V1Ingress]

_LIST = re.compile(r"List\[(.+)\]")
_DICT = re.compile(r"Dict\[str, (.+)\]")

_text = st.one_of(st.sampled_from(["", "serve", "a b", "x: y", "null", "1", "it's", "$(HOME)", "é日"]),
                  st.text(max_size=8))


def _client() -> object:
    from kubernetes.client import ApiClient

    return ApiClient()


# What the walk leaves to the client (a date); the manifests hold none.
_CLIENT_ONLY = {"datetime": st.datetimes(timezones=st.just(timezone.utc)), "date": st.dates(),
                "bytes": st.binary(max_size=4)}
_SCALARS = {"str": _text, "int": st.integers(), "bool": st.booleans(), "float": st.floats(allow_nan=False),
            "object": st.one_of(_text, st.integers())}  # object: IntOrString


def values(type_name: str, depth: int, walked: bool) -> st.SearchStrategy:
    """Values of one field, by the model's `openapi_types` name; `walked`:
    only types the walk covers."""
    if (m := _LIST.fullmatch(type_name)) is not None:
        return st.lists(values(m.group(1), depth, walked), max_size=2)
    if (m := _DICT.fullmatch(type_name)) is not None:
        return st.dictionaries(_text, values(m.group(1), depth, walked), max_size=3)
    if type_name in _SCALARS:
        return _SCALARS[type_name]
    if type_name in _CLIENT_ONLY:
        return st.nothing() if walked else _CLIENT_ONLY[type_name]
    return instances(getattr(client, type_name), depth - 1, walked)


def _leaf(type_name: str) -> str:
    while (m := _LIST.fullmatch(type_name) or _DICT.fullmatch(type_name)) is not None:
        type_name = m.group(1)
    return type_name


@functools.cache
def _walkable(type_name: str) -> bool:
    """A type of which values without a date exist (no required date)."""
    if type_name in _CLIENT_ONLY:
        return False
    if type_name in _SCALARS:
        return True
    cls = getattr(client, type_name)
    return all(_walkable(_leaf(cls.openapi_types[name])) for name, field in cls.model_fields.items()
               if field.is_required())


def instances(cls: type, depth: int = 4, walked: bool = False) -> st.SearchStrategy:
    """Models of `cls` with its required fields and a random subset of the
    others set; below `depth` only the required ones. `walked`: no field of
    a type the walk leaves to the client."""
    required = {name for name, field in cls.model_fields.items() if field.is_required()}
    kinds = {name: kind for name, kind in cls.openapi_types.items() if not walked or _walkable(_leaf(kind))}
    optional = {} if depth <= 0 else {name: values(kinds[name], depth, walked) for name in kinds if name not in required}
    fields = {name: values(kinds[name], depth, walked) for name in required}

    def build(kwargs: dict):
        try:
            return cls(**kwargs)
        except ValidationError:  # a field with a format check (a base64 string): the required ones only
            try:
                return cls(**{name: kwargs[name] for name in required})
            except ValidationError:
                reject()

    return st.fixed_dictionaries(fields, optional=optional).map(build)


def same(a, b) -> bool:
    """Equal, with the same types (True is not 1) and the same key order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def reachable(roots: list[type]) -> list[type]:
    """Every model type a field of `roots` (or of theirs) can hold."""
    found: dict[str, type] = {}
    todo = [cls.__name__ for cls in roots]
    while todo:
        name = todo.pop()
        if name not in found:
            found[name] = getattr(client, name)
            todo += [_leaf(kind) for kind in found[name].openapi_types.values() if hasattr(client, _leaf(kind))]
    return [found[name] for name in sorted(found)]


@pytest.mark.parametrize("cls", TOP_LEVEL, ids=lambda c: c.__name__)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_the_walk_is_what_the_client_serialises(cls, data):
    obj = data.draw(instances(cls, walked=True))
    assert same(models.plain(obj), _client().sanitize_for_serialization(obj))


@pytest.mark.parametrize("cls", [c for c in reachable(TOP_LEVEL) if _walkable(c.__name__)], ids=lambda c: c.__name__)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_the_walk_is_what_the_client_serialises_for_every_type_a_manifest_can_hold(cls, data):
    # Deep documents rarely reach a probe's `exec` (its attribute is
    # var_exec): each type on its own, two levels down, does.
    obj = data.draw(instances(cls, depth=2, walked=True))
    assert same(models.plain(obj), _client().sanitize_for_serialization(obj))


@pytest.mark.parametrize("cls", TOP_LEVEL, ids=lambda c: c.__name__)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_a_model_with_dates_is_what_the_client_serialises(cls, data):
    obj = data.draw(instances(cls))
    assert same(serialise.to_plain(obj), _client().sanitize_for_serialization(obj))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.recursive(st.one_of(_text, st.integers(), st.booleans(), st.none(), instances(client.V1EnvVar, 2, walked=True)),
                    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_text, inner, max_size=3)),
                    max_leaves=8))
def test_lists_and_dicts_of_models_are_what_the_client_serialises(obj):
    assert same(serialise.to_plain(obj), _client().sanitize_for_serialization(obj))


def test_the_walk_covers_the_manifests(monkeypatch, emit_variants):
    """Every manifest of the golden sites is walked, none left to the
    client: else the speed-up would be silently lost (the goldens prove
    the bytes)."""

    def client_used():
        raise AssertionError("a manifest went to the client's serialiser")

    monkeypatch.setattr(serialise, "_api", client_used)
    assert emit_variants()


@pytest.mark.parametrize("value", [None, [None], {"a": None}, {1: "a"}, b"x"], ids=repr)
def test_what_the_walk_does_not_cover_goes_to_the_client(value):
    with pytest.raises(models.Unsupported):
        models.plain(value)
    assert same(serialise.to_plain(value), _client().sanitize_for_serialization(value))
