"""IR models built from values placement computed and checked itself.

A plan at 20,000 tasks holds about 60,000 models (assignments, transfers
and the references they move); pydantic's validation, and even its
`model_construct` (a Python loop over the fields, aliases and defaults),
were a sixth of placing it. `made(cls, values)` does what `model_construct`
ends up doing when every field is given by its name and the model has no
post-init hook: set the instance's dict and its fields-set, nothing else.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_set = object.__setattr__
# One fields-set per class, shared, as compiler/ir.py shares them: the IR
# models are frozen and model_copy copies the set before changing it.
_ALL: dict[type, set[str]] = {}


def fields(cls: type[BaseModel]) -> set[str]:
    found = _ALL.get(cls)
    if found is None:
        if cls.__pydantic_post_init__ or cls.__pydantic_root_model__ or cls.__private_attributes__:
            raise TypeError(f"{cls.__name__} needs model_construct")  # a hook this shortcut would skip
        found = _ALL[cls] = set(cls.__pydantic_fields__)
    return found


def made(cls: type[M], values: dict) -> M:
    """An instance of `cls` holding `values`: every field of the model, in
    its declaration order (what model_construct would put in the dict)."""
    model = cls.__new__(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", _ALL.get(cls) or fields(cls))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model
