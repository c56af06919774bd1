"""Snakemake options given after `mlc run ... --`, checked before they reach
Snakemake (issue 16, item 5).

mlc itself sets the options that its progress lines, its summary and its
folder depend on; those are refused with a usage error naming mlc's own
flag where it has one, rather than passed on to break the run quietly."""

from __future__ import annotations

# long option -> what to use instead
_CONTROLLED = {
    "--snakefile": "mlc runs the folder's own Snakefile",
    "--directory": "mlc runs in the output folder (-o)",
    "--cores": "use `mlc run --cores N`",
    "--jobs": "use `mlc run --jobs N`",
    "--keep-going": "use `mlc run --keep-going`",
    "--dry-run": "use `mlc run --dry-run`",
    "--dryrun": "use `mlc run --dry-run`",
    "--nocolor": "mlc always sets it",
    "--rerun-incomplete": "mlc always sets it",
    "--printshellcmds": "mlc always sets it",
    "--unlock": "mlc clears a stale lock itself, or `snakemake --unlock` in the folder",
    "--summary": "use `mlc status`",
    "--detailed-summary": "use `mlc status`",
}
_SHORT = {"s": "--snakefile", "d": "--directory", "c": "--cores", "j": "--jobs", "k": "--keep-going",
          "n": "--dry-run", "p": "--printshellcmds", "S": "--summary", "D": "--detailed-summary"}


class PassThroughError(ValueError):
    """An option after `--` that mlc cannot pass on."""


def checked(options: list[str]) -> list[str]:
    """The options, unchanged, or PassThroughError saying which one is mlc's."""
    if options and not options[0].startswith("-"):
        raise PassThroughError(f"unexpected argument {options[0]!r}: Snakemake options go after `--` "
                               "(`mlc run exp.mlx -- --forcerun train`)")
    for option in options:
        controlled = _controlled(option)
        if controlled is not None:
            raise PassThroughError(f"`{option}` cannot be passed to Snakemake: it is {controlled} "
                                   f"({_CONTROLLED[controlled]})")
    return options


def _controlled(option: str) -> str | None:
    """The controlled long option `option` names, if any. Snakemake accepts
    unambiguous abbreviations (`--snakef`), so a prefix counts too."""
    if option.startswith("--") and len(option) > 2:
        name = option.split("=", 1)[0]
        return next((c for c in _CONTROLLED if c.startswith(name)), None)
    if option.startswith("-") and len(option) > 1:
        letters = option[1:]
        if letters[0] in _SHORT:  # `-j4`, `-c 2`
            return _SHORT[letters[0]]
        if letters.isalpha():  # bundled flags: `-Fn`
            return next((_SHORT[c] for c in letters if c in _SHORT), None)
    return None
