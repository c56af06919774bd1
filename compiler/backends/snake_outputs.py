"""A stage's outputs as Snakemake outputs, where Snakemake can see them (a
local site's work tree): a deleted result then makes Snakemake run its step
again, and everything after it, and `snakemake --report` lists results, not
only the done flags. The work tree comes from config.yaml at run time, as it
does for the scripts."""

from __future__ import annotations

from ..ir import Output, Span
from .snake_literals import file_literal, literal


def declarable(output: Output) -> bool:
    """Snakemake reads braces in a file name as wildcards, with no escape:
    such an output stays undeclared (mlc run still notices it gone: runner/results)."""
    return "{" not in output.path and "}" not in output.path


def output_source(site: str, output: Output, span: Span | None) -> tuple[str, bool]:
    """`<workdir>/<path>` as Snakefile source, and whether it is a directory.
    The target rule asks for it too: Snakemake reruns a step for a missing
    output only when something asks for that output."""
    workdir = f'config["sites"][{literal(site, "a site name", span)}]["workdir"]'
    # Not os.path.join: `snakemake --lint` flags it, and an absolute path
    # would drop the work tree (snake_literals.setting joins the same way).
    path = f"os.sep.join([{workdir}.rstrip(os.sep) or os.sep, {file_literal(output.path.rstrip('/'), span)}])"
    return path, output.kind == "dir"
