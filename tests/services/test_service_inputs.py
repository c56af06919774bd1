"""`in api = detector`: the checker binds a service, `${in.api}` is its URL
as reached from the consumer's site, and every generated script that runs a
consumer waits until the service answers its health check."""

from __future__ import annotations

import os
import socket
import subprocess
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from compiler import ir
from compiler.backends import emit
from compiler.backends.service_inputs import wait_lines
from compiler.diagnostics import render_text
from compiler.frontend import load
from compiler.placement import place
from tests.backends.kubernetes.kubelet import expand

SITES = """
site ws : local { cpus = 4; memory = 8GiB }
site k8s : kubernetes { namespace = "ml"; expose = "apps.example.org"
                        pool cpu { nodes = 2; cpus = 8; memory = 32GiB } }
"""


def compiled(tmp_path, text: str) -> ir.Experiment:
    path = tmp_path / "exp.mlx"
    path.write_text(textwrap.dedent(SITES + text))
    experiment, diags, sources = load(str(path))
    assert experiment is not None, render_text(diags.sorted(), sources)
    return experiment


def test_a_service_binds_as_an_input_with_an_ordering_edge_and_a_lifetime(tmp_path):
    e = compiled(tmp_path, """
        service detector { image = "d:1"; port = 8080; health = "/healthz" }
        service board { image = "b:1"; port = 80 }
        stage load for i in [1, 2] { in api = detector; run = "curl ${in.api}" }
    """)
    assert [p.service for p in e.instance("load[i=1]").inputs] == ["detector"]
    assert ir.Edge(source="detector", target="load[i=2]", input="api") in e.edges
    detector, board = e.unit("detector"), e.unit("board")
    assert (detector.lifetime, detector.consumers) == ("experiment", ["load[i=1]", "load[i=2]"])
    assert (board.lifetime, board.consumers) == ("persistent", [])


def test_a_service_may_use_another_and_may_be_kept_running(tmp_path):
    e = compiled(tmp_path, """
        service index { image = "i:1"; port = 9000; lifetime = persistent }
        service api { image = "a:1"; port = 80; in search = index }
    """)
    assert e.unit("api").inputs[0].service == "index"
    assert (e.unit("index").lifetime, e.unit("index").consumers) == ("persistent", ["api"])


def test_urls_as_each_consumer_reaches_the_service(tmp_path):
    e = compiled(tmp_path, """
        service detector { image = "d:1"; port = 8080; health = "/healthz"; on = k8s }
        service local_api { run = "python3 -m http.server 8123"; port = 8123; on = ws }
        stage near { in api = detector; on = k8s; run = "curl ${in.api}" }
        stage far { in api = detector; in mine = local_api; on = ws; run = "curl ${in.api} ${in.mine}" }
    """)
    plan = place(e)
    files = emit(e, plan)
    far = files["local/ws/far.sh"]
    assert "export MLC_IN_mine=http://127.0.0.1:8123\n" in far
    assert 'MLC_IN_mine=$(bash -c "$mlc_ready" mlc_ready http://127.0.0.1:8123 \'\' \'\')\nexport MLC_IN_mine\n' in far
    # The exposure's host names the run (MLC_RUN, else the user): tests/services/test_k8s_consumers.py.
    assert 'mlc_ready http://exp-detector-"$(run=' in far and ".apps.example.org '' /healthz)\n" in far
    near = expand(next(text for name, text in files.items() if name.startswith("k8s/") and "MLC_IN_api" in text
                       and "near" in name))  # the pod script as the kubelet hands it on
    assert ('mlc_ready http://exp-detector-"${MLC_RUN:?}"."${MLC_NAMESPACE:?}".svc:8080 '
            "'' /healthz)") in near


def _serve(health_status: int):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(health_status if self.path == "/healthz" else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _run_wait(tmp_path, e, plan, unit: str, timeout: int = 3) -> subprocess.CompletedProcess:
    script = wait_lines(e, plan, unit) + 'echo "got $MLC_IN_api"\n'
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "MLC_READY_TIMEOUT": str(timeout)})


