"""Which fields each kind of block accepts, their types, and which are required.

The grammar accepts any `name = value`; this table gives the names meaning,
so a misspelt field gets "unknown field `memroy`; did you mean `memory`?"
instead of a parse error."""

from __future__ import annotations

from dataclasses import dataclass

# Types are small tuples so they print and compare easily:
#   ("int",) ("float",) ("str",) ("bool",) ("size",) ("duration",) ("bandwidth",)
#   ("price",) ("egress",) ("gpus",) ("list", T) ("map", T) ("enum", choices)
#   ("site",)        a site name
#   ("placement",)   a site or site.pool, or a list of them
#   ("units",)       a list of stage/service names (for `after`)
#   ("estimate",)    a duration, or a map from GPU type / pool / site to durations
#   ("objective",)   makespan | cost | weighted(time = w, cost = w)
#   ("env",)         a map from variable names to strings, numbers or secrets
Type = tuple

INT: Type = ("int",)
FLOAT: Type = ("float",)
STR: Type = ("str",)
BOOL: Type = ("bool",)
SIZE: Type = ("size",)
DURATION: Type = ("duration",)
BANDWIDTH: Type = ("bandwidth",)
PRICE: Type = ("price",)
EGRESS: Type = ("egress",)
GPUS: Type = ("gpus",)
SITE: Type = ("site",)
PLACEMENT: Type = ("placement",)
UNITS_LIST: Type = ("units",)
ESTIMATE: Type = ("estimate",)
OBJECTIVE: Type = ("objective",)
ENV: Type = ("env",)
COMMAND: Type = ("command",)  # a string whose ${in.x}/${out.x} name ports


def list_of(t: Type) -> Type:
    return ("list", t)


def map_of(t: Type) -> Type:
    return ("map", t)


def enum(*choices: str) -> Type:
    return ("enum", choices)


def type_name(t: Type) -> str:
    if t[0] == "list":
        return f"list[{type_name(t[1])}]"
    if t[0] == "map":
        return f"map of {type_name(t[1])}"
    if t[0] == "enum":
        return " | ".join(t[1])
    return {
        "int": "a whole number", "float": "a number", "str": "a string", "bool": "a boolean",
        "size": "a size", "duration": "a duration", "bandwidth": "a bandwidth",
        "price": "a price per hour", "egress": "a price per GB", "gpus": "GPUs (e.g. 4 x a100)",
        "site": "a site name", "placement": "a site or site.pool (or a list of them)",
        "units": "a list of stage or service names", "estimate": "a duration or a map of durations",
        "objective": "makespan, cost or weighted(time = ..., cost = ...)",
        "env": "a map of environment variables", "command": "a command string",
    }.get(t[0], t[0])


# Types a user can name in `param x: T` and template parameters.
USER_TYPES: dict[str, Type] = {
    "int": INT, "float": FLOAT, "str": STR, "bool": BOOL, "size": SIZE,
    "duration": DURATION, "bandwidth": BANDWIDTH,
}


@dataclass(frozen=True)
class FieldSpec:
    type: Type
    required: bool = False


def _f(t: Type, required: bool = False) -> FieldSpec:
    return FieldSpec(t, required)


EXPERIMENT = {
    "description": _f(STR),
    "objective": _f(OBJECTIVE),
    "deadline": _f(DURATION),
    "budget": _f(FLOAT),
}

SECRET = {"kubernetes": _f(STR), "env": _f(STR), "file": _f(STR)}

DATASET = {"uri": _f(STR, True), "size": _f(SIZE), "at": _f(SITE, True)}

SITE_KINDS = ("slurm", "kubernetes", "local")

SITE_FIELDS = {
    "slurm": {
        "login": _f(STR), "account": _f(STR), "qos": _f(STR), "modules": _f(list_of(STR)),
        "scratch": _f(STR), "gpu_directive": _f(enum("gres", "gpus")),
        "container": _f(enum("apptainer", "singularity")),
    },
    "kubernetes": {
        "context": _f(STR), "namespace": _f(STR), "volume": _f(STR),
        "image_pull_secrets": _f(list_of(STR)), "default_image": _f(STR),
    },
    "local": {
        "cpus": _f(INT, True), "memory": _f(SIZE, True), "gpus": _f(GPUS), "workdir": _f(STR),
        "speed": _f(FLOAT),
    },
}

# The block keyword each site kind uses for its pools.
POOL_KEYWORD = {"slurm": "partition", "kubernetes": "pool"}

POOL = {
    "nodes": _f(INT), "cpus": _f(INT, True), "memory": _f(SIZE, True), "gpus": _f(GPUS),
    "max_time": _f(DURATION), "price": _f(PRICE), "speed": _f(FLOAT),
    "selector": _f(map_of(STR)), "tolerations": _f(list_of(STR)),
}

LINK = {"bandwidth": _f(BANDWIDTH, True), "latency": _f(DURATION), "egress": _f(EGRESS)}

_UNIT_COMMON = {
    "image": _f(STR), "run": _f(COMMAND), "cpus": _f(INT), "memory": _f(SIZE), "gpus": _f(GPUS),
    "env": _f(ENV), "on": _f(PLACEMENT), "not_on": _f(PLACEMENT), "after": _f(UNITS_LIST),
}

STAGE = {
    **_UNIT_COMMON, "time": _f(DURATION), "estimate": _f(ESTIMATE), "retries": _f(INT),
}

SERVICE = {
    **_UNIT_COMMON, "replicas": _f(INT), "port": _f(INT, True), "health": _f(STR),
}

# Defaults, stated once: the docs quote these.
DEFAULT_CPUS = 1
DEFAULT_MEMORY = 2 * 1024**3
DEFAULT_TIME = 3600.0
DEFAULT_ESTIMATE_FRACTION = 0.5  # no estimate: assume half the time limit
IMPLICIT_LOCAL = {"name": "local", "cpus": 4, "memory": 8 * 1024**3}
