"""End-to-end runs of the examples in examples/slurm/ on the real Slurm test
cluster (docs/slurm-test-cluster.md): compile with `mlc`, run the generated
workflow with real Snakemake, and check what Slurm and the work trees say.

Each scenario runs once per module (a module-scoped fixture) and several
tests read its result, so the suite pays Slurm's polling only a few times."""

from __future__ import annotations

import pytest
from e2e_scenario import EXAMPLES, Scenario


@pytest.fixture(scope="module")
def scenario(slurm_cluster, tmp_path_factory, request):
    """The Scenario of the example the test module names in EXAMPLE and EXPERIMENT."""
    module = request.module
    return Scenario(
        example=EXAMPLES / module.EXAMPLE,
        out=tmp_path_factory.mktemp(module.EXPERIMENT),
        experiment=module.EXPERIMENT,
        scratch=slurm_cluster.workdir(),
        params=tuple(getattr(module, "PARAMS", ())),
    )
