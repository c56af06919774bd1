"""The runner reads Snakemake's output: these are the lines it must understand
(copied from Snakemake 9 runs) and the progress it prints from them."""

from __future__ import annotations

from compiler.runner.progress import Event, Progress, parse_line, scheduled_rules

RUN = """\
Building DAG of jobs...
Job stats:
job                       count
----------------------  -------
make_data                     1
total                         1
score_slope_2_0_db4eac        1
all                           1
total                         4

Select jobs to execute...
[Sun Nov 29 10:34:37 2026]
localrule make_data:
    input: local/laptop/make_data.sh
Finished jobid: 1 (Rule: make_data)
1 of 6 steps (17%) done
rule total:
Error in rule score_slope_2_0_db4eac:
"""


def test_events_are_read_from_snakemake_lines():
    events = [e for e in map(parse_line, RUN.splitlines()) if e]
    assert events == [
        Event("start", "make_data"), Event("finish", "make_data"),
        Event("start", "total"), Event("error", "score_slope_2_0_db4eac"),
    ]


def test_the_job_stats_table_names_the_scheduled_rules():
    # A stage may be called `total`: only the last row is the table's total.
    assert scheduled_rules(RUN) == {"make_data", "total", "score_slope_2_0_db4eac", "all"}
    assert scheduled_rules("Building DAG of jobs...\nNothing to be done.\n") == set()


def test_progress_lines_count_and_time():
    progress = Progress(units={"a": "a on the local site ws", "b": "b on Slurm hpc.cpu"}, total=2, clock=0.0)
    assert progress.on_event(Event("start", "a"), now=1.0) == "[0:00:01] 0/2  started  a on the local site ws"
    assert progress.on_event(Event("start", "all"), now=1.0) is None  # not a step of the experiment
    assert progress.on_event(Event("finish", "a"), now=66.0) == \
        "[0:01:06] 1/2  done     a on the local site ws (0:01:05)"
    assert progress.on_event(Event("start", "b"), now=70.0).endswith("started  b on Slurm hpc.cpu")
    assert progress.on_event(Event("error", "b"), now=3700.0) == \
        "[1:01:40] 1/2  FAILED   b on Slurm hpc.cpu (1:00:30)"
    assert progress.failed == ["b"] and progress.finished_now == 1
