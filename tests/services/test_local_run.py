"""Services inside the experiment, run for real on the local site: a tiny
HTTP server in plain Python, consumed by a sweep of stages that call it at
`${in.api}`. Through `mlc run`, `mlc status` and `mlc down` as a user would."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SERVER = '''\
import http.server, sys

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("pong " + self.path).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
'''

CLIENT = '''\
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1] + "/shard/" + sys.argv[2], timeout=10).read().decode())
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _source(port: int, lifetime: str) -> str:
    return f'''
site ws : local {{ cpus = 4; memory = 8GiB }}
service api {{
  in server = file("server.py")
  run = "python3 ${{in.server}} {port}"
  port = {port}
  health = "/healthz"
  {lifetime}
}}
stage shard for i in [1, 2, 3] {{
  in api = api
  in client = file("client.py")
  out answer = file("answers/${{i}}.txt")
  run = "python3 ${{in.client}} ${{in.api}} ${{i}} > ${{out.answer}}"
}}
'''


def _answers(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
        return True
    except OSError:
        return False


class Project:
    def __init__(self, tmp_path: Path, lifetime: str) -> None:
        self.port = _free_port()
        self.root = tmp_path
        (tmp_path / "exp.mlx").write_text(_source(self.port, lifetime))
        self.out = tmp_path / "out"
        self.folder = self.out / "exp"
        # Project files, beside the .mlx: the local site links them into its work tree.
        (tmp_path / "server.py").write_text(SERVER)
        (tmp_path / "client.py").write_text(CLIENT)

    def mlc(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "compiler.cli", *args, str(self.root / "exp.mlx"),
                               "-o", str(self.out)], cwd=ROOT, capture_output=True, text=True, timeout=300)

    def answer(self, i: int) -> str:
        return (self.folder / "work" / "ws" / "answers" / f"{i}.txt").read_text()


@pytest.fixture
def experiment_lifetime(tmp_path):
    project = Project(tmp_path, "")  # consumed: lifetime = experiment by default
    yield project
    project.mlc("down")


@pytest.fixture
def persistent(tmp_path):
    project = Project(tmp_path, "lifetime = persistent")
    yield project
    project.mlc("down")


def test_the_sweep_calls_the_service_and_the_workflow_stops_it_after_the_last_consumer(experiment_lifetime):
    p = experiment_lifetime
    run = p.mlc("run")
    assert run.returncode == 0, run.stdout + run.stderr
    assert [p.answer(i) for i in (1, 2, 3)] == [f"pong /shard/{i}\n" for i in (1, 2, 3)]
    lines = run.stdout.splitlines()
    stopped = next(n for n, line in enumerate(lines) if "started  stop api" in line)
    assert all(n < stopped for n, line in enumerate(lines) if "done     shard[" in line)
    assert not _answers(p.port)
    assert "(not answering)" in p.mlc("status").stdout


def test_down_resets_the_service_so_the_next_run_starts_it_again(persistent):
    p = persistent
    assert p.mlc("run").returncode == 0
    assert _answers(p.port)
    status = p.mlc("status")
    assert f"service api: http://127.0.0.1:{p.port}/healthz (ready)" in status.stdout
    down = p.mlc("down")
    assert down.returncode == 0 and "service api: stopped" in down.stdout
    assert not _answers(p.port)
    assert not (p.folder / ".mlc" / "done" / "api").exists()
    again = p.mlc("run")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "done: 1 step " in again.stdout  # the service; its finished consumers are not redone
    assert _answers(p.port)


def test_a_service_whose_process_died_is_started_again_on_the_next_run(persistent):
    p = persistent
    assert p.mlc("run").returncode == 0
    pid = int((p.folder / "work" / "ws" / ".mlc" / "run" / "api.pid").read_text())
    subprocess.run(["kill", "--", f"-{pid}"], check=True)
    for _ in range(50):
        if not _answers(p.port):
            break
    again = p.mlc("run")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "service api is not running: starting it again" in again.stdout
    assert "done: 1 step " in again.stdout
    assert _answers(p.port)
