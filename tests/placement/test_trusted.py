"""placement.trusted.made: a model built without validation is the model
validation would build, and a class with a hook it would skip is refused."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, PrivateAttr

from compiler.ir import Assignment, OutputRef, Route, Transfer
from compiler.placement.trusted import made


def test_a_made_model_equals_the_validated_one():
    ref = {"kind": "output", "instance": "train[lr=0.1]", "output": "model"}
    assignment = {"unit": "train", "kind": "instance", "site": "hpc", "pool": "gpu", "start": 0.0, "finish": 3.5,
                  "cost": 1.25, "reason": "hpc.gpu: the only pool it may use", "shape": None}
    for cls, values in ((OutputRef, ref), (Assignment, assignment)):
        built, validated = made(cls, dict(values)), cls(**values)
        assert built == validated
        assert built.model_dump_json() == validated.model_dump_json()
        assert built.model_fields_set == validated.model_fields_set
    transfer = {"id": "to_cloud__train_model_abc123", "source_site": "hpc", "target_site": "cloud",
                "what": made(OutputRef, dict(ref)), "path": "train/model", "target_path": "train/model",
                "route": Route(kind="direct-pull"), "size": 10, "kind": "file", "consumers": ["eval"],
                "start": 3.5, "finish": 4.0, "cost": 0.0}
    assert made(Transfer, dict(transfer)) == Transfer(**transfer)


def test_a_model_with_a_hook_the_shortcut_would_skip_is_refused():
    class OwnNew(BaseModel):
        x: int

        def __new__(cls, *args, **kwargs):
            return super().__new__(cls)

    class Private(BaseModel):
        x: int
        _seen: int = PrivateAttr(default=0)

    class PostInit(BaseModel):
        x: int

        def model_post_init(self, context) -> None:
            pass

    for cls in (OwnNew, Private, PostInit):
        with pytest.raises(TypeError, match="needs model_construct"):
            made(cls, {"x": 1})
