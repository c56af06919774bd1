"""The global namespace: every declared name across the main file and its
imports, with duplicates reported once, pointing at both places."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import Diagnostics, help_, note
from . import ast as A

KIND_OF = {
    A.Param: "param", A.Secret: "secret", A.Dataset: "dataset", A.Site: "site",
    A.Template: "template", A.Stage: "stage", A.Service: "service",
}

# Names that mean something in value position and cannot be declared.
RESERVED = {"in", "out", "true", "false", "makespan", "cost", "weighted", "file", "dir"}


@dataclass
class Declarations:
    by_name: dict[str, object] = field(default_factory=dict)
    experiment: A.Experiment | None = None
    links: list[A.Link] = field(default_factory=list)
    order: list[object] = field(default_factory=list)  # declarations in source order
    # Later declarations of a name already taken: not in the namespace, but
    # their bodies are still checked (their own mistakes are independent).
    shadowed: list[object] = field(default_factory=list)

    def kind(self, name: str) -> str | None:
        decl = self.by_name.get(name)
        return KIND_OF[type(decl)] if decl is not None else None

    def of_kind(self, kind: type) -> list:
        return [d for d in self.order if isinstance(d, kind)]


def collect(modules: list[A.Module], diags: Diagnostics) -> Declarations:
    decls = Declarations()
    main = modules[0] if modules else None
    for module in modules:
        for d in module.decls:
            if isinstance(d, A.Import):
                continue
            if isinstance(d, A.Experiment):
                if module is not main:
                    diags.error("E0203", "an experiment can only be declared in the main file",
                                d.name_pos.span(),
                                help_("imported files hold shared declarations: sites, "
                                      "templates, data sets"))
                elif decls.experiment is not None:
                    diags.error("E0203", "a second experiment in one file", d.name_pos.span(),
                                note("the first one is here", decls.experiment.name_pos.span()))
                else:
                    decls.experiment = d
                continue
            if isinstance(d, A.Link):
                decls.links.append(d)
                decls.order.append(d)
                continue
            if d.name in RESERVED:
                diags.error("E0201", f"`{d.name}` is a reserved word and cannot name a {KIND_OF[type(d)]}",
                            d.name_pos.span(), help_("choose another name"))
                decls.shadowed.append(d)
                continue
            previous = decls.by_name.get(d.name)
            if previous is not None:
                diags.error(
                    "E0201", f"`{d.name}` is declared twice",
                    d.name_pos.span(),
                    note(f"the first declaration ({KIND_OF[type(previous)]}) is here",
                         previous.name_pos.span()),
                    help_("names are shared by every declaration kind, across imports"),
                )
                decls.shadowed.append(d)
                continue
            decls.by_name[d.name] = d
            decls.order.append(d)
    return decls
