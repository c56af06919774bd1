"""Which fields each kind of block accepts, their types, which are required,
and the range of each number (a negative price or a zero speed is nonsense).

The grammar accepts any `name = value`; this table gives the names meaning,
so a misspelt field gets "unknown field `memroy`; did you mean `memory`?"
instead of a parse error."""

from __future__ import annotations

from dataclasses import dataclass

from .limits import MAX_INT, MAX_POOL_NODES, MAX_RETRIES, MAX_TASKS_PER_NODE

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
SIGNAL: Type = ("signal",)  # USR1(before = 5m): stage_options.py
SHAPES: Type = ("shapes",)  # a list of shape(...) calls (frontend/multinode.py)


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
        "signal": "a signal (e.g. USR1(before = 5m))",
        "shapes": "a list of shape(...)",
    }.get(t[0], t[0])


# Types a user can name in `param x: T` and template parameters.
USER_TYPES: dict[str, Type] = {
    "int": INT, "float": FLOAT, "str": STR, "bool": BOOL, "size": SIZE,
    "duration": DURATION, "bandwidth": BANDWIDTH,
}


@dataclass(frozen=True)
class Range:
    """The values a number or quantity field accepts (in base units). The
    types themselves bound every value too (evaluate.py, limits.py)."""

    low: float
    low_open: bool = False  # True: the value must be more than `low`
    high: float | None = None

    def problem(self, value: float) -> str | None:
        """What is wrong with `value` ("must be at least 1"), or None."""
        if value < self.low or (self.low_open and value == self.low):
            if self.low_open and self.low == 0:
                return "must be more than zero"
            return "must be zero or more" if self.low == 0 else f"must be at least {_num(self.low)}"
        if self.high is not None and value > self.high:
            return f"must be at most {_num(self.high)}"
        return None


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


MORE_THAN_ZERO = Range(0, low_open=True)
AT_LEAST_ONE = Range(1, high=MAX_INT)  # counts that reach an int32


@dataclass(frozen=True)
class FieldSpec:
    type: Type
    required: bool = False
    range: Range | None = None


def _f(t: Type, required: bool = False, range: Range | None = None) -> FieldSpec:
    return FieldSpec(t, required, range)


EXPERIMENT = {
    "description": _f(STR),
    "objective": _f(OBJECTIVE),
    "deadline": _f(DURATION, range=MORE_THAN_ZERO),
    "budget": _f(FLOAT, range=Range(0)),
    "code": _f(list_of(STR)),
}

SECRET = {"kubernetes": _f(STR), "env": _f(STR), "file": _f(STR)}

DATASET = {"uri": _f(STR, True), "size": _f(SIZE), "at": _f(SITE, True)}

# The site kinds, their fields and pool keywords: compiler/sites (registry.py).

POOL = {
    "nodes": _f(INT, range=Range(1, high=MAX_POOL_NODES)), "cpus": _f(INT, True, AT_LEAST_ONE),
    "memory": _f(SIZE, True, MORE_THAN_ZERO), "gpus": _f(GPUS),
    "max_time": _f(DURATION, range=MORE_THAN_ZERO), "price": _f(PRICE),
    "speed": _f(FLOAT, range=MORE_THAN_ZERO),
    "selector": _f(map_of(STR)), "tolerations": _f(list_of(STR)),
}

LINK = {"bandwidth": _f(BANDWIDTH, True, MORE_THAN_ZERO), "latency": _f(DURATION),
        "egress": _f(EGRESS)}

_UNIT_COMMON = {
    "image": _f(STR), "run": _f(COMMAND), "cpus": _f(INT, range=AT_LEAST_ONE),
    "memory": _f(SIZE, range=MORE_THAN_ZERO), "gpus": _f(GPUS),
    "env": _f(ENV), "on": _f(PLACEMENT), "not_on": _f(PLACEMENT), "after": _f(UNITS_LIST),
}

# A stage's software environment and Slurm options (stage_options.py).
_STAGE_OPTIONS = {
    "modules": _f(list_of(STR)), "site_modules": _f(BOOL), "conda": _f(STR), "venv": _f(STR),
    "setup": _f(COMMAND),
    "constraint": _f(STR), "exclusive": _f(BOOL), "reservation": _f(STR), "requeue": _f(BOOL),
    "signal": _f(SIGNAL), "sbatch": _f(list_of(STR)),
}

STAGE = {
    **_UNIT_COMMON, "time": _f(DURATION, range=MORE_THAN_ZERO), "estimate": _f(ESTIMATE),
    "retries": _f(INT, range=Range(0, high=MAX_RETRIES)),
    **_STAGE_OPTIONS,
    # Multi-node stages and resource shapes (frontend/multinode.py).
    "nodes": _f(INT, range=Range(1, high=MAX_POOL_NODES)),
    "launch": _f(enum("torchrun", "srun", "mpirun")),
    "tasks_per_node": _f(INT, range=Range(1, high=MAX_TASKS_PER_NODE)),
    "shapes": _f(SHAPES),
}

# What one `shape(...)` states; a field it leaves out is the stage's own.
SHAPE = {
    "nodes": STAGE["nodes"], "cpus": _UNIT_COMMON["cpus"], "memory": _UNIT_COMMON["memory"],
    "gpus": _UNIT_COMMON["gpus"], "time": STAGE["time"], "estimate": STAGE["estimate"],
    "on": _UNIT_COMMON["on"],
}

SERVICE = {
    **_UNIT_COMMON, "replicas": _f(INT, range=AT_LEAST_ONE), "port": _f(INT, True),  # 1..65535: stages.py
    "health": _f(STR), "lifetime": _f(enum("experiment", "persistent")),  # default: lifetimes.py
    "time": _f(DURATION, range=MORE_THAN_ZERO),  # on Slurm: the least time limit of its job
}

# Defaults, stated once: the docs quote these.
DEFAULT_CPUS = 1
DEFAULT_MEMORY = 2 * 1024**3
DEFAULT_TIME = 3600.0
DEFAULT_ESTIMATE_FRACTION = 0.5  # no estimate: assume half the time limit
IMPLICIT_LOCAL = {"name": "local", "cpus": 4, "memory": 8 * 1024**3}
