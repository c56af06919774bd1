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
    assert "export MLC_IN_api=http://exp-detector.apps.example.org\n" in far
    assert "export MLC_IN_mine=http://127.0.0.1:8123\n" in far
    assert "mlc_wait_ready MLC_IN_api http://exp-detector.apps.example.org '' /healthz\n" in far
    near = next(text for name, text in files.items() if name.startswith("k8s/") and "MLC_IN_api" in text
                and "near" in name)
    assert """mlc_wait_ready MLC_IN_api http://exp-detector"-${MLC_RUN:?}".ml.svc:8080 '' /healthz""" in near


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
