"""How fast are the commands that run on every shell start and every Claude Code start?

Times, side by side in one run and interleaved round by round (so machine noise hits all alike):
  dsconfig env NAME --shell bash     (every new shell with eval "$(dsconfig env)")
  dsconfig key get NAME              (every Claude Code start, through apiKeyHelper)
  dsconfig --help
  python -c "import keyring; print(keyring.get_password('dsconfig', NAME))"   (the bare keyring lookup)
  python -c pass                     (the interpreter's own start)
against one real Secret Service (gnome-keyring on a private D-Bus bus, started here), and prints medians
and ratios. Goals (issues 2 and 5): env and key get at most 0.7x the bare keyring lookup; --help < 100 ms.

Run from the repository root with the Python that has dsconfig installed:  python bench/bench_startup.py [ROUNDS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from secret_service import running_secret_service

NAME = "bench"
KEY = "sk-bench-" + "x" * 24


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    script = Path(sys.executable).parent / "dsconfig"
    dsconfig = [str(script)] if script.exists() else [sys.executable, "-m", "dsconfig"]
    with running_secret_service() as service, tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": service.address, "DSCONFIG_HOME": tmp,
               "HOME": tmp, "XDG_CONFIG_HOME": f"{tmp}/.config"}
        for var in [v for v in env if v.startswith("ANTHROPIC_") or v == "PYTHON_KEYRING_BACKEND"]:
            del env[var]
        subprocess.run([*dsconfig, "profile", "add", NAME, "--provider", "deepseek", "--api-key-stdin"],
                       input=KEY, env=env, check=True, capture_output=True, text=True)
        cases = {
            "dsconfig env --shell bash": [*dsconfig, "env", NAME, "--shell", "bash"],
            "dsconfig key get": [*dsconfig, "key", "get", NAME],
            "dsconfig --help": [*dsconfig, "--help"],
            "bare keyring lookup": [sys.executable, "-c", f"import keyring; print(keyring.get_password('dsconfig', {NAME!r}))"],
            "python -c pass": [sys.executable, "-c", "pass"],
        }
        for argv in cases.values():  # warm caches; check each works and prints what it should
            proc = subprocess.run(argv, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise SystemExit(f"{argv} failed: {proc.stderr}")
        assert subprocess.run(cases["dsconfig key get"], env=env, capture_output=True, text=True).stdout == KEY + "\n"
        assert subprocess.run(cases["bare keyring lookup"], env=env, capture_output=True, text=True).stdout == KEY + "\n"
        times: dict[str, list[float]] = {label: [] for label in cases}
        for _ in range(rounds):
            for label, argv in cases.items():
                start = time.perf_counter()
                subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
                times[label].append(time.perf_counter() - start)
    med = {label: statistics.median(values) * 1000 for label, values in times.items()}
    bare = med["bare keyring lookup"]
    print(f"{rounds} interleaved rounds, median wall time per run (python: {sys.executable})")
    for label, ms in med.items():
        print(f"  {label:28s} {ms:7.1f} ms   {ms / bare:5.2f}x bare lookup")
    print(f"goal: env <= 0.70x -> {med['dsconfig env --shell bash'] / bare:.2f}x; "
          f"key get <= 0.70x -> {med['dsconfig key get'] / bare:.2f}x; --help < 100 ms -> {med['dsconfig --help']:.0f} ms")


if __name__ == "__main__":
    main()
