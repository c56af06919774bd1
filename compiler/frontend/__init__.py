"""The front end: .mlx source to the typed IR.

    load(path, overrides) -> (Experiment or None, Diagnostics, SourceCache)

Passes, in order: read and parse every file (loader, syntax), collect the
declarations (scope), lower the platform (params, sites, links, data sets,
secrets), lower stages and services (templates, sweeps), build the DAG
(graph), then check feasibility against the sites. Each pass reports into one
Diagnostics collector, and every pass runs whatever the earlier ones found,
so one run reports every independent error. A declaration with an error is
poisoned (Context.poisoned, UnitDraft.poisoned, evaluate.POISONED): it stays
known, so what refers to it is skipped rather than reported again, and a
unit whose resources or pins are in doubt is not judged for feasibility."""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager

from .. import ir
from ..diagnostics import Diagnostics, SourceCache
from . import ast as A
from .context import Context
from .evaluate import Evaluator, Scope
from .feasibility import check_feasible
from .graph import build_graph
from .loader import InputUnreadable, Parser, Program, Reader, load_program
from .platform import (lower_datasets, lower_links, lower_objective, lower_params, lower_secrets,
                       lower_sites)
from .project_files import check_inputs, lower_code
from .scope import collect
from .stages import lower_units

__all__ = ["check", "load", "InputUnreadable", "Parser", "Program", "Reader"]


@contextmanager
def _no_gc_pauses():
    """The front end allocates millions of small, acyclic objects; the cyclic
    collector would rescan the growing heap again and again (superlinear time
    on large files) and find nothing to free."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load(path: str, overrides: dict[str, str] | None = None, read: Reader | None = None
         ) -> tuple[ir.Experiment | None, Diagnostics, SourceCache]:
    """Check an experiment and lower it. The Experiment is None when there
    are errors. Raises InputUnreadable when `path` itself cannot be read.
    `read` supplies unsaved editor buffers (the language server)."""
    with _no_gc_pauses():
        diags = Diagnostics()
        sources = SourceCache()
        program = load_program(path, diags, sources, read)
        # The texts are parsed: a diagnostic's line is read again from its
        # file if one is shown. Nobody sees this Program: each stage's syntax
        # can go once it is lowered, so that the syntax tree shrinks while
        # the IR grows.
        sources.release()
        return _lower(program, overrides, diags, keep_syntax=False), diags, sources


def check(path: str, overrides: dict[str, str] | None = None, read: Reader | None = None,
          parse: Parser | None = None) -> tuple[Program, ir.Experiment | None, Diagnostics, SourceCache]:
    """`load`, also returning the parsed files (the language server indexes
    their syntax trees, even when the experiment has errors). `parse`
    replaces the parser (the language server's cache of syntax trees)."""
    with _no_gc_pauses():
        diags = Diagnostics()
        sources = SourceCache()
        program = load_program(path, diags, sources, read, parse)
        return program, _lower(program, overrides, diags, keep_syntax=True), diags, sources


def _lower(program: Program, overrides: dict[str, str] | None, diags: Diagnostics, *,
           keep_syntax: bool) -> ir.Experiment | None:
    """The passes after parsing; None when anything reported an error.
    Without `keep_syntax` the Program's stages lose their bodies once they
    are lowered (stages.lower_units)."""
    if not program.syntax_ok or program.main is None:
        return None
    decls = collect(program.modules, diags)
    ctx = Context(diags=diags, decls=decls, ev=Evaluator(diags, decls.kind), params=Scope({}))
    ctx.params, param_values = lower_params(ctx, overrides or {})
    name, description, objective, exp_span = lower_objective(ctx)
    secrets = lower_secrets(ctx)
    sites = lower_sites(ctx)
    links = lower_links(ctx)
    datasets = lower_datasets(ctx)
    drafts, groups = lower_units(ctx, keep_syntax=keep_syntax)
    instances, services = build_graph(ctx, drafts, datasets)
    main = program.main
    code = lower_code(ctx, main.path)
    if not name:
        name = _name_from_path(main.path)
        exp_span = ir.Span(file=main.path, line=1, column=1, end_line=1, end_column=1)
    experiment = ir.Experiment(
        name=name, description=description, source=main.path,
        sources=[m.path for m in program.modules], objective=objective, params=param_values,
        sites=sites, links=links, datasets=datasets, secrets=secrets, stages=groups,
        instances=instances, services=services, code=code, span=exp_span,
    )
    check_inputs(diags, experiment)
    check_feasible(experiment, diags, skip=_not_judgeable(ctx, drafts, experiment))
    return None if diags.has_errors else experiment


def _not_judgeable(ctx: Context, drafts: list, experiment: ir.Experiment) -> set[str]:
    """Units whose feasibility an earlier error leaves open: poisoned ones,
    and, when a site or pool had an error, every unit that might have run
    there (all but those pinned to sound sites and pools)."""
    skip = {dr.id for dr in drafts if dr.poisoned}
    sites = {site.name for site in ctx.decls.of_kind(A.Site)}
    if any(name in sites or "." in name for name in ctx.poisoned):
        skip.update(unit.id for unit in experiment.instances if not unit.on)
        skip.update(service.name for service in experiment.services if not service.on)
    return skip


def _name_from_path(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in stem).strip("_")
    return cleaned or "experiment"
