"""Site kinds stay behind one interface: no code outside a kind's own
package branches on a kind's name, and docs/architecture.md shows the
registry's real features table."""

from __future__ import annotations

import ast
from pathlib import Path

from compiler.sites import registry

ROOT = Path(__file__).resolve().parent.parent
COMPILER = ROOT / "compiler"


def _own_paths(kind: str) -> list[Path]:
    """Where a kind may name itself: its package and its emitters."""
    return [COMPILER / "sites" / kind, COMPILER / "backends" / kind, COMPILER / "backends" / f"{kind}.py"]


def _mentions_kind(node: ast.AST) -> bool:
    """The expression reads a site kind: `x.kind`, `kind`, `d.kind`, `record.get("kind")`."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr == "kind":
            return True
        if isinstance(sub, ast.Name) and "kind" in sub.id:
            return True
        if isinstance(sub, ast.Constant) and sub.value == "kind":
            return True
    return False


def _kind_names(node: ast.AST) -> set[str]:
    return {sub.value for sub in ast.walk(node)
            if isinstance(sub, ast.Constant) and sub.value in registry.KINDS}


def branches_on_kind_names(source: str) -> list[tuple[int, str]]:
    """(line, kind name) of every comparison of a kind with a kind's name,
    and of every table keyed by two or more kind names (a dispatch)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            names = set().union(*(_kind_names(o) for o in operands))
            if names and any(_mentions_kind(o) for o in operands):
                found += [(node.lineno, name) for name in sorted(names)]
        elif isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant) and k.value in registry.KINDS]
            if len(keys) >= 2:
                found += [(node.lineno, name) for name in keys]
        elif isinstance(node, ast.match_case):
            found += [(node.pattern.lineno, name) for name in sorted(_kind_names(node.pattern))]
    return found


def test_the_detector_sees_the_branches_it_forbids():
    source = '''
if site.kind == "slurm": pass
if record.get("kind") != "local": pass
if end.kind in ("local", "kubernetes"): pass
keys = {"slurm": 1, "kubernetes": 2}
if "kubernetes" in values: pass
if x.name == "kubernetes": pass
'''
    assert [line for line, _ in branches_on_kind_names(source)] == [2, 3, 4, 4, 5, 5]


def test_no_code_outside_a_kinds_package_branches_on_its_name():
    offending = []
    for path in sorted(COMPILER.rglob("*.py")):
        if path.is_relative_to(COMPILER / "interop"):  # other tools' vocabularies, not mlc's kinds
            continue
        for line, name in branches_on_kind_names(path.read_text(encoding="utf-8")):
            if not any(path == own or path.is_relative_to(own) for own in _own_paths(name)):
                offending.append(f"{path.relative_to(ROOT)}:{line}: branches on `{name}`")
    assert offending == [], "ask compiler/sites/registry.py instead:\n" + "\n".join(offending)


def test_every_ir_kind_is_registered():
    from typing import get_args

    from compiler.ir import Site

    assert set(get_args(Site.model_fields["kind"].annotation)) == set(registry.KINDS)


def test_the_architecture_doc_shows_the_registrys_features_table():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    quoted = text.split("<!-- features-table -->\n", 1)[1].split("<!-- /features-table -->", 1)[0]
    assert quoted == registry.features_table(), "paste registry.features_table() into docs/architecture.md:\n" + \
        registry.features_table()


def test_the_front_end_reads_the_registry_without_the_back_end():
    """Data flows one way: the kinds' static tables pull in no code generation."""
    import subprocess
    import sys

    probe = ("import sys, compiler.frontend, compiler.fit\n"
             "from compiler.sites import registry\n"
             "for kind in registry.KINDS.values(): kind.site_fields(); kind.secret_mappings()\n"
             "print(sorted(m for m in sys.modules if m.startswith(('compiler.backends', 'compiler.runner'))))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_routes_follow_from_what_each_kind_reaches():
    from compiler.ir import KubernetesSettings, Site, Span
    from compiler.sites import reach

    def end(name, store=False, **kubernetes):
        span = Span(file="x.mlx", line=1, column=1, end_line=1, end_column=2)
        settings = KubernetesSettings(**kubernetes) if name == "kubernetes" else None
        return reach.end_of(Site(name=name, kind=name, pools=[], kubernetes=settings, span=span), store)

    staged = {"staging": "s3://bucket/mlc"}
    exec_path = {"data_path": "exec"}
    assert reach.choose(end("slurm", store=True), end("slurm")) == "direct-pull"  # the login host fetches
    assert reach.choose(end("slurm"), end("local")) == "direct-pull"  # the workflow machine fetches
    assert reach.choose(end("slurm"), end("slurm")) == "direct-pull"  # login host to login host
    assert reach.choose(end("kubernetes", store=True), end("kubernetes")) == "direct-pull"  # a Job in the cluster
    # A cluster with a staging bucket: through it, whatever the other end.
    for other in ("local", "slurm", "ssh"):
        assert reach.choose(end(other), end("kubernetes", **staged)) == "via-store"
        assert reach.choose(end("kubernetes", **staged), end(other)) == "via-store"
    assert reach.choose(end("kubernetes", **staged), end("kubernetes", **staged)) == "via-store"
    # Through `kubectl exec` only when the site asks for it.
    assert reach.choose(end("local"), end("kubernetes", **exec_path)) == "direct-push"
    assert reach.choose(end("slurm"), end("kubernetes", **exec_path)) == "relay"
    assert reach.choose(end("kubernetes", **exec_path), end("slurm")) == "relay"
    # Neither: no route (placement reports E0806).
    assert reach.choose(end("local"), end("kubernetes")) == reach.NO_ROUTE
    assert reach.choose(end("kubernetes"), end("slurm")) == reach.NO_ROUTE
