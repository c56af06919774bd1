"""The server's stdin: read ahead by a thread, so that the server knows when
it has handled every message the editor sent (the input is drained).

pygls reads a message only when the previous one has been handled, so a
server could not tell a lone change from the first of a burst queued behind
a long check; it waited a fixed 50 ms after each change to see whether
another followed. Here a thread reads whatever arrives into a buffer while
the server works; pygls' message loop (`run_async`) takes whole messages
from the buffer without yielding, and when the buffer is empty at a message
boundary the server is told (`on_drained`): a change is checked then, with
the last text of a burst, and a lone change at once."""

from __future__ import annotations

import asyncio
import os
import select
import threading
from typing import Callable

_CHUNK = 1 << 20


class ReadAheadStdin:
    """pygls' AsyncReader (`readline`, `readexactly`) over a file descriptor."""

    def __init__(self, fd: int, loop: asyncio.AbstractEventLoop, on_drained: Callable[[], None]) -> None:
        self.fd, self.loop, self.on_drained = fd, loop, on_drained
        self.buffer = bytearray()
        self.eof = False
        self.at_boundary = True  # between messages: the last thing taken was a body
        self.unannounced = False  # a message was taken since on_drained was last called
        self._want: tuple[asyncio.Future, Callable[[], bytes | None]] | None = None
        threading.Thread(target=self._pump, name="mlc-lsp-stdin", daemon=True).start()

    # --- the thread ---

    def _pump(self) -> None:
        while True:
            try:
                data = os.read(self.fd, _CHUNK)
            except OSError:
                data = b""
            try:
                self.loop.call_soon_threadsafe(self._feed, data)
            except RuntimeError:  # the loop is closed: the server has exited
                return
            if not data:
                return

    # --- the loop ---

    def _feed(self, data: bytes) -> None:
        if data:
            self.buffer += data
        else:
            self.eof = True
        self._satisfy()

    def _satisfy(self) -> None:
        if self._want is None:
            return
        future, take = self._want
        got = take()
        if got is not None:
            self._want = None
            if not future.done():
                future.set_result(got)

    def _request(self, take: Callable[[], bytes | None]) -> asyncio.Future:
        future = self.loop.create_future()
        got = take()
        if got is not None:
            future.set_result(got)  # awaiting a done future does not yield: the next message follows
            return future
        self._want = (future, take)
        if self.at_boundary and self.unannounced and not self.buffer and not self.eof:
            self.loop.call_soon(self._maybe_drained)
        return future

    def _maybe_drained(self) -> None:
        """Tell the server, unless bytes arrived meanwhile or wait in the pipe."""
        if self.buffer or self._want is None:
            return
        if _readable(self.fd):
            return  # the thread is about to hand them over; drained after that message
        self.unannounced = False
        self.on_drained()

    def _line(self) -> bytes | None:
        end = self.buffer.find(b"\n")
        if end < 0:
            return self._rest() if self.eof else None  # b"" at the end: pygls stops
        line = bytes(self.buffer[: end + 1])
        del self.buffer[: end + 1]
        self.at_boundary = False
        return line

    def _rest(self) -> bytes:
        rest = bytes(self.buffer)
        self.buffer.clear()
        return rest

    def readline(self) -> asyncio.Future:
        return self._request(self._line)

    def readexactly(self, n: int) -> asyncio.Future:
        def take() -> bytes | None:
            if len(self.buffer) >= n:
                body = bytes(self.buffer[:n])
                del self.buffer[:n]
                self.at_boundary = self.unannounced = True
                return body
            return self._rest() if self.eof else None
        return self._request(take)


def _readable(fd: int) -> bool:
    """Whether bytes wait in the pipe; False where select cannot tell
    (Windows selects sockets only): the server then checks a little early."""
    try:
        return bool(select.select([fd], [], [], 0)[0])
    except (OSError, ValueError):
        return False
