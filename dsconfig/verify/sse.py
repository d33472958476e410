"""Reading an Anthropic event stream (server-sent events) with caps, and judging its order.

Every read is capped: a JSON body (model list, balance, an error) at MAX_BODY, one stream line at MAX_LINE, a
whole streamed reply at MAX_STREAM, MAX_EVENTS events. A provider that sends more (or an endless body) is not
an Anthropic-compatible endpoint, and reading on would only fill memory: reading stops there with TooLarge.

Light (no httpx): the response is anything with `status_code` and `aiter_bytes()` (checks.py passes httpx's).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

MAX_EVENTS = 5000
MAX_BODY = 1024 * 1024
"""A JSON body (the model list, the balance, an error) is never read beyond this: a provider that sends more
(or an endless body) is not an Anthropic-compatible endpoint, and reading on would only fill memory."""
MAX_LINE = 64 * 1024
"""One line of an event stream; Anthropic's events are a few hundred bytes."""
MAX_STREAM = 4 * 1024 * 1024
"""A whole streamed reply (the checks ask for at most 128 tokens)."""


class ByteStream(Protocol):
    """What is read from a response: httpx.Response fits."""

    status_code: int

    def aiter_bytes(self) -> AsyncIterator[bytes]: ...


@dataclass
class Event:
    name: str
    data: dict[str, Any]
    at: float


@dataclass
class Progress:
    """What a request got before a deadline hit: decides between "timeout" and "stall"."""

    status: int | None = None
    keepalives: int = 0
    events: list[Event] = field(default_factory=list)
    ttft: float | None = None


class TooLarge(Exception):
    """A body or a line beyond its cap: reading stopped there."""

    def __init__(self, what: str, limit: int, status: int) -> None:
        super().__init__(what)
        self.what = what
        self.limit = limit
        self.status = status


def size_text(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"


async def read_limited(resp: ByteStream, limit: int = MAX_BODY) -> bytes:
    """The body, or TooLarge as soon as it passes `limit` (an endless body stops there, not at the timeout).

    Raises TooLarge past the limit."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise TooLarge("the body", limit, resp.status_code)
    return b"".join(chunks)


async def limited_lines(resp: ByteStream) -> AsyncIterator[str]:
    """The lines of an event stream (CRLF, LF or CR), each at most MAX_LINE bytes, all at most MAX_STREAM.

    Raises TooLarge past the limit."""
    buffer = b""
    total = 0
    async for chunk in resp.aiter_bytes():
        total += len(chunk)
        if total > MAX_STREAM:
            raise TooLarge("the event stream", MAX_STREAM, resp.status_code)
        buffer += chunk
        while True:
            cut = min((i for i in (buffer.find(b"\n"), buffer.find(b"\r")) if i >= 0), default=-1)
            if cut < 0 or (buffer[cut:cut + 1] == b"\r" and cut == len(buffer) - 1):
                break  # no end of line yet, or a CR that an LF may follow in the next chunk
            end = cut + 2 if buffer[cut:cut + 2] == b"\r\n" else cut + 1
            line, buffer = buffer[:cut], buffer[end:]
            if len(line) > MAX_LINE:
                raise TooLarge("one line of the event stream", MAX_LINE, resp.status_code)
            yield line.decode("utf-8", "replace")
        if len(buffer) > MAX_LINE:
            raise TooLarge("one line of the event stream", MAX_LINE, resp.status_code)
    if buffer:
        yield buffer.rstrip(b"\r").decode("utf-8", "replace")


async def read_events(resp: ByteStream, progress: Progress, start: float) -> str | None:
    """Read the stream's events into `progress` (with the time of the first text delta); the data of the first
    event that is not Anthropic's (an OpenAI chunk...) when one comes, reading stops there; else None.

    Raises TooLarge past the limit."""
    name: str | None = None
    data_lines: list[str] = []
    data_size = 0
    previous_blank = True
    async for line in limited_lines(resp):
        if line.startswith(":"):
            progress.keepalives += 1
            previous_blank = False
            continue
        if line == "":
            if data_lines:
                event = dispatch(name, "\n".join(data_lines), time.perf_counter() - start)
                if event is None:
                    return "\n".join(data_lines)
                progress.events.append(event)
                if event.name == "content_block_delta" and progress.ttft is None:
                    progress.ttft = event.at
                # Read on after message_stop to the end of the body: the connection then closes cleanly
                # (or goes back to the pool) instead of being reset with unread bytes.
                if len(progress.events) >= MAX_EVENTS:
                    return None
            elif previous_blank and name is None:
                progress.keepalives += 1  # DeepSeek's blank keep-alive lines
            name, data_lines, data_size, previous_blank = None, [], 0, True
            continue
        previous_blank = False
        field_name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field_name == "event":
            name = value
        elif field_name == "data":
            data_lines.append(value)
            data_size += len(value)
            if data_size > MAX_BODY:
                raise TooLarge("one event's data", MAX_BODY, resp.status_code)
    if data_lines:
        event = dispatch(name, "\n".join(data_lines), time.perf_counter() - start)
        if event is None:
            return "\n".join(data_lines)
        progress.events.append(event)
    return None


def dispatch(name: str | None, data: str, at: float) -> Event | None:
    """An Anthropic event, or None when the data is something else (an OpenAI chunk, `[DONE]`...)."""
    try:
        parsed = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str) or "choices" in parsed:
        return None
    return Event(name or parsed["type"], parsed, at)


def stream_problem(events: Sequence[Event]) -> str | None:
    """Why an event sequence is not a valid Anthropic stream, or None. Unknown event names are allowed."""
    names = [e.name for e in events if e.name != "ping"]
    if not names:
        return "no event arrived"
    if names[0] != "message_start":
        return f"the first event is {names[0]}, not message_start"
    open_index: object = None
    block_open = saw_message_delta = stopped = False
    for event in events[1:]:
        kind = event.name
        index = event.data.get("index")
        if kind == "ping":
            continue
        if stopped:
            return f"{kind} after message_stop"
        if kind == "message_start":
            return "a second message_start"
        if kind == "content_block_start":
            if block_open:
                return f"content_block_start (index {index}) before block {open_index} stopped"
            if saw_message_delta:
                return "content_block_start after message_delta"
            block_open, open_index = True, index
        elif kind == "content_block_delta":
            if not block_open or index != open_index:
                return f"content_block_delta (index {index}) outside its content block"
        elif kind == "content_block_stop":
            if not block_open or index != open_index:
                return f"content_block_stop (index {index}) without a matching content_block_start"
            block_open = False
        elif kind == "message_delta":
            if block_open:
                return "message_delta while a content block is still open"
            saw_message_delta = True
        elif kind == "message_stop":
            if not saw_message_delta:
                return "message_stop without a message_delta before it"
            stopped = True
    if not stopped:
        return "the stream ended before message_stop"
    return None

