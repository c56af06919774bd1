"""The Kubernetes client's stand-in (compiler/lazy.py) resolves each model
class once: `kubernetes.client` loads its models through a module-level
`__getattr__`, which the stand-in must not take over, else every
`client.V1…` lookup of the back end is an import again."""

from __future__ import annotations

import kubernetes.client
import pytest

from compiler.lazy import lazy_module


def test_a_class_is_looked_up_once_and_kept():
    client = lazy_module("kubernetes.client")
    assert client.V1Job is kubernetes.client.V1Job
    assert client.__dict__["V1Job"] is kubernetes.client.V1Job  # the next lookup finds it here
    assert "__getattr__" not in client.__dict__  # the client's loader would answer every lookup


def test_an_unknown_name_is_an_attribute_error():
    client = lazy_module("kubernetes.client")
    with pytest.raises(AttributeError):
        client.NoSuchModel
