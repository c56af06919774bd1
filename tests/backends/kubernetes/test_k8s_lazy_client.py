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


def _fresh(code: str) -> str:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_stand_in_imports_the_models_without_the_rest_of_the_package():
    # kubernetes/__init__ imports config, dynamic, stream and more (~0.1 s),
    # none of which a compile uses.
    loaded = _fresh("import sys\nfrom compiler.lazy import lazy_module\n"
                    "assert lazy_module('kubernetes.client').V1Job.__name__ == 'V1Job'\n"
                    "print(' '.join(sorted({m.split('.')[1] for m in sys.modules if m.startswith('kubernetes.')})))")
    assert loaded.split() == ["client"]


def test_the_rest_of_the_package_stays_reachable_after_the_stand_in():
    out = _fresh("from compiler.lazy import lazy_module\nlazy_module('kubernetes.client').V1Job\n"
                 "import kubernetes\nfrom kubernetes import watch\n"
                 "from importlib.metadata import version\n"
                 "print(kubernetes.config.__name__, watch.__name__, hasattr(kubernetes, 'no_such_part'),\n"
                 "      kubernetes.__version__ == version('kubernetes'))")
    assert out == "kubernetes.config kubernetes.watch False True"
