#!/usr/bin/env python3
"""How long the language server takes to publish diagnostics, measured over a
real pipe as an editor sees it: `python -m compiler.cli lsp` in a fresh
process, JSON-RPC over its stdin and stdout (initialize, didOpen, didChange),
the clock stopped when publishDiagnostics for the new text arrives.

    python bench/lsp_latency.py                      # 5,000 stages, this checkout
    python bench/lsp_latency.py --stages 1000,5000 --burst 5

`--burst N`: N changes sent back to back (typing queued behind a check),
timed to the diagnostics of the last one. The experiment is generated here:
N stages in a chain of fan-ins (each reads its predecessor's output and,
every tenth, the output ten back), on one local site, so placement has work
to do. A change rewrites the command of the middle stage (a token, not a
comment: the server must check the new text). `change_cpu_s` is the
server's own CPU time (user + system, from /proc) over the same interval:
on a loaded machine the wall time mostly measures the others' work."""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def experiment(stages: int, edit: int = 0) -> str:
    """The file; `edit` > 0: its edit-th version (the middle stage's command)."""
    lines = ["experiment lsp_bench {}", "site here : local { cpus = 8; memory = 32GiB }", ""]
    for i in range(stages):
        ins = []
        if i > 0:
            ins.append(f"in a = s{i - 1}.o")
        if i >= 10 and i % 10 == 0:
            ins.append(f"in b = s{i - 10}.o")
        run = f'"echo edit {edit}"' if edit and i == stages // 2 else '"true"'
        body = "; ".join([*ins, f'out o = file("out/{i}.txt")', f"run = {run}"])
        lines.append(f"stage s{i} {{ {body} }}")
    return "\n".join(lines) + "\n"


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Client:
    """Just enough of an editor: frames messages, answers server requests."""

    def __init__(self, cwd: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.process = subprocess.Popen([sys.executable, "-m", "compiler.cli", "lsp"], cwd=cwd, env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.inbox: queue.Queue = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.process.stdout
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if not line.strip():
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            self.inbox.put((time.perf_counter(), json.loads(stream.read(length))))

    def send(self, message: dict) -> float:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        sent = time.perf_counter()
        self.process.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode("ascii") + body)
        self.process.stdin.flush()
        return sent

    def request(self, method: str, params: dict, timeout: float) -> dict:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            _, message = self.inbox.get(timeout=timeout)
            if message.get("id") == self.next_id and "method" not in message:
                return message

    def diagnostics_for(self, uri: str, version: int, timeout: float, unversioned: int = 1) -> tuple[float, list]:
        """When the diagnostics of `version` of `uri` arrived (a server that
        does not say the version: the `unversioned`-th publication, one per
        change sent)."""
        while True:
            arrived, message = self.inbox.get(timeout=timeout)
            if "id" in message and "method" in message:  # a request from the server
                self.send({"id": message["id"], "result": None})
            if message.get("method") != "textDocument/publishDiagnostics":
                continue
            params = message["params"]
            if params["uri"] != uri:
                continue
            if "version" not in params:
                unversioned -= 1
                if unversioned > 0:
                    continue
            if params.get("version", version) >= version:
                return arrived, params["diagnostics"]

    def close(self) -> None:
        try:
            self.request("shutdown", {}, timeout=30)
            self.send({"method": "exit", "params": {}})
            self.process.wait(timeout=30)
        except Exception:  # noqa: BLE001 - a benchmark: make sure it is gone
            self.process.kill()
            self.process.wait()


def measure(stages: int, burst: int = 1, timeout: float = 300.0) -> dict:
    """Seconds from sending to the diagnostics: of the didOpen, and of the
    last of `burst` didChange notifications."""
    with tempfile.TemporaryDirectory(prefix="mlc-lsp-bench-") as folder:
        path = Path(folder) / "exp.mlx"
        text = experiment(stages)
        path.write_text(text, encoding="utf-8")
        uri = path.as_uri()
        client = Client(Path(folder))
        try:
            started = time.perf_counter()
            client.request("initialize", {"processId": os.getpid(), "rootUri": Path(folder).as_uri(),
                                          "capabilities": {}}, timeout)
            client.send({"method": "initialized", "params": {}})
            initialized = time.perf_counter() - started
            sent = client.send({"method": "textDocument/didOpen", "params": {"textDocument": {
                "uri": uri, "languageId": "mlx", "version": 1, "text": text}}})
            arrived, diags = client.diagnostics_for(uri, 1, timeout)
            opened = arrived - sent
            edits = [experiment(stages, version) for version in range(2, burst + 2)]  # ready: back to back
            cpu_before = cpu_seconds(client.process.pid)
            for version, edited in enumerate(edits, start=2):
                sent = client.send({"method": "textDocument/didChange", "params": {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"text": edited}]}})
            arrived, diags = client.diagnostics_for(uri, burst + 1, timeout, unversioned=burst)
            changed = arrived - sent
            cpu_after = cpu_seconds(client.process.pid)
            change_cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
        finally:
            client.close()
    return {"stages": stages, "burst": burst, "initialize_s": initialized, "open_s": opened,
            "change_s": changed, "change_cpu_s": change_cpu, "diagnostics": len(diags)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stages", default="5000", help="comma-separated sizes (default 5000)")
    parser.add_argument("--burst", type=int, default=1, help="changes sent back to back (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="fresh servers per size (median)")
    args = parser.parse_args(argv)
    for stages in (int(s) for s in args.stages.split(",") if s):
        runs = [measure(stages, args.burst) for _ in range(args.repeat)]
        print(json.dumps({**runs[-1], **{key: statistics.median(r[key] for r in runs)
                                           for key in ("initialize_s", "open_s", "change_s", "change_cpu_s")
                                           if None not in (r[key] for r in runs)},
                          "runs": len(runs)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