def test_the_wait_passes_once_the_health_check_answers_and_not_before(tmp_path):
    ok, failing = _serve(200), _serve(503)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    for port, expected in ((ok.server_port, 0), (failing.server_port, 1), (closed, 1)):
        e = compiled(tmp_path, f"""
            service api {{ run = "true"; port = {port}; health = "/healthz"; on = ws }}
            stage use {{ in api = api; on = ws; run = "curl ${{in.api}}" }}
        """)
        result = _run_wait(tmp_path, e, place(e), "use")
        assert result.returncode == expected, (port, result.stderr)
        if expected == 0:
            assert result.stdout == f"got http://127.0.0.1:{port}\n"
        else:
            assert "is not ready after 3s" in result.stderr
    ok.shutdown()
    failing.shutdown()


def test_each_host_kind_stops_a_service_for_the_experiment_after_its_consumers(tmp_path):
    path = tmp_path / "exp.mlx"
    path.write_text(textwrap.dedent("""
        site lab : ssh { host = "gpu-box.lab"; cpus = 16; memory = 64GiB }
        service api { run = "python3 -m http.server 8123"; port = 8123; health = "/" }
        stage use for i in [1, 2] { in api = api; run = "curl ${in.api}" }
    """))
    e, diags, sources = load(str(path))
    assert e is not None, render_text(diags.sorted(), sources)
    snakefile = emit(e, place(e))["Snakefile"]
    stop = snakefile[snakefile.index("rule stop_api:"):]
    assert "python3 {input.driver:q} stop {params.name:q}" in stop
    assert '".mlc/done/use_i_1_' in stop and '".mlc/done/use_i_2_' in stop and '".mlc/done/api"' in stop


def test_a_service_used_by_another_is_stopped_after_it_or_kept_as_long(tmp_path):
    chain = """
        service index { run = "python3 -m http.server 9001"; port = 9001; on = ws }
        service api { run = "python3 -m http.server 9002"; port = 9002; in search = index; on = ws%s }
        stage ask { in api = api; on = ws; run = "curl ${in.api}" }
    """
    e = compiled(tmp_path, chain % "")
    assert (e.unit("index").lifetime, e.unit("api").lifetime) == ("experiment", "experiment")
    snakefile = emit(e, place(e))["Snakefile"]
    stop_index = snakefile[snakefile.index("rule stop_index:"):]
    assert '".mlc/done/stop_api"' in stop_index.split("output:")[0]
    kept = compiled(tmp_path, chain % "; lifetime = persistent")
    assert (kept.unit("index").lifetime, kept.unit("api").lifetime) == ("persistent", "persistent")
    assert "rule stop_" not in emit(kept, place(kept))["Snakefile"]


