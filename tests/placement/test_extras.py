"""The compiled plan depends on the sources only, never on whether the
optional scipy (the `exact` extra) is installed; `mlc plan --exact` is the
one place the MILP shows, and without scipy it says what to install."""

from __future__ import annotations

import pytest

from compiler.placement import place
from compiler.placement.exact_check import MAX_UNITS, ExactCheck, ExactUnavailable, check_exact, render_check
from tests.conftest import ROOT

from .test_heft_paper import paper_experiment
from .without_scipy import mlc

EXAMPLES = sorted((ROOT / "examples").rglob("*.mlx"))


def _tree(folder) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_example_compiles_to_the_same_bytes_with_and_without_scipy(tmp_path):
    pytest.importorskip("scipy")  # the comparison needs a machine that has the extra
    outputs = {}
    for scipy in (True, False):
        root = tmp_path / ("with" if scipy else "without")
        commands = [["compile", p.relative_to(ROOT).as_posix(), "-o", str(root)] for p in EXAMPLES]
        done = mlc(commands, scipy=scipy)
        assert done.returncode == 0, done.stderr
        outputs[scipy] = {folder.name: _tree(folder) for folder in sorted(root.iterdir())}
    assert len(outputs[True]) == len(EXAMPLES)
    for name, files in outputs[True].items():
        assert "plan.json" in files and "README.md" in files
        without = outputs[False][name]
        differing = sorted(path for path in files.keys() | without.keys() if files.get(path) != without.get(path))
        assert not differing, f"{name}: these files depend on scipy: {differing}"


def test_plan_exact_without_scipy_names_the_extra():
    done = mlc([["plan", "examples/quickstart.mlx", "--exact"]], scipy=False)
    assert done.returncode == 2
    assert "pip install 'mlc[exact]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_plan_exact_prints_the_optimum_under_the_plan(in_root, capsys):
    pytest.importorskip("scipy")  # the `exact` extra
    from compiler.cli import main

    # From the sources alone: the README's first command runs the quickstart
    # in this checkout, and `mlc plan` learns from those records by default.
    assert main(["plan", "examples/quickstart.mlx", "--exact", "--no-history"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("exact MILP: optimal makespan 7s; this plan 7s (gap 0.00%)")


def test_the_exact_check_measures_the_gap_to_the_optimum():
    pytest.importorskip("scipy")  # the `exact` extra
    exp = paper_experiment()
    plan = place(exp)
    check = check_exact(exp, plan)
    assert check.optimal and check.milp_value == pytest.approx(73.0)  # proven optimal in this model
    assert 73.0 <= plan.makespan <= 80.0  # never worse than HEFT's published 80
    assert check.gap == pytest.approx(plan.makespan / 73 - 1)
    heft_like = plan.model_copy(update={"makespan": 80.0})
    assert render_check(check_exact(exp, heft_like)) == (
        "exact MILP: optimal makespan 1m 13s; this plan 1m 20s (gap 9.59%)\n"
    )


def test_the_exact_check_refuses_what_it_does_not_model():
    from .builders import experiment, instance, pool, service, site

    with_service = experiment([site("a", "local")], [instance("make", outputs={"m": 0})],
                              services=[service("api", reads={"m": "make:m"})])
    with pytest.raises(ExactUnavailable, match="does not model services"):
        check_exact(with_service, place(with_service))
    many = experiment([site("a", "local")], [instance(f"j{i}") for i in range(MAX_UNITS + 1)])
    with pytest.raises(ExactUnavailable, match=f"up to {MAX_UNITS} stage instances"):
        check_exact(many, place(many))
    job = instance("gang")
    gang = experiment([site("a", "slurm", [pool("main", "a", nodes=2)])], [job.model_copy(update={"resources": job.resources.model_copy(
        update={"nodes": 2})})])
    with pytest.raises(ExactUnavailable, match="does not model multi-node or shaped stages"):
        check_exact(gang, place(gang))


def test_a_free_optimum_has_no_relative_gap():
    check = ExactCheck(measure="cost", plan_value=0.5, optimal=True, milp_value=0.0, bound=0.0, infeasible=False)
    assert check.gap is None
    assert render_check(check) == "exact MILP: optimal cost 0.00; this plan 0.50 (no relative gap to an optimum of 0)\n"
    stopped = ExactCheck(measure="makespan", plan_value=120.0, optimal=False, milp_value=120.0, bound=100.0,
                         infeasible=False)
    assert render_check(stopped) == (
        "exact MILP: stopped at its limits; best makespan found 2m, no plan below 1m 40s; "
        "this plan 2m (at most 20.00% above the optimum)\n"
    )
