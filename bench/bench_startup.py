"""How fast are the commands that run on every shell start and every Claude Code start?

Times, side by side in one run and interleaved round by round (so machine noise hits all alike):
  dsconfig env NAME --shell bash     (every new shell with eval "$(dsconfig env)")
  dsconfig key get NAME              (every Claude Code start, through apiKeyHelper)
  dsconfig key get (env: source)     (the key from an environment variable: must not import keyring)
  dsconfig key get (command: source) (the key printed by a command; compare with the command alone)
  the key command alone              (`sh -c 'cat FILE'`, what the command: source adds on top of dsconfig)
  dsconfig --help
  dsconfig doctor --no-verify        (for reference: the full CLI, no network)
  secret-tool lookup service dsconfig username NAME   (libsecret's C client: the floor for a keyring lookup)
  python -c "import keyring; print(keyring.get_password('dsconfig', NAME))"   (the bare keyring lookup)
  python -c "import re"              (the console-script floor: pip's generated `dsconfig` wrapper imports re)
  python -c pass                     (the interpreter's own start)
against one real Secret Service (gnome-keyring on a private D-Bus bus, started here), and prints medians
and ratios, plus the floors they stand on: the console script's (`import re`) and the keyring path's
(`import re, jeepney`). Goals (issue 15): key get <= 2x secret-tool lookup; env <= 3x python -c pass; --help <= 2x
python -c pass. Issue 16: key get through env: near the interpreter's floor; through command: about key get
(env:) + the command alone.

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
    # An installed dsconfig (pip, pipx) has its bytecode compiled at install time. A checkout run with
    # PYTHONDONTWRITEBYTECODE=1 (as on CI machines) would otherwise compile every module on every run, about
    # 10x its import time: measure what users run.
    import compileall

    import dsconfig

    compileall.compile_dir(str(Path(dsconfig.__file__).parent), quiet=1)
    script = Path(sys.executable).parent / "dsconfig"
    dsconfig = [str(script)] if script.exists() else [sys.executable, "-m", "dsconfig"]
    with running_secret_service() as service, tempfile.TemporaryDirectory() as tmp:
        # HOME alone, as a user has it: no DSCONFIG_HOME or XDG_* (paths.py finds the folders as platformdirs does).
        env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": service.address, "HOME": tmp}
        for var in [v for v in env if v.startswith(("ANTHROPIC_", "XDG_", "DSCONFIG_")) or v == "PYTHON_KEYRING_BACKEND"]:
            del env[var]
        subprocess.run([*dsconfig, "profile", "add", NAME, "--provider", "deepseek", "--api-key-stdin"],
                       input=KEY, env=env, check=True, capture_output=True, text=True)
        key_file = Path(tmp) / "vault-key"
        key_file.write_text(KEY + "\n")
        key_command = f"cat {key_file}"
        env["BENCH_KEY"] = KEY
        for name, source in (("bench-env", "env:BENCH_KEY"), ("bench-cmd", f"command:{key_command}")):
            subprocess.run([*dsconfig, "profile", "add", name, "--provider", "deepseek", "--key-source", source],
                           env=env, check=True, capture_output=True, text=True)
        cases = {
            "dsconfig env --shell bash": [*dsconfig, "env", NAME, "--shell", "bash"],
            "dsconfig key get": [*dsconfig, "key", "get", NAME],
            "key get (env: source)": [*dsconfig, "key", "get", "bench-env"],
            "env (env: source)": [*dsconfig, "env", "bench-env", "--shell", "bash"],
            "key get (command: source)": [*dsconfig, "key", "get", "bench-cmd"],
            "the key command alone": ["/bin/sh", "-c", key_command],
            "dsconfig --help": [*dsconfig, "--help"],
            "dsconfig doctor --no-verify": [*dsconfig, "doctor", "--no-verify"],
            "secret-tool lookup": ["secret-tool", "lookup", "service", "dsconfig", "username", NAME],
            "bare keyring lookup": [sys.executable, "-c", f"import keyring; print(keyring.get_password('dsconfig', {NAME!r}))"],
            "python -c 'import re'": [sys.executable, "-c", "import re"],
            "python -c 'import re, jeepney'": [sys.executable, "-c", "import re, jeepney, jeepney.io.blocking"],
            "python -c pass": [sys.executable, "-c", "pass"],
        }
        for argv in cases.values():  # warm caches; check each works and prints what it should
            proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
            if proc.returncode != 0 and argv[1:2] != ["doctor"]:  # doctor exits 1 when it finds something
                raise SystemExit(f"{argv} failed: {proc.stderr}")
        for label in ("dsconfig key get", "key get (env: source)", "key get (command: source)"):
            assert subprocess.run(cases[label], env=env, capture_output=True, text=True, check=False).stdout == KEY + "\n", label
        assert subprocess.run(cases["bare keyring lookup"], env=env, capture_output=True, text=True, check=False).stdout == KEY + "\n"
        times: dict[str, list[float]] = {label: [] for label in cases}
        for _ in range(rounds):
            for label, argv in cases.items():
                start = time.perf_counter()
                subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
                times[label].append(time.perf_counter() - start)
    med = {label: statistics.median(values) * 1000 for label, values in times.items()}
    floor, c_floor, script_floor = med["python -c pass"], med["secret-tool lookup"], med["python -c 'import re'"]
    print(f"{rounds} interleaved rounds, median wall time per run (python: {sys.executable})")
    for label, ms in med.items():
        print(f"  {label:30s} {ms:7.1f} ms   {ms / c_floor:5.2f}x secret-tool   {ms / floor:5.2f}x python -c pass")
    print("goals (issue 15):")
    for label, against, name, goal in (("dsconfig key get", c_floor, "secret-tool lookup", 2.0),
                                       ("dsconfig env --shell bash", floor, "python -c pass", 3.0),
                                       ("dsconfig --help", floor, "python -c pass", 2.0)):
        ratio = med[label] / against
        print(f"  {label} / {name} = {ratio:.2f}x (goal <= {goal:g}x: {'met' if ratio <= goal else 'NOT met'})")
    env_ms, cmd_ms, alone_ms = (med[k] for k in ("key get (env: source)", "key get (command: source)", "the key command alone"))
    print("issue 16:")
    print(f"  key get (env:) {env_ms:.1f} ms = python -c pass + {env_ms - floor:.1f} ms "
          f"= the console-script floor (python -c 'import re', what pip's `dsconfig` wrapper runs first) + "
          f"{env_ms - script_floor:.1f} ms")
    print(f"  key get (command:) - key get (env:) = {cmd_ms - env_ms:.1f} ms vs the command alone {alone_ms:.1f} ms")
    jeepney_ms = med["python -c 'import re, jeepney'"]
    print("the keyring path's floor (the console script plus importing jeepney, the Secret Service client):")
    print(f"  python -c 'import re, jeepney' {jeepney_ms:.1f} ms = {jeepney_ms / c_floor:.2f}x secret-tool; "
          f"key get - that floor = {med['dsconfig key get'] - jeepney_ms:.1f} ms (D-Bus round trips and dsconfig)")

if __name__ == "__main__":
    main()
