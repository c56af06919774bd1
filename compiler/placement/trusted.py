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

# BaseModel's own slot descriptors, called directly: object.__setattr__
# would look each up again on every model.
_SLOTS = BaseModel.__dict__
_set_dict = _SLOTS["__dict__"].__set__
_set_fields_set = _SLOTS["__pydantic_fields_set__"].__set__
_set_extra = _SLOTS["__pydantic_extra__"].__set__
_set_private = _SLOTS["__pydantic_private__"].__set__
# object.__new__ itself: `cls.__new__(cls)` looks it up through the
# model's metaclass on every model (a fifth of the time of `made`).
_new = object.__new__
# One fields-set per class, shared, as compiler/ir.py shares them: the IR
# models are frozen and model_copy copies the set before changing it.
_ALL: dict[type, set[str]] = {}


def fields(cls: type[BaseModel]) -> set[str]:
    found = _ALL.get(cls)
    if found is None:
        if (cls.__pydantic_post_init__ or cls.__pydantic_root_model__ or cls.__private_attributes__
                or cls.__new__ is not _new):
            raise TypeError(f"{cls.__name__} needs model_construct")  # a hook this shortcut would skip
        found = _ALL[cls] = set(cls.__pydantic_fields__)
    return found


def made(cls: type[M], values: dict) -> M:
    """An instance of `cls` holding `values`: every field of the model, in
    its declaration order (what model_construct would put in the dict)."""
    model = _new(cls)
    _set_dict(model, values)
    _set_fields_set(model, _ALL.get(cls) or fields(cls))
    _set_extra(model, None)
    _set_private(model, None)
    return model