def _raw_tcp_server() -> tuple[socket.socket, int]:
    """A server that accepts connections and speaks no HTTP (a gRPC or
    database port, as far as a readiness check can tell)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)

    def accept():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.sendall(b"\x00\x00\x00binary-protocol\n")
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    return server, server.getsockname()[1]


def test_a_tcp_health_check_waits_for_the_port_and_not_for_http(tmp_path):
    server, port = _raw_tcp_server()
    try:
        for health, expected in (('"tcp"', 0), ('"/healthz"', 1)):
            e = compiled(tmp_path, f"""
                service db {{ run = "true"; port = {port}; health = {health}; on = ws }}
                stage use {{ in api = db; on = ws; run = "psql ${{in.api}}" }}
            """)
            result = _run_wait(tmp_path, e, place(e), "use")
            assert result.returncode == expected, (health, result.stderr)
            if expected == 0:
                assert result.stdout == f"got http://127.0.0.1:{port}\n"
    finally:
        server.close()


def test_a_tcp_health_check_is_a_tcp_probe_on_kubernetes_and_a_connection_elsewhere(tmp_path):
    e = compiled(tmp_path, """
        service triton { image = "nvcr.io/nvidia/tritonserver:24.08-py3"; port = 8001; health = "tcp"; on = k8s }
        service db { run = "postgres"; port = 5432; health = "tcp"; on = ws }
        stage ask { in grpc = triton; on = k8s; run = "python ask.py ${in.grpc}" }
        stage query { in db = db; on = ws; run = "python query.py ${in.db}" }
    """)
    assert e.unit("triton").health == "tcp" and e.unit("triton").http_health is None
    files = emit(e, place(e))
    deployment = next(text for name, text in files.items() if name.endswith("triton-deployment.yaml"))
    import yaml
    container = yaml.safe_load(deployment)["spec"]["template"]["spec"]["containers"][0]
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["tcpSocket"] == {"port": 8001} and "httpGet" not in container[probe]
    # The local service's start waits for a connection, not for an HTTP path.
    assert "health=''\n" in files["local/ws/db.sh"]
    assert 'mlc_ready http://127.0.0.1:5432 \'\' \'\')' in files["local/ws/query.sh"]


def test_an_array_job_defines_the_wait_once_and_each_member_waits(tmp_path):
    path = tmp_path / "exp.mlx"
    path.write_text(textwrap.dedent(SITES + """
        site hpc : slurm { scratch = "s"; partition cpu { nodes = 2; cpus = 8; memory = 32GiB } }
        service embed { run = "python3 serve.py"; port = 8000; health = "/health"; on = hpc }
        service detector { image = "d:1"; port = 8080; health = "/healthz"; on = k8s }
        stage shard for part in range(3) { in api = embed; on = hpc; run = "embed ${part} ${in.api}" }
        stage probe for part in range(3) { in api = detector; on = k8s; run = "probe ${part} ${in.api}" }
    """))
    e, diags, sources = load(str(path))
    assert e is not None, render_text(diags.sorted(), sources)
    files = emit(e, place(e))
    import yaml
    job = next(yaml.safe_load(t) for n, t in files.items() if n.endswith("probe-job.yaml"))
    scripts = {"Slurm array": files["slurm/hpc/shard.sbatch"],
               "Indexed Job": expand(job["spec"]["template"]["spec"]["containers"][0]["args"][0])}
    for kind, script in scripts.items():
        assert script.count("mlc_ready='") == 1, kind  # the program, once
        assert script.count('MLC_IN_api=$(bash -c "$mlc_ready" mlc_ready') == 3, kind  # one wait per member
    assert "case \"${JOB_COMPLETION_INDEX:?}\" in" in scripts["Indexed Job"]
    assert scripts["Indexed Job"].index("mlc_ready='") < scripts["Indexed Job"].index("case ")


def test_a_slurm_service_job_lasts_its_consumers_span_at_most_the_partition_max_time(tmp_path):
    """The job's time limit: its `time`, or twice the planned span from its
    start to its last consumer's end when longer, capped at max_time."""
    from compiler.backends.slurm import slurm_time

    def limit(gpu_max_time: str, service_time: str) -> tuple[str, float]:
        path = tmp_path / "exp.mlx"
        path.write_text(textwrap.dedent(f"""
            site hpc : slurm {{
              scratch = "s"
              partition gpu {{ nodes = 1; cpus = 8; memory = 32GiB{gpu_max_time} }}
              partition cpu {{ nodes = 1; cpus = 1; memory = 4GiB }}
            }}
            service embed {{ run = "serve"; port = 8000; time = {service_time}; on = hpc.gpu }}
            stage shard for part in range(3) {{
              in api = embed; cpus = 1; memory = 1GiB; time = 3h; estimate = 2h; on = hpc.cpu
              run = "embed ${{part}} ${{in.api}}"
            }}
        """))
        e, diags, sources = load(str(path))
        assert e is not None, render_text(diags.sorted(), sources)
        plan = place(e)
        span = max(plan.where(c).finish for c in e.unit("embed").consumers) - plan.where("embed").start
        job = emit(e, plan)["slurm/hpc/embed.service.sbatch"]
        return next(line for line in job.splitlines() if line.startswith("#SBATCH --time=")), span

    line, span = limit("", "10m")
    assert span >= 3 * 2 * 3600  # one cpu: the three shards one after another
    assert line == f"#SBATCH --time={slurm_time(2 * span)}"  # twice the span, more than its own 10m
    line, _ = limit("", "30d")
    assert line == f"#SBATCH --time={slurm_time(30 * 86400)}"  # its own time, the longer
    line, _ = limit("; max_time = 8h", "10m")
    assert line == "#SBATCH --time=0-08:00:00"  # capped by the partition
