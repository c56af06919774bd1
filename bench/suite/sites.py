"""The site catalog the benchmark experiments import: a workstation plus a
Slurm cluster with a short and a long partition, so that placement has
real choices. Sized to fit the largest task of the workflow."""

from __future__ import annotations

import math

from .dag import Dag

_GIB = 1024**3


def catalog(dag: Dag) -> str:
    cores = max((math.ceil(t.cores) for t in dag.tasks if t.cores), default=1)
    memory_gib = max((math.ceil(t.memory / _GIB) for t in dag.tasks if t.memory), default=1)
    node_cpus = max(48, cores)
    node_memory = max(384, memory_gib)
    return f"""\
// Sites for the benchmarks, written by bench/suite/sites.py.

site workstation : local {{
  cpus = {max(8, cores)}; memory = {max(32, memory_gib)}GiB
}}

site cluster : slurm {{
  partition short {{
    nodes = 32; cpus = {node_cpus}; memory = {node_memory}GiB; max_time = 4h
  }}
  partition long {{
    nodes = 8; cpus = {node_cpus}; memory = {node_memory}GiB; max_time = 72h
  }}
}}

link cluster <-> workstation {{ bandwidth = 1Gbps; latency = 5ms }}
"""
