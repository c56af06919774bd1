"""A stage's software environment (`modules`, `site_modules`, `conda`,
`venv`, `setup`) and its Slurm options (`constraint`, `exclusive`,
`reservation`, `requeue`, `signal`, and the `sbatch = [...]` escape hatch).

Every value here ends up in a shell script (quoted) or on a `#SBATCH` line,
which sbatch reads itself: values are checked against small alphabets so a
mistake is reported at its line rather than by the cluster at 3 a.m."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .. import ir, shell_context
from ..diagnostics import did_you_mean, help_
from . import ast as A
from . import sbatch_table as T
from .context import Context
from .evaluate import BAD

# Module names: Lmod/Tcl names with versions (`cuda/12.1`, `gcc@11`), never an option.
_MODULE = re.compile(r"[A-Za-z0-9_.+/:@%=,][A-Za-z0-9_.+/:@%=,-]*")
_CONDA_NAME = re.compile(r"[A-Za-z0-9_.+][A-Za-z0-9_.+-]*")
_CONDA_FILE = (".yml", ".yaml")
_MAX_CONDA_FILE = 1024**2
# Slurm feature expressions: names joined by & | , with [ ] ( ) and *count.
_CONSTRAINT = re.compile(r"[A-Za-z0-9_.:&|,\[\]()*=-]+")
_RESERVATION = re.compile(r"[A-Za-z0-9_.+-]+(,[A-Za-z0-9_.+-]+)*")
_SIGNALS = ("USR1", "USR2", "TERM", "INT", "HUP", "QUIT", "ALRM", "CONT", "URG")
_MAX_SIGNAL_SECONDS = 65535  # Slurm keeps the offset in 16 bits


def lower(ctx: Context, merged: dict, image: str | None, time_limit: float) -> tuple[ir.Software, ir.SlurmOptions]:
    """The IR of a stage's environment and Slurm options; a bad part is
    reported and left at its default."""
    # Most stages set none of these: they share one default instance.
    software = _software(ctx, merged, image) if not merged.keys().isdisjoint(_SOFTWARE_FIELDS) else NO_SOFTWARE
    slurm = _slurm(ctx, merged, time_limit) if not merged.keys().isdisjoint(_SLURM_FIELDS) else NO_SLURM
    return software, slurm


_SOFTWARE_FIELDS = frozenset({"modules", "site_modules", "conda", "venv", "setup"})
_SLURM_FIELDS = frozenset({"constraint", "exclusive", "reservation", "requeue", "signal", "sbatch"})
NO_SOFTWARE = ir.Software()  # what a stage that sets none of the fields gets (immutable, shared)
NO_SLURM = ir.SlurmOptions()


def _span(merged: dict, name: str):
    return merged[name][2].value.pos.span()


def _items(merged: dict, name: str) -> list:
    """(value, span) of each entry of a list field."""
    values, _, f = merged[name]
    raw = f.value.items if isinstance(f.value, A.ListV) and len(f.value.items) == len(values) else None
    return [(v, (raw[i].pos if raw else f.value.pos).span()) for i, v in enumerate(values)]


# --- software ------------------------------------------------------------

def _software(ctx: Context, merged: dict, image: str | None) -> ir.Software:
    modules = []
    for name, span in _items(merged, "modules") if "modules" in merged else []:
        if _MODULE.fullmatch(name):
            modules.append(name)
        else:
            ctx.diags.error("E0550", f"`{_short(name)}` is not a module name", span,
                            help_("a module name has no spaces, quotes or shell characters and does not "
                                  "start with `-`, e.g. `cuda/12.1`"))
    conda = _conda(ctx, merged) if "conda" in merged else None
    venv = _venv(ctx, merged) if "venv" in merged else None
    setup = _setup(ctx, merged) if "setup" in merged else None
    if "conda" in merged and "venv" in merged:
        ctx.diags.error("E0551", "a stage activates either a conda environment or a virtual environment",
                        _span(merged, "venv"), help_("keep `conda` or `venv`, not both"))
        venv = None
    for name in ("conda", "venv"):
        if image is not None and name in merged:
            ctx.diags.error("E0551", f"a stage with an `image` gets its software from the image, not `{name}`",
                            _span(merged, name),
                            help_("drop the image to use the host's software, or build the environment "
                                  "into the image"))
    return ir.Software(modules=modules, site_modules=merged.get("site_modules", (True,))[0],
                       conda=conda, venv=venv, setup=setup)


def _conda(ctx: Context, merged: dict) -> ir.CondaEnv | None:
    text, _, f = merged["conda"]
    span = f.value.pos.span()
    if not text.endswith(_CONDA_FILE):
        if _CONDA_NAME.fullmatch(text) or (text.startswith("/") and _printable(text)):
            return ir.CondaEnv(name=text)
        ctx.diags.error("E0550", f"`{_short(text)}` is neither a conda environment's name nor a `.yml` file",
                        span, help_('name an existing environment (`conda = "torch"`) or an environment '
                                    'file next to the experiment (`conda = "envs/train.yml"`)'))
        return None
    path = Path(f.value.pos.file).parent / text
    try:
        data = path.read_bytes()[:_MAX_CONDA_FILE + 1]
        spec = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = "it is not UTF-8 text" if isinstance(error, UnicodeDecodeError) else \
            (error.strerror or str(error)).lower()
        ctx.diags.error("E0550", f"cannot read the conda environment file `{_short(text)}`: {reason}", span,
                        help_("the path is relative to the file that declares the stage"))
        return None
    if len(data) > _MAX_CONDA_FILE:
        ctx.diags.error("E0550", f"the conda environment file `{_short(text)}` is over 1 MiB", span,
                        help_("an environment file lists packages; it is never that large"))
        return None
    return ir.CondaEnv(file=text, spec=spec, digest=hashlib.sha256(data).hexdigest())


def _venv(ctx: Context, merged: dict) -> str | None:
    text = merged["venv"][0]
    if text and _printable(text):
        return text.rstrip("/") or "/"
    ctx.diags.error("E0550", f"`{_short(text)}` is not a virtual environment's directory",
                    _span(merged, "venv"), help_("a path without control characters, absolute or "
                                                 "relative to the site's work directory"))
    return None


def _setup(ctx: Context, merged: dict) -> str | None:
    """User shell, run as written: nothing of mlc's is inserted into it."""
    raw = merged["setup"][0]
    span = raw.pos.span()
    if not isinstance(raw, A.Str):
        ctx.diags.error("E0303", f"`setup` is shell text, found {ctx.ev.describe(raw)}", span)
        return None
    text = raw.literal()
    if text is None:
        ctx.diags.error("E0550", "`setup` is shell text run as written; `${...}` values cannot reach it",
                        span, help_("pass values through `env = {NAME: ...}` and write `$NAME`, or "
                                    "use them in `run`"))
        return None
    try:
        shell_context.render([text])
    except shell_context.ShellSyntaxError as error:
        ctx.diags.error("E0550", f"mlc cannot read this setup text: {error}", span,
                        help_("`setup` runs before the command in the same shell; write it so "
                              "bash would accept it on its own"))
        return None
    return text.strip("\n") or None


