"""Generated sweeps pinned to one kind of site: N members and a fan-in, the
same experiment on every kind, so that a back end whose compile time grows
faster than another's shows up side by side (issue 11 item 6: a sweep on
Kubernetes compiled in quadratic time while the WfCommons workloads, placed
on local and Slurm sites only, never touched that back end)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    site: str  # the site declaration in the catalogue
    pin: str  # what `on =` names: a pool of that site


# One site of every kind the compiler emits for, all in one catalogue so that
# the experiments differ only in `on =`. A new kind adds its entry here and
# becomes part of `bench/run.py --phases sweep` and its smoke test.
KINDS: dict[str, Kind] = {
    "local": Kind(
        site="site workstation : local {\n  cpus = 8; memory = 32GiB\n}\n",
        pin="workstation",
    ),
    "slurm": Kind(
        site="site cluster : slurm {\n"
             "  partition cpu { nodes = 32; cpus = 48; memory = 384GiB; max_time = 24h }\n"
             "}\n",
        pin="cluster.cpu",
    ),
    "kubernetes": Kind(
        site='site cloud : kubernetes {\n  context = "bench"\n  namespace = "bench"\n'
             '  staging = "s3://bench-staging/mlc"\n'
             "  pool cpu { nodes = 32; cpus = 48; memory = 384GiB; price = 0.2/h }\n"
             "}\n",
        pin="cloud.cpu",
    ),
    "ssh": Kind(
        site='site box : ssh {\n  host = "bench"; cpus = 48; memory = 384GiB\n}\n',
        pin="box",
    ),
}


def _catalogue() -> str:
    sites = [kind.site for kind in KINDS.values()]
    names = [kind.site.split()[1] for kind in KINDS.values()]
    links = [f"link {a} <-> {b} {{ bandwidth = 1Gbps; latency = 5ms }}\n"
             for i, a in enumerate(names) for b in names[i + 1:]]
    return "\n".join(sites) + "\n" + "".join(links)


def experiment_name(kind: str, members: int) -> str:
    return f"sweep_{kind}_{members}"


def source(kind: str, members: int, fan_in: str | None = None) -> str:
    """An experiment of `members` sweep members and one stage reading all
    their outputs, every unit pinned to the site of `kind`; with `fan_in`,
    that stage runs on the site of that kind, so that every member's output
    is transferred."""
    pin = KINDS[kind].pin
    fan_in_pin = KINDS[fan_in or kind].pin
    values = ", ".join(str(i) for i in range(members))
    return f"""\
// A sweep for the benchmarks, written by bench/suite/sweeps.py.

{_catalogue()}
experiment {experiment_name(kind, members)} {{
  description = "{members} sweep members and a fan-in on the {kind} site"
}}

stage member for i in [{values}] {{
  out value = file("values/${{i}}.txt", size = 1KB)
  cpus = 1
  memory = 256MiB
  time = 10m
  estimate = 1m
  on = {pin}
  run = "echo ${{i}} > ${{out.value}}"
}}

stage total {{
  in values = member.value
  out sum = file("total.txt", size = 1KB)
  cpus = 1
  memory = 256MiB
  time = 10m
  estimate = 1m
  on = {fan_in_pin}
  run = "cat ${{in.values}} > ${{out.sum}}"
}}
"""
