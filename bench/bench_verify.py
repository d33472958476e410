"""Concurrent `dsconfig verify` vs the same requests one after another, against the fake DeepSeek.

    python bench/bench_verify.py [--latency 0.3] [--rounds 5]

Starts the loopback fake itself (tests/fakes) with an injected latency on every POST /v1/messages, builds a
profile with 3 distinct models (so 5 message requests: 3 models + streaming + tool use, plus the model list and
the balance), and times verify.verify_many() both ways, several rounds each, medians. The key comes from
$DSCONFIG_BENCH_KEY or is the fake's default test key: no keyring is touched.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from fakes.server import DEFAULT_KEY, FakeDeepSeek

from dsconfig import verify
from dsconfig.profiles import Profile, resolve
from dsconfig.templates import load_template


def timed_round(resolved: object, key: str, *, concurrent: bool) -> tuple[float, bool]:
    start = time.perf_counter()
    report = asyncio.run(verify.verify_many([(resolved, key)], timeout=30, concurrent=concurrent))  # type: ignore[list-item]
    return time.perf_counter() - start, report.ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.3, help="seconds the fake waits before each message reply")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    os.environ["NO_PROXY"] = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"]))
    key = os.environ.get("DSCONFIG_BENCH_KEY") or DEFAULT_KEY

    with FakeDeepSeek(latency=args.latency, keys={key}) as fake:
        profile = Profile(name="bench", provider="deepseek", base_url=fake.base_url, models={"haiku": "claude-haiku-4-5"})
        resolved = resolve(profile, load_template("deepseek"))
        models = resolved.distinct_models()
        timed_round(resolved, key, concurrent=True)  # warm-up: imports, first TLS context
        fake.reset()
        fake.latency = args.latency
        together: list[float] = []
        one_by_one: list[float] = []
        for _ in range(args.rounds):
            seconds, ok = timed_round(resolved, key, concurrent=True)
            together.append(seconds)
            seconds2, ok2 = timed_round(resolved, key, concurrent=False)
            one_by_one.append(seconds2)
            if not (ok and ok2):
                print("a check failed: the numbers below would be meaningless", file=sys.stderr)
                return 1
        per_round = len(fake.requests) // (2 * args.rounds)

    conc, seq = statistics.median(together), statistics.median(one_by_one)
    print(f"profile: {len(models)} distinct models ({', '.join(models)}); {per_round} requests per verify "
          f"(models + streaming + tool use + model list + balance)")
    print(f"fake latency per message request: {args.latency * 1000:.0f} ms; {args.rounds} rounds each, medians")
    print(f"{'concurrent (dsconfig verify)':<32}{conc * 1000:8.0f} ms   = {conc / args.latency:4.2f} x latency")
    print(f"{'one after another':<32}{seq * 1000:8.0f} ms   = {seq / args.latency:4.2f} x latency")
    print(f"ratio one-after-another / concurrent: {seq / conc:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
