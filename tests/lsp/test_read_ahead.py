"""The server's stdin (compiler/editors/lsp_io.py) under pygls' own message
loop, over a real pipe: whole messages are handed over in order, and the
server hears that the input is drained only between messages, after every
message that had arrived, never in the middle of one."""

from __future__ import annotations

import asyncio
import json
import os
import threading

from pygls.io_ import run_async

from compiler.editors.lsp_io import ReadAheadStdin


def frame(n: int, size: int = 10) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", "method": "m", "params": {"n": n, "pad": "x" * size}}).encode()
    return f"Content-Length: {len(body)}\r\n\r\n".encode() + body


class Recorder:
    """Stands in for pygls' protocol: records messages and drained events."""

    def __init__(self) -> None:
        self.events: list = []

    @staticmethod
    def structure_message(data: dict):
        return data

    def handle_message(self, message: dict) -> None:
        if "params" in message:
            self.events.append(message["params"]["n"])


def run(writes: list[bytes | float]) -> list:
    """Feed the pipe `writes` (a float: sleep that long) from a thread; the
    events in the order the loop saw them."""
    read_end, write_end = os.pipe()
    recorder = Recorder()

    def writer() -> None:
        for w in writes:
            if isinstance(w, float):
                threading.Event().wait(w)
            else:
                os.write(write_end, w)
        threading.Event().wait(1.0)  # the end of input is not a drained input: let the last one show
        os.close(write_end)

    async def main() -> None:
        reader = ReadAheadStdin(read_end, asyncio.get_running_loop(),
                                lambda: recorder.events.append("drained"))
        threading.Thread(target=writer, daemon=True).start()
        await run_async(stop_event=threading.Event(), reader=reader, protocol=recorder)

    try:
        asyncio.run(asyncio.wait_for(main(), timeout=30))
    finally:
        os.close(read_end)
    return recorder.events


def test_messages_written_together_are_handled_before_the_input_is_drained():
    events = run([frame(1) + frame(2) + frame(3)])
    assert events == [1, 2, 3, "drained"]


def test_a_message_arriving_in_parts_is_not_a_drained_input():
    whole = frame(2, size=5000)
    events = run([frame(1), 0.2, whole[:3], 0.2, whole[3:40], 0.2, whole[40:], 0.2, frame(3)])
    assert events == [1, "drained", 2, "drained", 3, "drained"]


def test_large_messages_back_to_back():
    """Bigger than the pipe: read in many parts, handed over whole and in order."""
    big = [frame(n, size=300_000) for n in range(4)]
    events = run([b"".join(big)])
    assert [e for e in events if e != "drained"] == [0, 1, 2, 3] and events[-1] == "drained"
