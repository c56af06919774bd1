#!/usr/bin/env python3
"""How long the language server takes to publish diagnostics, measured over a
real pipe as an editor sees it: `python -m compiler.cli lsp` in a fresh
process, JSON-RPC over its stdin and stdout (initialize, didOpen, didChange),
the clock stopped when publishDiagnostics for the new text arrives.

    python bench/lsp_latency.py                      # 5,000 stages, this checkout
    python bench/lsp_latency.py --stages 1000,5000 --burst 5

`--burst N`: N changes sent back to back (typing), timed to the diagnostics
of the last one. The experiment is generated here: N stages in a chain of
fan-ins (each reads its predecessor's output and, every tenth, the output
ten back), on one local site, so placement has work to do."""

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


def experiment(stages: int, marker: str = "") -> str:
    lines = ["experiment lsp_bench {}", "site here : local { cpus = 8; memory = 32GiB }", ""]
    for i in range(stages):
        ins = []
        if i > 0:
            ins.append(f"in a = s{i - 1}.o")
        if i >= 10 and i % 10 == 0:
            ins.append(f"in b = s{i - 10}.o")
        body = "; ".join([*ins, f'out o = file("out/{i}.txt")', 'run = "true"'])
        lines.append(f"stage s{i} {{ {body} }}")
    return "\n".join(lines) + f"\n// {marker}\n"


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
            for version in range(2, burst + 2):
                sent = client.send({"method": "textDocument/didChange", "params": {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"text": experiment(stages, f"edit {version}")}]}})
            arrived, diags = client.diagnostics_for(uri, burst + 1, timeout, unversioned=burst)
            changed = arrived - sent
        finally:
            client.close()
    return {"stages": stages, "burst": burst, "initialize_s": initialized, "open_s": opened,
            "change_s": changed, "diagnostics": len(diags)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stages", default="5000", help="comma-separated sizes (default 5000)")
    parser.add_argument("--burst", type=int, default=1, help="changes sent back to back (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="fresh servers per size (median)")
    args = parser.parse_args(argv)
    for stages in (int(s) for s in args.stages.split(",") if s):
        runs = [measure(stages, args.burst) for _ in range(args.repeat)]
        print(json.dumps({**runs[-1], **{key: statistics.median(r[key] for r in runs)
                                           for key in ("initialize_s", "open_s", "change_s")},
                          "runs": len(runs)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
