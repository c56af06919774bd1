"""The site catalogues the benchmark experiments import: a workstation plus
one cluster, sized to fit the largest task of the workflow, so that
placement has real choices. The default cluster is Slurm (a short and a long
partition); the `kubernetes` catalogue has a Kubernetes site instead, so
that the compile benchmark goes through that back end too (issue 11 item 6:
a quadratic Kubernetes emission hid behind Slurm-only catalogues)."""

from __future__ import annotations

import math

from .dag import Dag

_GIB = 1024**3
DEFAULT = "slurm"


def _slurm(cpus: int, memory_gib: int) -> str:
    return f"""\
site cluster : slurm {{
  partition short {{
    nodes = 32; cpus = {cpus}; memory = {memory_gib}GiB; max_time = 4h
  }}
  partition long {{
    nodes = 8; cpus = {cpus}; memory = {memory_gib}GiB; max_time = 72h
  }}
}}
"""


def _kubernetes(cpus: int, memory_gib: int) -> str:
    return f"""\
site cluster : kubernetes {{
  context = "bench"
  namespace = "bench"
  staging = "s3://bench-staging/mlc"
  pool cpu {{
    nodes = 40; cpus = {cpus}; memory = {memory_gib}GiB; price = 0.2/h
  }}
}}
"""


# The cluster of each catalogue; the coming ssh kind adds its entry here and
# is then measured by `bench/run.py --compile-catalogues ssh`.
CLUSTERS = {"slurm": _slurm, "kubernetes": _kubernetes}


def catalog(dag: Dag, cluster: str = DEFAULT) -> str:
    cores = max((math.ceil(t.cores) for t in dag.tasks if t.cores), default=1)
    memory_gib = max((math.ceil(t.memory / _GIB) for t in dag.tasks if t.memory), default=1)
    return f"""\
// Sites for the benchmarks, written by bench/suite/sites.py.

site workstation : local {{
  cpus = {max(8, cores)}; memory = {max(32, memory_gib)}GiB
}}

{CLUSTERS[cluster](max(48, cores), max(384, memory_gib))}
link cluster <-> workstation {{ bandwidth = 1Gbps; latency = 5ms }}
"""
