"""`range(N)`, `range(A, B)` and `range(A, B, STEP)`: whole numbers as
Python counts them (B excluded), wherever a list of numbers is taken (a sweep
axis, a list param). The length is known before any member exists, so a
range of 10^18 members is refused as quickly as one of ten."""

from __future__ import annotations

from ..diagnostics import help_
from . import ast as A
from . import limits as L
from .evaluate import BAD, Evaluator, Scope

USAGE = "write `range(N)` for 0 .. N-1, `range(A, B)` for A .. B-1, or `range(A, B, STEP)`"


def is_range(v) -> bool:
    return isinstance(v, A.Call) and v.name == "range"


def range_members(ev: Evaluator, call: A.Call, scope: Scope, *, what: str = "range") -> range | object:
    """The members, or BAD (reported). `what` names the list in messages."""
    if call.kwargs:
        ev.diags.error("E0572", "`range(...)` takes its numbers by position", call.kwargs[0].name_pos.span(),
                       help_(USAGE))
        return BAD
    if not 1 <= len(call.args) <= 3:
        ev.diags.error("E0572", f"`range(...)` takes 1 to 3 whole numbers, {len(call.args)} given",
                       call.pos.span(), help_(USAGE))
        return BAD
    numbers = [ev.value(arg, ("int",), scope) for arg in call.args]
    if any(n is BAD for n in numbers):
        return BAD
    start, stop, step = (0, numbers[0], 1) if len(numbers) == 1 else (*numbers[:2], numbers[2] if len(numbers) == 3 else 1)
    if step == 0:
        ev.diags.error("E0572", "the step of `range(...)` is zero", call.args[2].pos.span(),
                       help_("a step of 1 counts up, -1 counts down"))
        return BAD
    members = range(start, stop, step)
    if not members:
        hint = (f"it counts up from {start} and stops before {stop}: make the end larger, or count down "
                f"with a negative step" if step > 0 else
                f"it counts down from {start} and stops after {stop}: make the end smaller")
        ev.diags.error("E0573", f"`range({', '.join(map(str, numbers))})` has no members", call.pos.span(), help_(hint))
        return BAD
    if len(members) > L.MAX_SWEEP_MEMBERS:
        ev.diags.error("E0507", f"`range({', '.join(map(str, numbers))})` has {len(members)} members (at most {L.MAX_SWEEP_MEMBERS})",
                       call.pos.span(),
                       help_("each member of a sweep becomes a job; count a coarser grid, or loop inside "
                             "one stage's command"))
        return BAD
    return members

