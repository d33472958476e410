"""Bounded waits: how a test says "this did not hang" or "wait until that happened".

Not timing assertions: a figure such as "stop() takes under 2 s" is a performance claim and lives in bench/.
A test that only needs to know a call returns (or a state is reached) waits for it with a generous bound and,
past the bound, fails with a message naming what hung, instead of comparing elapsed times that a loaded CI
machine can stretch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def returns_within(seconds: float, what: str, call: Callable[[], T]) -> T:
    """`call()`'s result (or its exception), failing the test when it has not returned after `seconds`.

    The call runs in a daemon thread so that a hang fails this test instead of freezing the session.
    """
    result: list[T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(call())
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread below, re-raised there
            error.append(exc)

    thread = threading.Thread(target=run, name=f"bounded: {what}", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"{what} did not return within {seconds:g} s: it hangs")
    if error:
        raise error[0]
    return result[0]


def wait_until(predicate: Callable[[], bool], seconds: float, what: str, *, interval: float = 0.01) -> None:
    """Poll `predicate` until it holds; fail the test naming `what` when `seconds` pass first."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds:g} s")
        time.sleep(interval)  # poll interval, not a guess at how long the other side takes


def process_gone(pid: int) -> bool:
    """Whether `pid` no longer runs: absent, or a zombie (dead, waiting for its parent or init to reap it). Linux."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"