# --- Slurm options -------------------------------------------------------

def _slurm(ctx: Context, merged: dict, time_limit: float) -> ir.SlurmOptions:
    constraint = _checked(ctx, merged, "constraint", _CONSTRAINT,
                          'a feature expression without spaces, e.g. "a100&ib" or "[rack1|rack2]"')
    reservation = _checked(ctx, merged, "reservation", _RESERVATION,
                           "letters, digits and `_.+-` (several: separated by commas)")
    signal = _signal(ctx, merged, time_limit) if "signal" in merged else None
    extra = T.check_entries(ctx, _items(merged, "sbatch")) if "sbatch" in merged else []
    return ir.SlurmOptions(constraint=constraint, exclusive=merged.get("exclusive", (False,))[0],
                           reservation=reservation, requeue=merged.get("requeue", (None,))[0],
                           signal=signal, extra=extra)


def _checked(ctx: Context, merged: dict, name: str, pattern: re.Pattern, hint: str) -> str | None:
    if name not in merged:
        return None
    text = merged[name][0]
    if pattern.fullmatch(text):
        return text
    ctx.diags.error("E0552", f"`{_short(text)}` cannot be passed to Slurm as `{name}`",
                    _span(merged, name), help_(hint))
    return None


def _signal(ctx: Context, merged: dict, time_limit: float) -> ir.SlurmSignal | None:
    """`signal = USR1(before = 5m)`: sbatch --signal=B:USR1@300."""
    raw, scope, _ = merged["signal"]
    example = help_("write `signal = USR1(before = 5m)`: the signal, and how long before the time limit")
    if not isinstance(raw, (A.Call, A.Ref)):
        ctx.diags.error("E0303", f"expected a signal, found {ctx.ev.describe(raw)}", raw.pos.span(), example)
        return None
    name = raw.name if isinstance(raw, A.Call) else raw.dotted
    name_span = (raw.name_pos if isinstance(raw, A.Call) else raw.pos).span()
    bare = name.removeprefix("SIG")
    if bare not in _SIGNALS:
        ctx.diags.error("E0552", f"`{name}` is not a signal a job can be sent", name_span,
                        did_you_mean(bare.upper(), _SIGNALS) or help_(
                            "signals: " + ", ".join(f"`{s}`" for s in _SIGNALS)))
        return None
    kwargs = raw.kwargs if isinstance(raw, A.Call) else []
    if (isinstance(raw, A.Call) and raw.args) or [k.name for k in kwargs] != ["before"]:
        ctx.diags.error("E0552", f"`{name}(...)` takes one argument, `before = <duration>`",
                        raw.pos.span(), example)
        return None
    seconds = ctx.ev.value(kwargs[0].value, ("duration",), scope)
    if seconds is BAD:
        return None
    whole = int(-(-seconds // 1))
    span = kwargs[0].value.pos.span()
    if not 1 <= whole <= _MAX_SIGNAL_SECONDS:
        ctx.diags.error("E0552", "`before` must be between 1s and 65535s", span,
                        help_("Slurm counts the offset in seconds, up to about 18h"))
        return None
    if whole >= time_limit:
        ctx.diags.error("E0552", "`before` must be shorter than the stage's `time`", span,
                        help_("the signal is sent this long before the time limit: a few minutes "
                              "is usually enough to write a checkpoint"))
        return None
    return ir.SlurmSignal(name=bare, before=whole)


def _printable(text: str) -> bool:
    return text.isprintable()


def _short(text: str) -> str:
    shown = text if len(text) <= 40 else text[:37] + "..."
    return shown.encode("unicode_escape").decode("ascii") if not shown.isprintable() else shown
