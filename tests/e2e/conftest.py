"""End-to-end runs of the examples in examples/slurm/ on the real Slurm test
cluster (docs/slurm-test-cluster.md): compile with `mlc`, run the generated
workflow with real Snakemake, and check what Slurm and the work trees say.

Each scenario runs once per module (a module-scoped fixture) and several
tests read its result, so the suite pays Slurm's polling only a few times.
Its jobs work under a directory of its own; when the module ends, every job
still listed there is cancelled and waited for."""

from __future__ import annotations

import pytest
from e2e_scenario import EXAMPLES, Scenario


@pytest.fixture(scope="module")
def scenario(slurm_cluster, tmp_path_factory, request):
    """The Scenario of the example the test module names in EXAMPLE and EXPERIMENT."""
    module = request.module
    scenario = Scenario(
        example=EXAMPLES / module.EXAMPLE,
        out=tmp_path_factory.mktemp(module.EXPERIMENT),
        experiment=module.EXPERIMENT,
        scratch=slurm_cluster.workdir(),
        params=tuple(getattr(module, "PARAMS", ())),
    )
    yield scenario
    # Whatever happened (a timeout, a failed assertion in a fixture), the
    # scenario's processes and jobs end here: the next module finds the
    # single test node free.
    scenario.clean_up(slurm_cluster)
