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


HELPER = "local_results"  # defined at the top of the Snakefile (templates/Snakefile.j2)


def output_source(site: str, output: Output, span: Span | None) -> tuple[str, bool]:
    """The output as Snakefile source (a starred list: empty when the work
    tree's own name holds a brace, which Snakemake would read as a wildcard),
    and whether it is a directory."""
    return (f"*{HELPER}({literal(site, 'a site name', span)}, "
            f"{file_literal(output.path.rstrip('/'), span)})"), output.kind == "dir"
