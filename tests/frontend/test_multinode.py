"""Multi-node stages and resource shapes in the language: what `nodes`,
`launch`, `tasks_per_node` and `shapes` lower to, and the mistakes each
one catches (docs/language.md, "Multi-node stages", "Resource shapes")."""

from __future__ import annotations

from compiler import ir
from compiler.fit import shortfalls
from compiler.placement import place

from .test_language import SITES, compile_text, errors_of

GiB = 1024**3


def test_nodes_and_launch_lower_to_per_node_resources_and_a_launcher(tmp_path):
    exp = compile_text(tmp_path, SITES + """
    stage train {
      nodes = 2
      gpus = 4 x a100
      cpus = 32
      launch = torchrun
      run = "train.py"
    }
    stage solve {
      nodes = 2
      launch = mpirun
      tasks_per_node = 48
      run = "./solver"
    }
    """)
    train, solve = exp.instance("train"), exp.instance("solve")
    assert (train.resources.nodes, train.resources.cpus, train.resources.gpus) == (2, 32, ir.Gpus(count=4, type="a100"))
    assert train.launch == ir.Launch(kind="torchrun", tasks_per_node=1)
    assert solve.launch == ir.Launch(kind="mpirun", tasks_per_node=48)
    assert exp.instance("solve").resources.nodes == 2


def test_a_stage_without_nodes_is_one_node_and_runs_its_command_once(tmp_path):
    exp = compile_text(tmp_path, SITES + 'stage a { run = "true" }\n')
    assert exp.instance("a").resources.nodes == 1 and exp.instance("a").launch is None


def test_shapes_start_from_the_stage_and_keep_their_own_estimate_and_pins(tmp_path):
    exp = compile_text(tmp_path, SITES + """
    stage train {
      cpus = 12
      memory = 48GiB
      launch = torchrun
      shapes = [
        shape(on = hpc.gpu, nodes = 2, gpus = 4 x a100, time = 8h, estimate = 6h),
        shape(on = cloud.gpu, nodes = 2, gpus = 1 x t4, time = 40h, estimate = 30h),
      ]
      run = "train.py"
    }
    """)
    first, second = exp.instance("train").shapes
    assert (first.resources.nodes, first.resources.gpus.type, first.resources.cpus) == (2, "a100", 12)
    assert (first.estimate.default, first.on) == (6 * 3600, ["hpc.gpu"])
    assert (second.resources.gpus.type, second.resources.memory, second.estimate.default) == ("t4", 48 * GiB, 30 * 3600)
    assert second.on == ["cloud.gpu"]


def test_placement_picks_a_shape_and_says_which(tmp_path):
    exp = compile_text(tmp_path, SITES + """
    experiment e { objective = cost }
    stage train {
      launch = torchrun
      shapes = [
        shape(on = cloud.gpu, nodes = 2, gpus = 1 x t4, estimate = 30h, time = 40h),
        shape(on = hpc.gpu, nodes = 2, gpus = 4 x a100, estimate = 6h, time = 8h),
      ]
      run = "train.py"
    }
    """)
    (assignment,) = place(exp).assignments
    # The cluster is free, the cloud is paid: the second shape wins under cost.
    assert (assignment.site, assignment.pool, assignment.shape) == ("hpc", "gpu", 1)
    assert assignment.reason == ("shape 2 of 2 (2 nodes x 4 x a100, 6h, the first that fits this pool); "
                                 "hpc.gpu: 72.00 cheaper than cloud.gpu")


def test_a_gang_larger_than_any_pool_names_the_shortfall(tmp_path):
    exp = compile_text(tmp_path, SITES + """
    stage train { nodes = 2; gpus = 4 x a100; launch = torchrun; on = cloud.gpu; run = "x" }
    """.replace("on = cloud.gpu", "on = hpc"))  # feasible: the error is built from the IR below
    train = exp.instance("train")
    cloud = exp.pool("cloud.gpu")
    assert shortfalls(exp, train, cloud) == ["pinned to hpc", "needs 2 nodes x 4 x a100; cloud.gpu has nodes of 1 x t4"]
    wide = train.model_copy(update={"resources": train.resources.model_copy(update={"nodes": 3})})
    assert "needs 3 nodes x 4 x a100, hpc.gpu has 2 nodes" in shortfalls(exp, wide, exp.pool("hpc.gpu"))


def test_bad_combinations_are_positioned_errors(tmp_path):
    assert errors_of(tmp_path, SITES + 'stage a { tasks_per_node = 2; run = "x" }\n') == ["E0540"]
    assert errors_of(tmp_path, SITES + 'stage a { launch = torchrun; tasks_per_node = 2; run = "x" }\n') == ["E0540"]
    assert errors_of(tmp_path, SITES + 'stage a { launch = pdsh; run = "x" }\n') == ["E0306"]
    assert errors_of(tmp_path, SITES + 'stage a { nodes = 0; run = "x" }\n') == ["E0306"]
    assert errors_of(tmp_path, SITES + 'stage a { shapes = [shape(4)]; run = "x" }\n') == ["E0541"]
    assert errors_of(tmp_path, SITES + 'service s { nodes = 2; image = "x"; port = 80 }\n') == ["E0301"]
    # torchrun without GPUs is fine: one process per node.
    assert errors_of(tmp_path, SITES + 'stage a { launch = torchrun; nodes = 2; on = hpc.cpu; run = "x" }\n') == []


def test_nodes_on_a_local_site_is_an_error_with_a_hint(tmp_path):
    assert errors_of(tmp_path, SITES + 'stage a { nodes = 2; on = ws; run = "x" }\n') == ["E0740"]


def test_mpirun_is_not_offered_on_kubernetes(tmp_path):
    assert errors_of(tmp_path, SITES + 'stage a { launch = mpirun; on = cloud; run = "x" }\n') == ["E0701"]
