"""The `sbatch = ["--option=value", ...]` escape hatch: each entry is one
long sbatch option from the table below, written out in full (sbatch also
takes abbreviations such as `--ti`, which could hide an option mlc sets).

Options mlc sets itself, options a typed field already covers, and options
that would break how mlc submits and follows a job are refused with the
reason; anything else not in the table is unknown."""

from __future__ import annotations

import re

from ..diagnostics import did_you_mean, help_
from .context import Context

_ENTRY = re.compile(r"--([a-z][a-z0-9-]*)(?:=(.*))?", re.DOTALL)
# No spaces, quotes or shell characters: the value reaches a `#SBATCH` line,
# which sbatch splits and unquotes by its own rules.
_VALUE = re.compile(r"[A-Za-z0-9_.,:@%+=/*\[\]-]+")

# Options that take a value (`--mail-type=END`).
WITH_VALUE = frozenset({
    "acctg-freq", "begin", "bb", "comment", "cores-per-socket", "core-spec", "cpu-freq", "deadline",
    "delay-boot", "distribution", "exclude", "extra", "extra-node-info", "gpu-bind", "gpu-freq",
    "gres-flags", "hint", "licenses", "mail-type", "mail-user", "mcs-label", "mem-bind", "mincpus",
    "network", "nice", "nodelist", "prefer", "priority", "profile", "propagate", "sockets-per-node",
    "switches", "thread-spec", "threads-per-core", "time-min", "tmp", "wckey",
})
# Options that are a switch (`--contiguous`).
FLAGS = frozenset({"contiguous", "overcommit", "oversubscribe", "spread-job", "use-min-nodes"})

# Set by mlc from the stage, the pool and the site: the field to write instead.
SET_BY_MLC = {
    "job-name": "mlc names the job after the experiment and the stage",
    "partition": "the partition is the pool placement chooses; pin it with `on = site.partition`",
    "account": "set `account` on the site", "qos": "set `qos` on the site",
    "nodes": "mlc sets it from the stage", "ntasks": "mlc sets it from the stage",
    "ntasks-per-node": "mlc sets it from the stage", "cpus-per-task": "write `cpus = N`",
    "mem": "write `memory = 16GiB`", "mem-per-cpu": "write `memory = ...` (per job)",
    "mem-per-gpu": "write `memory = ...` (per job)", "gpus": "write `gpus = 4 x a100`",
    "gres": "write `gpus = 4 x a100`", "gpus-per-node": "write `gpus = 4 x a100`",
    "gpus-per-task": "write `gpus = 4 x a100`", "time": "write `time = 2h`",
    "output": "mlc writes logs to logs/ and reads them back", "error": "mlc writes logs to logs/",
    "open-mode": "mlc writes logs to logs/", "array": "a sweep becomes the job array",
    "chdir": "the job runs in the experiment's work root", "dependency": "the workflow orders the jobs",
}
TYPED = {
    "constraint": 'write `constraint = "a100&ib"`', "exclusive": "write `exclusive = true`",
    "reservation": 'write `reservation = "name"`', "requeue": "write `requeue = true`",
    "no-requeue": "write `requeue = false`", "signal": "write `signal = USR1(before = 5m)`",
}
# Would break how mlc submits and follows the job.
REFUSED = {
    "hold": "a held job never starts and the run would wait for it forever",
    "wait": "mlc follows the job itself", "parsable": "mlc reads sbatch's answer itself",
    "test-only": "the job would never be submitted", "wrap": "the job's script is mlc's",
    "export": "mlc passes the environment the stage asks for",
    "export-file": "mlc passes the environment the stage asks for",
    "get-user-env": "mlc passes the environment the stage asks for",
    "clusters": "the site is one cluster; declare another site for another cluster",
    "uid": "jobs run as the user who submits them", "gid": "jobs run as the user who submits them",
    "kill-on-invalid-dep": "the workflow orders the jobs", "batch": "mlc picks nodes through the partition",
}


def check_entries(ctx: Context, entries: list[tuple[str, object]]) -> list[tuple[str, str | None]]:
    """The (option, value) pairs of `sbatch = [...]` that pass; each refused
    entry is reported at its position."""
    out: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    for text, span in entries:
        problem = _problem(text, seen)
        if problem is not None:
            message, hint = problem
            ctx.diags.error("E0553", message, span, hint)
            continue
        match = _ENTRY.fullmatch(text)
        assert match is not None
        seen.add(match[1])
        out.append((match[1], match[2]))
    return out


def _problem(text: str, seen: set[str]):
    """(message, help) when the entry is refused, else None."""
    shown = text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
    match = _ENTRY.fullmatch(text)
    if match is None:
        if text.startswith("-") and not text.startswith("--"):
            return (f"`{shown}` is a short option",
                    help_("write each option's long form, e.g. `--mail-type=END`"))
        return (f"`{shown}` is not one sbatch option",
                help_('write one `--option=value` per entry, e.g. `sbatch = ["--mail-type=END", '
                      '"--mail-user=me@uni.edu"]`'))
    name, value = match[1], match[2]
    if name in SET_BY_MLC:
        return f"mlc sets `--{name}` itself", help_(SET_BY_MLC[name])
    if name in TYPED:
        return f"`--{name}` has a field of its own", help_(TYPED[name])
    if name in REFUSED:
        return f"`--{name}` cannot be used with mlc", help_(REFUSED[name])
    if name not in WITH_VALUE and name not in FLAGS:
        return (f"unknown sbatch option `--{name}`",
                did_you_mean(f"--{name}", sorted(f"--{o}" for o in WITH_VALUE | FLAGS)) or
                help_("mlc passes the options of its table only (docs/language.md lists them)"))
    if name in seen:
        return f"`--{name}` is given twice", help_("keep one")
    if name in FLAGS and value is not None:
        return f"`--{name}` is a switch and takes no value", help_(f"write `--{name}`")
    if name in WITH_VALUE and not value:
        return f"`--{name}` needs a value", help_(f"write `--{name}=...`")
    if value is not None and not _VALUE.fullmatch(value):
        return (f"the value of `--{name}` has a character mlc does not pass to sbatch",
                help_("letters, digits and `_.,:@%+=/*[]-` only: no spaces, quotes, newlines or "
                      "shell characters"))
    return None
