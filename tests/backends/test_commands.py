"""Ports in command lines become the paths at the running site, passed as
variables the command refers to."""

from __future__ import annotations

import builders
import pytest

from compiler import ir
from compiler.backends import BackendError
from compiler.backends.commands import HostEnv, host_env, output_parents, render_command


def paths(rendered) -> dict[str, str]:
    return dict(rendered.exports)


def test_outputs_and_sweep_inputs_become_relative_paths_in_variables():
    exp, plan = builders.quickstart()
    rendered = render_command(exp, plan, "pick")
    assert rendered.text == (
        'sort -k2 -g "${MLC_IN_errors_1}" "${MLC_IN_errors_2}" "${MLC_IN_errors_3}" | head -n 1 '
        '> "${MLC_OUT_best}" && cat "${MLC_OUT_best}"'
    )
    assert paths(rendered) == {
        "MLC_IN_errors_1": "scores/2.0.txt", "MLC_IN_errors_2": "scores/3.0.txt",
        "MLC_IN_errors_3": "scores/4.0.txt", "MLC_OUT_best": "best.txt",
    }


def test_inputs_moved_by_a_transfer_use_the_path_at_the_target():
    exp, plan = builders.multisite()
    assert render_command(exp, plan, "report").text == 'cp "${MLC_IN_best}" "${MLC_OUT_report}"'
    assert paths(render_command(exp, plan, "report")) == {"MLC_IN_best": "best.txt", "MLC_OUT_report": "report/best.txt"}
    moved = plan.model_copy(update={"transfers": [
        t.model_copy(update={"target_path": "in box/best.txt"}) if t.id == "to_laptop__evaluate_best" else t
        for t in plan.transfers
    ]})
    assert paths(render_command(exp, moved, "report"))["MLC_IN_best"] == "in box/best.txt"


def test_a_data_set_is_its_uri_on_its_own_site_and_staged_elsewhere():
    exp, plan = builders.multisite()
    assert paths(render_command(exp, plan, "prepare")) == {"MLC_IN_raw": "datasets/coco", "MLC_OUT_data": "data/prep"}
    on_cloud = plan.model_copy(update={
        "assignments": [a.model_copy(update={"site": "cloud", "pool": "cpu"}) if a.unit == "prepare" else a
                        for a in plan.assignments],
        "transfers": [t for t in plan.transfers if t.what != ir.DatasetRef(dataset="coco")],
    })
    assert paths(render_command(exp, on_cloud, "prepare"))["MLC_IN_raw"] == "s3://bucket/coco"


def test_a_project_file_is_its_own_path():
    source = builders.output("script", "tools/run me.py")
    unit = builders.instance(
        "run", [builders.text("python "), builders.port("in", "script")],
        inputs=[ir.Input(name="script", source=source, span=builders.span())],
    )
    exp = builders.experiment("p", [builders.local_site()], [unit], [])
    rendered = render_command(exp, builders.plan(exp, {"run": "laptop.default"}), "run")
    assert (rendered.text, paths(rendered)) == ('python "${MLC_IN_script}"', {"MLC_IN_script": "tools/run me.py"})


def test_a_path_starting_with_a_dash_is_not_an_option():
    unit = builders.instance(
        "run", [builders.text("cat "), builders.port("out", "raw")], outputs=[builders.output("raw", "-raw")],
    )
    exp = builders.experiment("p", [builders.local_site()], [unit], [])
    assert paths(render_command(exp, builders.plan(exp, {"run": "laptop.default"}), "run")) == {"MLC_OUT_raw": "./-raw"}


def test_an_unknown_port_is_an_error():
    unit = builders.instance("run", [builders.port("out", "nowhere")])
    exp = builders.experiment("p", [builders.local_site()], [unit], [])
    with pytest.raises(BackendError, match="no output `nowhere`"):
        render_command(exp, builders.plan(exp, {"run": "laptop.default"}), "run")


def test_output_parents_are_unique_and_sorted():
    exp, _ = builders.multisite()
    assert output_parents(exp, "train[lr=0.1]") == ["ckpt/0.1"]
    assert output_parents(exp, "evaluate") == []


def test_host_env_references_secrets_and_keeps_literals():
    exp, _ = builders.multisite()
    assert host_env(exp, "train[lr=0.1]") == [
        HostEnv("API_TOKEN", secret_variable="HOST_TOKEN"),
        HostEnv("WANDB_API_KEY", secret_file="~/.config/wandb/key"),
        HostEnv("WANDB_PROJECT", literal="it's \"ours\""),
    ]
