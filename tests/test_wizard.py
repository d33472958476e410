"""The setup wizard's logic (dsconfig.wizard) against a scripted prompter, the fake DeepSeek and a memory keyring.

What is proved here: the happy path writes a working setup; re-running edits the profile with every question
defaulting to its current value; a hand-made setup (inline key, base URL, models) is adopted with the key moved
into the keyring and out of the settings file, the journal and the backups; a refused key can be re-entered;
and Ctrl-C at any question (or during the test call) leaves every file byte-for-byte as it was.
The real terminal (questionary in a pty), the real Secret Service and the real `claude` are in test_setup_pty.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from fakes.server import DEFAULT_KEY, FakeDeepSeek
from helpers import DEEPSEEK_GUIDE_ENV, MemoryKeyring

from dsconfig import actions, switch, wizard
from dsconfig.context import AppContext
from dsconfig.errors import (
    EXIT_KEYRING,
    EXIT_USAGE,
    EXIT_VERIFY_AUTH,
    DsconfigError,
    KeyringUnavailableError,
    UsageError,
)
from dsconfig.journal import Journal
from dsconfig.profiles import Profile, ProfileStore
from dsconfig.targets.context import TargetContext
from dsconfig.wizard import SetupOptions
from dsconfig.wizard.adoption import guess_provider
from dsconfig.wizard.prompters import NoTerminalPrompter
from dsconfig.wizard.questions import QUESTIONS, Question

# Made up, and never shaped like a real DeepSeek key (no literal "sk-" + 32 hex characters in this file).
GOOD_KEY = DEFAULT_KEY
BAD_KEY = "sk-test-refused-key-4242"
OTHER_KEY = "sk-test-second-key-5151"



DEFAULT: Any = object()  # "press Enter": the question's default


class ScriptedPrompter:
    """Answers from a script: {question id: answer or [answers, in order]}. DEFAULT (or no entry) is Enter;
    a callable gets the question; `interrupt_at` raises KeyboardInterrupt there, as Ctrl-C in questionary does."""

    interactive = True

    def __init__(self, answers: dict[str, Any] | None = None, *, interrupt_at: str | None = None) -> None:
        self.answers = {k: list(v) if isinstance(v, list) else [v] for k, v in (answers or {}).items()}
        self.interrupt_at = interrupt_at
        self.asked: list[Question] = []
        self.told: list[str] = []

    def ask(self, q: Question) -> Any:
        self.asked.append(q)
        if q.id == self.interrupt_at:
            raise KeyboardInterrupt
        queue = self.answers.get(q.id) or [DEFAULT]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if callable(answer):
            return answer(q)
        if answer is DEFAULT:
            assert q.default is not None, f"no answer scripted for {q.id!r}, and it has no default"
            return q.default
        return answer

    def tell(self, text: str) -> None:
        self.told.append(text)

    @property
    def ids(self) -> list[str]:
        return [q.id for q in self.asked]

    def question(self, qid: str) -> Question:
        return next(q for q in self.asked if q.id == qid)

    @property
    def text(self) -> str:
        return "\n".join(self.told)


@dataclass
class World:
    home: Path
    proj: Path
    dshome: Path
    keyring: MemoryKeyring
    actx: actions.Context
    tctx: TargetContext
    root: Path

    @property
    def settings(self) -> Path:
        return self.home / ".claude" / "settings.json"

    def run(self, prompter: Any, **options: Any) -> wizard.SetupResult:
        return wizard.run_wizard(SetupOptions(**options), prompter=prompter, actx=self.actx, tctx=self.tctx,
                                 root=self.root)

    def use(self, name: str) -> switch.SwitchResult:
        return switch.run_use(switch.UseRequest(name), AppContext.of(self.actx, replace(self.tctx, root=self.root)))

    def off(self) -> switch.SwitchResult:
        return switch.run_off(switch.OffRequest(), AppContext.of(self.actx, self.tctx))

    def profiles(self) -> dict[str, Profile]:
        return dict(ProfileStore().load().profiles)

    def snapshot(self) -> dict[str, bytes | None]:
        """Every file and folder under HOME, DSCONFIG_HOME and the project: bytes (None for a folder)."""
        out: dict[str, bytes | None] = {}
        for top in (self.home, self.dshome, self.proj):
            for path in sorted(top.rglob("*")) if top.exists() else []:
                out[str(path)] = None if path.is_dir() else path.read_bytes()
        return out

    def write_settings(self, doc: dict[str, Any]) -> None:
        self.settings.parent.mkdir(parents=True, exist_ok=True)
        self.settings.write_text(json.dumps(doc, indent=2) + "\n")


@pytest.fixture
def world(tmp_path: Path, home: Path) -> World:
    memory_keyring = MemoryKeyring()
    proj = tmp_path / "proj"
    proj.mkdir()
    actx = actions.Context(store=ProfileStore(), secrets=memory_keyring, environ={})
    tctx = TargetContext(home=home, platform="linux", environ={"HOME": str(home), "PATH": "/usr/bin:/bin"}, cwd=proj,
                         journal=Journal())
    return World(home, proj, tmp_path / "dsconfig-home", memory_keyring, actx, tctx, tmp_path / "no-root")


def all_bytes_under(*folders: Path) -> bytes:
    return b"".join(p.read_bytes() for f in folders if f.exists() for p in sorted(f.rglob("*")) if p.is_file())


# --- the questions are data ---------------------------------------------------------------------------


def test_every_question_names_a_flag_setup_has() -> None:
    from dsconfig.cli import cli

    command = cli.commands["setup"]
    flags = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for q in QUESTIONS.values():
        named = {word for word in q.flag.replace("/", " ").split() if word.startswith("--")}
        assert named, q
        assert named <= flags, (q.id, named - flags)
    # and the flags the README documents for `setup` are all there
    assert {"--provider", "--profile", "--api-key-stdin", "--base-url", "--target", "--scope", "--yes", "--no-verify"} <= flags


def test_questionary_is_not_imported_by_the_wizard_module() -> None:
    import subprocess
    import sys

    probe = "import sys, dsconfig.wizard, dsconfig.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in ('questionary', 'prompt_toolkit', 'httpx')))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, check=True).stdout
    assert out.strip() == "[]"


# --- happy path, re-run ---------------------------------------------------------------------------------


def test_happy_path_writes_a_verified_setup(world: World, fake_deepseek: FakeDeepSeek) -> None:
    p = ScriptedPrompter({"key": f"  {GOOD_KEY}\n"})  # a paste with spaces and a newline
    result = world.run(p, base_url=fake_deepseek.base_url)
    assert p.ids == ["provider", "profile", "key", "models", "targets", "scope", "confirm"]
    assert p.question("provider").default == "deepseek"
    assert p.question("provider").choices[0].value == "deepseek" and p.question("provider").choices[-1].value == "custom"
    assert p.question("profile").default == "ds"
    assert "Get a DeepSeek key at https://platform.deepseek.com/api_keys" in p.told
    assert result.verified == "passed" and result.created and result.key_stored
    assert world.keyring.items == {"ds": GOOD_KEY}
    assert world.profiles()["ds"] == Profile("ds", "deepseek", fake_deepseek.base_url)
    settings = json.loads(world.settings.read_text())
    assert settings["env"]["ANTHROPIC_BASE_URL"] == fake_deepseek.base_url
    assert settings["apiKeyHelper"].endswith("key get ds")
    assert GOOD_KEY not in world.settings.read_text()
    assert GOOD_KEY not in p.text  # shown masked only
    assert "sk-…0001" in p.text and "next:" in p.text and "dsconfig off" in p.text and "dsconfig status" in p.text
    assert "+++ b/" + str(world.settings).lstrip("/") in p.text  # the diff was shown before the confirmation
    assert ProfileStore().load().active == "ds"
    assert fake_deepseek.message_requests and all(r.key == GOOD_KEY for r in fake_deepseek.message_requests)


def test_what_switching_warns_is_shown_once_by_the_wizard_not_printed(world: World, fake_deepseek: FakeDeepSeek,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The switch's notices (here: an exported variable the profile does not override) come back as data; the
    wizard shows each once, as `dsconfig use` would word it, among its own lines. Nothing goes to stderr."""
    world = replace(world, tctx=replace(world.tctx, environ={**world.tctx.environ, "ANTHROPIC_CUSTOM_HEADERS": "X-A: b"}))
    p = ScriptedPrompter({"key": GOOD_KEY})
    world.run(p, base_url=fake_deepseek.base_url)
    shown = [line for line in p.told if "ANTHROPIC_CUSTOM_HEADERS" in line]
    assert len(shown) == 1 and shown[0].startswith("warning: exported in this environment"), p.told
    assert capsys.readouterr().err == ""


def test_rerun_edits_the_profile_and_every_question_defaults_to_the_current_value(world: World, fake_deepseek: FakeDeepSeek) -> None:
    world.run(ScriptedPrompter({"key": GOOD_KEY}), base_url=fake_deepseek.base_url)
    first = world.snapshot()
    again = ScriptedPrompter()  # Enter everywhere
    result = world.run(again)
    assert world.snapshot() == first  # not a byte changed: profile, journal, settings, backups
    assert again.question("provider").default == "deepseek"
    assert again.question("profile").default == "ds"
    assert again.question("key").default == "" and "Enter keeps the stored key sk-…0001" in again.told
    assert again.question("models").choice_label("keep").startswith("Current models:")
    assert again.question("scope").default == "user"
    assert not result.created and not result.key_stored and result.verified == "passed"
    assert list(world.profiles()) == ["ds"]
    assert world.profiles()["ds"].base_url == fake_deepseek.base_url  # kept without --base-url
    # Nothing changes (issue 14): said so, and nothing asked to confirm; no "will update", no "updated profile".
    assert "confirm" not in again.ids and not result.changed
    assert "nothing changes: profile 'ds', its key and every file are already set up this way" in again.text
    assert "nothing changed: profile 'ds'" in again.text
    assert "will update" not in again.text and "updated profile" not in again.text
    assert "does not look like" not in again.text  # Enter kept the stored key: no shape warning

    # a third run changes the key and a model; the rest stays
    fake_deepseek.keys = {GOOD_KEY, OTHER_KEY}
    third = ScriptedPrompter({"key": OTHER_KEY, "models": "type", "model.haiku": "deepseek-v4-pro"})
    world.run(third)
    assert third.question("model.main").default == "deepseek-flash[1m]"
    assert world.keyring.items == {"ds": OTHER_KEY}
    assert world.profiles()["ds"] == Profile("ds", "deepseek", fake_deepseek.base_url, {"haiku": "deepseek-v4-pro"})
    assert json.loads(world.settings.read_text())["env"]["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "deepseek-v4-pro"


def test_models_from_the_live_list_and_flags(world: World, fake_deepseek: FakeDeepSeek) -> None:
    p = ScriptedPrompter({"key": GOOD_KEY, "models": "pick", "model.main": "deepseek-v4-flash"})
    world.run(p, base_url=fake_deepseek.base_url)
    assert [c.value for c in p.question("models").choices] == ["keep", "pick", "type"]
    # the template's own ids, then what the provider lists now (the fake serves DeepSeek's current list)
    assert {c.value for c in p.question("model.opus").choices} == {"deepseek-flash[1m]", "deepseek-flash", "deepseek-v4-pro"}
    assert world.profiles()["ds"].models == {"main": "deepseek-v4-flash"}

    flagged = ScriptedPrompter()
    world.run(flagged, models={"sonnet": "deepseek-v4-flash"})
    assert "models" not in flagged.ids
    assert world.profiles()["ds"].models == {"main": "deepseek-v4-flash", "sonnet": "deepseek-v4-flash"}


def test_custom_gateway_asks_its_url(world: World, fake_deepseek: FakeDeepSeek) -> None:
    p = ScriptedPrompter({"provider": "custom", "base_url": ["not a url", fake_deepseek.base_url], "key": GOOD_KEY,
                          "models": "type", "model.main": "deepseek-v4-pro", "model.haiku": "deepseek-v4-flash"})
    world.run(p)
    assert p.ids.count("base_url") == 2 and "the URL contains a space" in p.text  # re-asked after the bad answer
    assert p.question("profile").default == "custom"
    assert world.profiles()["custom"] == Profile("custom", "custom", fake_deepseek.base_url,
                                                 {"main": "deepseek-v4-pro", "haiku": "deepseek-v4-flash"})


def test_region_choice_and_project_scope_and_shell_line(world: World) -> None:
    p = ScriptedPrompter({"provider": "kimi", "region": "https://api.moonshot.cn/anthropic", "key": OTHER_KEY,
                          "targets": lambda q: (*q.default, "shell"), "scope": "project"})
    result = world.run(p, no_verify=True)
    assert {c.value for c in p.question("region").choices} == {"https://api.moonshot.ai/anthropic", "https://api.moonshot.cn/anthropic"}
    assert world.profiles()["kimi"].base_url == "https://api.moonshot.cn/anthropic"
    local = world.proj / ".claude" / "settings.local.json"
    assert json.loads(local.read_text())["env"]["ANTHROPIC_BASE_URL"] == "https://api.moonshot.cn/anthropic"
    assert not world.settings.exists()
    # The startup line names --shell (never a guess at startup) and runs dsconfig by its absolute path.
    assert result.shell_line is not None and result.shell_line in p.text
    assert result.shell_line.startswith('eval "$(/') and result.shell_line.endswith(' env kimi --shell bash)"')
    assert "undo:             dsconfig off --scope project" in p.text
    assert result.verified == "skipped"


def test_claude_desktop_is_offered_when_present_and_written(world: World, fake_deepseek: FakeDeepSeek) -> None:
    plain = ScriptedPrompter({"key": GOOD_KEY})
    world.run(plain, base_url=fake_deepseek.base_url, yes=True)
    assert "targets" not in plain.ids  # --yes: the default (Claude Code) was taken
    # Desktop's MCP config file: Desktop is on this machine (its servers must survive)
    desktop_config = world.home / ".config" / "Claude" / "claude_desktop_config.json"
    desktop_config.parent.mkdir(parents=True)
    desktop_config.write_text('{"mcpServers": {"files": {"command": "npx"}}}\n')
    p = ScriptedPrompter()
    result = world.run(p)
    targets = p.question("targets")
    assert [(c.value, c.checked) for c in targets.choices] == [("claude-code", True), ("claude-desktop", True), ("shell", False)]
    assert [r.targets for r in result.switches] == [("claude-code",), ("claude-desktop",)]
    meta = json.loads((world.home / ".config" / "Claude-3p" / "configLibrary" / "_meta.json").read_text())
    assert meta["appliedId"] and "dsconfig off --target all" in p.text
    assert json.loads(desktop_config.read_text()) == {"mcpServers": {"files": {"command": "npx"}}, "deploymentMode": "3p"}


# --- adoption -----------------------------------------------------------------------------------------


def hand_made(world: World, base_url: str, key: str, **env: str) -> dict[str, Any]:
    doc = {"permissions": {"allow": ["Bash(ls:*)"]},
           "env": {"ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_AUTH_TOKEN": key, **env}}
    world.write_settings(doc)
    return doc


def test_adopting_an_inline_key_moves_it_into_the_keyring_and_out_of_every_file(world: World, fake_deepseek: FakeDeepSeek) -> None:
    original = hand_made(world, fake_deepseek.base_url, GOOD_KEY, ANTHROPIC_MODEL="deepseek-v4-pro",
                         ANTHROPIC_SMALL_FAST_MODEL="deepseek-v4-flash")
    result = world.run(NoTerminalPrompter(), yes=True)  # no terminal, --yes: adopting is the default
    assert result.adopted_from == str(world.settings) and result.verified == "passed"
    assert world.keyring.items == {"custom": GOOD_KEY}
    assert world.profiles()["custom"] == Profile("custom", "custom", fake_deepseek.base_url,
                                                 {"main": "deepseek-v4-pro", "haiku": "deepseek-v4-flash"})
    after = json.loads(world.settings.read_text())
    assert after["permissions"] == {"allow": ["Bash(ls:*)"]}  # the user's other settings stay
    assert after["env"]["ANTHROPIC_BASE_URL"] == fake_deepseek.base_url  # same endpoint
    assert after["env"]["ANTHROPIC_MODEL"] == "deepseek-v4-pro"  # same models
    assert after["env"]["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "deepseek-v4-flash"
    assert "ANTHROPIC_SMALL_FAST_MODEL" not in after["env"]
    assert after["env"]["ANTHROPIC_AUTH_TOKEN"] == "" and after["apiKeyHelper"].endswith("key get custom")
    assert GOOD_KEY.encode() not in all_bytes_under(world.home, world.dshome)  # journal and backups included
    backups = list((world.dshome / "state" / "backups").iterdir())
    assert backups and all(b"Bash(ls:*)" in b.read_bytes() for b in backups)

    # `off` puts the hand-made setup back, except the key: it lives in the keyring now
    world.off()
    assert GOOD_KEY.encode() not in all_bytes_under(world.home, world.dshome)
    del original["env"]["ANTHROPIC_AUTH_TOKEN"]
    assert json.loads(world.settings.read_text()) == original


def test_adoption_then_off_keeps_the_exact_text_of_members_dsconfig_never_owned(world: World) -> None:
    """Issue 11 case 6: after adoption and `off`, `"permissions": {"allow": ["Bash(ls)"]}` is not re-wrapped."""
    world.settings.parent.mkdir(parents=True, exist_ok=True)
    text = ('{\n  "permissions": {"allow": ["Bash(ls)"]},\n  "env": {\n    "ANTHROPIC_BASE_URL": '
            '"https://api.deepseek.com/anthropic",\n    "ANTHROPIC_AUTH_TOKEN": "' + OTHER_KEY + '"\n  },\n'
            '  "statusLine": {"type": "command", "command": "echo  hi"}\n}\n')
    world.settings.write_text(text)
    world.run(NoTerminalPrompter(), yes=True, no_verify=True)
    assert world.keyring.items == {"ds": OTHER_KEY}
    world.off()
    after = world.settings.read_text()
    assert '"permissions": {"allow": ["Bash(ls)"]},' in after
    assert '"statusLine": {"type": "command", "command": "echo  hi"}' in after
    assert OTHER_KEY not in after  # the key lives in the keyring now
    assert after == text.replace(',\n    "ANTHROPIC_AUTH_TOKEN": "' + OTHER_KEY + '"', "")
    assert OTHER_KEY.encode() not in all_bytes_under(world.home, world.dshome)


def test_adoption_also_cleans_backups_of_earlier_rounds(world: World, fake_deepseek: FakeDeepSeek) -> None:
    hand_made(world, fake_deepseek.base_url, GOOD_KEY)
    actions.profile_add("old", "custom", base_url=fake_deepseek.base_url, ctx=world.actx)
    world.use("old")  # backs the file up, key included
    world.off()  # the journal forgets it; the backup stays
    assert GOOD_KEY.encode() in all_bytes_under(world.dshome / "state" / "backups")
    world.run(NoTerminalPrompter(), yes=True, no_verify=True)
    assert world.keyring.items == {"custom": GOOD_KEY}
    assert GOOD_KEY.encode() not in all_bytes_under(world.home, world.dshome)


def test_adoption_guesses_the_provider_and_keeps_only_differing_models(world: World) -> None:
    hand_made(world, "https://api.deepseek.com/anthropic/", OTHER_KEY, ANTHROPIC_MODEL="deepseek-v4-pro",
              ANTHROPIC_DEFAULT_HAIKU_MODEL="deepseek-flash", CLAUDE_CODE_EFFORT_LEVEL="high")
    p = ScriptedPrompter()
    world.run(p, no_verify=True)
    assert p.ids[:3] == ["adopt", "provider", "profile"]
    assert p.question("provider").default == "deepseek" and p.question("key").default == ""
    assert "found a setup not made by dsconfig" in p.text and "sk-…5151" in p.text
    # haiku equals the template's: no override; main and the effort level differ: kept as overrides
    assert world.profiles()["ds"] == Profile("ds", "deepseek", None, {"main": "deepseek-v4-pro"},
                                             {"CLAUDE_CODE_EFFORT_LEVEL": "high"})
    assert world.keyring.items == {"ds": OTHER_KEY}


@pytest.mark.parametrize(("url", "expected"), [
    ("https://api.moonshot.cn/anthropic", ("kimi", "https://api.moonshot.cn/anthropic")),
    ("https://API.DEEPSEEK.COM/anthropic", ("deepseek", None)),
    ("http://localhost:11434", ("ollama", None)),  # Ollama's own template since issue 13
    ("http://localhost:8080", ("custom", "http://localhost:8080")),
    ("https://gateway.example.com/v1/", ("custom", "https://gateway.example.com/v1")),
    (None, ("anthropic", None)),
])
def test_guess_provider(url: str | None, expected: tuple[str, str | None]) -> None:
    from dsconfig.templates import load_templates

    assert guess_provider(url, load_templates().templates) == expected


def test_declining_adoption_and_the_environment_source(world: World) -> None:
    hand_made(world, "https://api.deepseek.com/anthropic", OTHER_KEY)
    p = ScriptedPrompter({"adopt": False, "key": GOOD_KEY})
    world.run(p, no_verify=True)
    assert p.question("key").default is None  # not adopted: nothing to keep with Enter
    assert world.keyring.items == {"ds": GOOD_KEY}

    env_world = World(**{**world.__dict__, "tctx": TargetContext(
        home=world.home / "other", platform="linux", cwd=world.proj, journal=world.tctx.journal,
        environ={"ANTHROPIC_BASE_URL": "https://api.z.ai/api/anthropic", "ANTHROPIC_AUTH_TOKEN": OTHER_KEY})})
    p2 = ScriptedPrompter()
    result = env_world.run(p2, no_verify=True)
    assert result.adopted_from == "environment" and world.profiles()["glm"].base_url == "https://api.z.ai/api/anthropic"
    assert "remove those lines from your shell's startup file" in p2.text


# --- the test call fails --------------------------------------------------------------------------------


def test_refused_key_then_reentry(world: World, fake_deepseek: FakeDeepSeek) -> None:
    p = ScriptedPrompter({"key": [BAD_KEY, GOOD_KEY], "verify_failed": "retry"})
    result = world.run(p, base_url=fake_deepseek.base_url)
    assert p.ids.count("key") == 2 and p.ids.count("verify_failed") == 1
    assert p.question("verify_failed").default is None  # --yes cannot pick "continue" for you
    assert "auth:" in p.text and "refused the API key" in p.text
    assert result.verified == "passed" and world.keyring.items == {"ds": GOOD_KEY}
    assert BAD_KEY not in p.text


def test_refused_key_continue_anyway_or_abort(world: World, fake_deepseek: FakeDeepSeek) -> None:
    before = world.snapshot()
    with pytest.raises(DsconfigError, match="aborted"):
        world.run(ScriptedPrompter({"key": BAD_KEY, "verify_failed": "abort"}), base_url=fake_deepseek.base_url)
    assert world.snapshot() == before and world.keyring.items == {}
    result = world.run(ScriptedPrompter({"key": BAD_KEY, "verify_failed": "continue"}), base_url=fake_deepseek.base_url)
    assert result.verified == "failed" and world.keyring.items == {"ds": BAD_KEY}


def test_refused_key_without_a_terminal_fails_with_the_verify_exit_code(world: World, fake_deepseek: FakeDeepSeek) -> None:
    before = world.snapshot()
    with pytest.raises(DsconfigError) as caught:
        world.run(NoTerminalPrompter(), api_key=BAD_KEY, base_url=fake_deepseek.base_url, yes=True)
    assert caught.value.exit_code == EXIT_VERIFY_AUTH and "--no-verify" in (caught.value.hint or "")
    assert world.snapshot() == before and world.keyring.items == {}


# --- without a terminal ---------------------------------------------------------------------------------


def test_no_terminal_names_the_missing_flag(world: World) -> None:
    with pytest.raises(UsageError, match="Provider") as caught:
        world.run(NoTerminalPrompter())
    assert caught.value.exit_code == EXIT_USAGE and "--provider" in (caught.value.hint or "")
    with pytest.raises(UsageError, match="API key") as key:
        world.run(NoTerminalPrompter(), yes=True, no_verify=True)
    assert "--api-key-stdin" in (key.value.hint or "")
    with pytest.raises(UsageError, match="Write these changes") as confirm:
        world.run(NoTerminalPrompter(), provider="deepseek", profile="ds", api_key=GOOD_KEY, no_verify=True,
                  targets=("claude-code",), scope="user", models={"main": "deepseek-v4-pro"})
    assert "--yes" in (confirm.value.hint or "")
    with pytest.raises(UsageError, match="unknown provider"):
        world.run(NoTerminalPrompter(), provider="nope", yes=True)
    with pytest.raises(UsageError, match="invalid profile name"):
        world.run(NoTerminalPrompter(), profile="bad name!", yes=True)
    assert not world.settings.exists() and not (world.dshome / "profiles.toml").exists()


def test_no_keyring_stops_before_the_key_is_asked(world: World) -> None:
    class NoKeyring(MemoryKeyring):
        def get(self, name: str) -> str | None:
            raise KeyringUnavailableError("no OS keyring is available", "install one")

    world.actx = actions.Context(store=ProfileStore(), secrets=NoKeyring(), environ={})
    # Without a terminal: exit 5 at once (its hint lists the other sources), before any key is read.
    with pytest.raises(KeyringUnavailableError) as caught:
        world.run(NoTerminalPrompter(), yes=True, no_verify=True)
    assert caught.value.exit_code == EXIT_KEYRING
    # On a terminal: the other sources are offered instead of stopping (issue 16).
    p = ScriptedPrompter({"key_source": "env", "key_source.env": "MY_DS_KEY"})
    world.run(p, no_verify=True)
    assert "key" not in p.ids and p.ids[:4] == ["provider", "profile", "key_source", "key_source.env"]
    assert [c.value for c in p.question("key_source").choices] == ["env", "command", "kernel"]
    assert p.question("key_source").message == "Where should the key live?"
    assert "no OS keyring is available: the key can live somewhere else instead" in p.text
    assert str(world.profiles()["ds"].key_source) == "env:MY_DS_KEY"


def test_a_keyring_that_keeps_nothing_stops_before_any_file(world: World) -> None:
    class Forgetful(MemoryKeyring):
        def set(self, name: str, key: str) -> None:
            pass  # like keyring's null backend

    world.actx = actions.Context(store=ProfileStore(), secrets=Forgetful(), environ={})
    with pytest.raises(KeyringUnavailableError, match="did not keep the key"):
        world.run(ScriptedPrompter({"key": GOOD_KEY}), no_verify=True, yes=True)
    assert world.snapshot() == {}


def test_saying_no_at_the_end_writes_nothing(world: World, fake_deepseek: FakeDeepSeek) -> None:
    before = world.snapshot()
    with pytest.raises(DsconfigError, match="nothing was written") as said_no:
        world.run(ScriptedPrompter({"key": GOOD_KEY, "confirm": False}), base_url=fake_deepseek.base_url)
    assert world.snapshot() == before and world.keyring.items == {}
    # A cancel, not an error (issue 14): exit 0, "cancelled: nothing was written".
    assert said_no.value.exit_code == 0 and said_no.value.render() == "cancelled: nothing was written"


# --- Ctrl-C anywhere --------------------------------------------------------------------------------------


def _full_adoption_script(world: World, fake: FakeDeepSeek) -> Callable[..., ScriptedPrompter]:
    """A run that asks every question of the adoption path: the adopted key is refused, a new one is typed,
    models are typed, the shell is added, user scope, confirmed."""
    hand_made(world, fake.base_url, BAD_KEY, ANTHROPIC_MODEL="deepseek-v4-pro")

    def make(interrupt_at: str | None = None) -> ScriptedPrompter:
        return ScriptedPrompter({"key": [DEFAULT, GOOD_KEY], "verify_failed": "retry", "models": "type",
                                 "targets": lambda q: (*q.default, "shell")}, interrupt_at=interrupt_at)

    return make


# A custom gateway has no model names of its own: they are asked before the test call, which then checks them.
ADOPTION_QUESTIONS = ["adopt", "provider", "profile", "base_url", "key", "models", "model.main", "model.opus",
                      "model.sonnet", "model.haiku", "model.fable", "model.subagent", "verify_failed", "targets", "scope",
                      "confirm"]


def test_the_interrupt_script_reaches_every_question(world: World, fake_deepseek: FakeDeepSeek) -> None:
    make = _full_adoption_script(world, fake_deepseek)
    p = make()
    world.run(p)
    assert list(dict.fromkeys(p.ids)) == ADOPTION_QUESTIONS
    assert world.keyring.items == {"custom": GOOD_KEY}


@pytest.mark.parametrize("at", ADOPTION_QUESTIONS)
def test_ctrl_c_at_any_question_leaves_every_file_untouched(world: World, fake_deepseek: FakeDeepSeek, at: str) -> None:
    make = _full_adoption_script(world, fake_deepseek)
    before = world.snapshot()
    with pytest.raises(KeyboardInterrupt):
        world.run(make(at))
    assert world.snapshot() == before
    assert world.keyring.items == {}


def test_ctrl_c_during_the_test_call_leaves_every_file_untouched(world: World) -> None:
    def interrupted(*_: Any) -> Any:
        raise KeyboardInterrupt

    before = world.snapshot()
    with pytest.raises(KeyboardInterrupt):
        wizard.run_wizard(SetupOptions(api_key=GOOD_KEY, yes=True), prompter=ScriptedPrompter(), actx=world.actx,
                          tctx=world.tctx, root=world.root, verifier=interrupted)
    assert world.snapshot() == before and world.keyring.items == {}


def test_a_failing_write_puts_the_keyring_back(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.run(ScriptedPrompter({"key": GOOD_KEY}), no_verify=True, yes=True)

    def broken(self: ProfileStore, profile: Profile) -> Any:
        raise DsconfigError("disk full")

    monkeypatch.setattr(ProfileStore, "update", broken)
    with pytest.raises(DsconfigError, match="disk full"):
        world.run(ScriptedPrompter({"key": OTHER_KEY}), no_verify=True)
    assert world.keyring.items == {"ds": GOOD_KEY}


# --- key sources (issue 16) -----------------------------------------------------------------------------


def test_key_source_env_is_read_for_the_test_call_and_nothing_is_stored(world: World, fake_deepseek: FakeDeepSeek) -> None:
    from dsconfig.keysources import parse

    world.actx = actions.Context(store=ProfileStore(), secrets=world.keyring, environ={"MY_DS_KEY": GOOD_KEY})
    p = ScriptedPrompter()
    result = world.run(p, base_url=fake_deepseek.base_url, key_source=parse("env:MY_DS_KEY"))
    assert "key" not in p.ids and "key_source" not in p.ids  # the flag answers it; the key is the variable's
    assert result.verified == "passed" and world.keyring.items == {}
    assert str(world.profiles()["ds"].key_source) == "env:MY_DS_KEY" and result.key_source == "env:MY_DS_KEY"
    assert "the key stays in the environment variable MY_DS_KEY (env:MY_DS_KEY): dsconfig stores nothing" in p.text
    assert "key source: env:MY_DS_KEY (dsconfig stores no key for this profile)" in p.text
    assert GOOD_KEY not in p.text and fake_deepseek.message_requests[0].key == GOOD_KEY
    with pytest.raises(UsageError, match="nothing for dsconfig to store"):
        world.run(ScriptedPrompter(), api_key=GOOD_KEY, key_source=parse("env:MY_DS_KEY"), profile="other")


def test_key_source_command_and_kernel(world: World, fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    from dsconfig.keysources import parse

    script = tmp_path / "print-key.sh"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' '{GOOD_KEY}'\n")
    script.chmod(0o700)
    p = ScriptedPrompter()
    world.run(p, base_url=fake_deepseek.base_url, key_source=parse(f"command:{script}"), yes=True)
    assert p.text.count("test call passed") == 1 and world.keyring.items == {}
    assert str(world.profiles()["ds"].key_source) == f"command:{script}"

    kernel = MemoryKeyring()
    world.actx.kernel = kernel
    k = ScriptedPrompter({"key": GOOD_KEY})
    world.run(k, base_url=fake_deepseek.base_url, key_source=parse("kernel"), profile="kern", yes=True)
    assert kernel.items == {"kern": GOOD_KEY} and "kern" not in world.keyring.items
    assert "will store the key sk-…0001 in the Linux kernel keyring (until reboot)" in k.text
    assert "stored the key sk-…0001 in the Linux kernel keyring" in k.text


def test_a_refused_key_from_a_command_is_read_again_after_the_fix(world: World, fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    from dsconfig.keysources import parse

    vault = tmp_path / "vault.txt"
    vault.write_text(BAD_KEY + "\n")

    def fix_the_vault(q: Question) -> str:
        vault.write_text(GOOD_KEY + "\n")
        return "again"

    p = ScriptedPrompter({"verify_failed": fix_the_vault})
    result = world.run(p, base_url=fake_deepseek.base_url, key_source=parse(f"command:cat {vault}"))
    menu = p.question("verify_failed")
    assert [c.value for c in menu.choices] == ["again", "continue", "abort"]  # nothing to type: the command has it
    assert "it is the key from the output of a command" in p.text and 'choose "Enter the key again"' not in p.text
    assert result.verified == "passed" and world.keyring.items == {}


def test_a_source_that_cannot_give_the_key_yet_skips_the_test_call(world: World) -> None:
    from dsconfig.keysources import parse

    p = ScriptedPrompter()
    result = world.run(p, key_source=parse("env:NOT_SET_ANYWHERE"), yes=True)
    assert result.verified == "skipped" and "NOT_SET_ANYWHERE is not set" in p.text
    assert "the test call is skipped until the environment variable NOT_SET_ANYWHERE gives the key" in p.text
    assert str(world.profiles()["ds"].key_source) == "env:NOT_SET_ANYWHERE"


def test_setup_without_a_usable_keyring_takes_another_source(run_dsconfig: Any, fake_deepseek: FakeDeepSeek, home: Path) -> None:
    """The `fail` backend: no keyring at all. Without --key-source setup stops with exit 5 naming the other
    sources; with one it succeeds and stores nothing anywhere."""
    no_keyring = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "MY_DS_KEY": GOOD_KEY}
    stopped = run_dsconfig("setup", "--yes", "--base-url", fake_deepseek.base_url, input="", env=no_keyring)
    assert stopped.returncode == EXIT_KEYRING, stopped.stderr
    assert "env:" in stopped.stderr and "command:" in stopped.stderr and "kernel" in stopped.stderr
    assert "Traceback" not in stopped.stderr
    proc = run_dsconfig("setup", "--yes", "--base-url", fake_deepseek.base_url, "--key-source", "env:MY_DS_KEY",
                        input="", env=no_keyring)
    assert proc.returncode == 0, proc.stderr
    assert "test call: passed" in proc.stderr and GOOD_KEY not in proc.stderr
    settings = json.loads((home / ".claude" / "settings.json").read_text())
    assert settings["apiKeyHelper"].endswith("key get ds")
    got = run_dsconfig("key", "get", "ds", env=no_keyring)
    assert got.returncode == 0 and got.stdout.strip() == GOOD_KEY


# --- first-run papercuts (issue 14) ----------------------------------------------------------------------


def test_a_typed_wrong_key_is_called_typed_and_the_fixes_work_before_the_profile_exists(
        world: World, fake_deepseek: FakeDeepSeek, capsys: pytest.CaptureFixture[str]) -> None:
    p = ScriptedPrompter({"key": BAD_KEY, "verify_failed": "abort"})
    with pytest.raises(DsconfigError, match="aborted") as aborted:
        world.run(p, base_url=fake_deepseek.base_url)
    assert "it is the key you just typed (nothing is stored yet)" in p.text
    assert "came from the OS keyring" not in p.text
    assert "dsconfig key set ds" not in p.text and "dsconfig verify ds" not in p.text
    assert 'choose "Enter the key again" below' in p.text
    assert "dsconfig verify ds" not in (aborted.value.hint or "")
    menu = p.question("verify_failed")
    assert menu.choices[0].value == "retry"  # the key was refused: the cursor starts on "Enter the key again"
    assert menu.choice_label("continue") == "Continue anyway (nothing verified)"  # true: no check passed
    # Without a terminal, the piped key is named as such; the fix is the flag, not `key set`.
    capsys.readouterr()
    with pytest.raises(DsconfigError) as piped:
        world.run(NoTerminalPrompter(), api_key=BAD_KEY, base_url=fake_deepseek.base_url, yes=True)
    told = capsys.readouterr().err
    assert "it is the key read from standard input (--api-key-stdin; nothing is stored yet)" in told
    assert "dsconfig key set" not in told + (piped.value.hint or "") and "--api-key-stdin" in (piped.value.hint or "")


def test_a_refused_model_is_not_blamed_on_the_key(world: World, fake_deepseek: FakeDeepSeek) -> None:
    """The key is fine, one model name is wrong: the menu starts on the model names, and "Continue anyway"
    says how many checks passed (it is not "nothing verified")."""
    world.run(ScriptedPrompter({"key": GOOD_KEY}), base_url=fake_deepseek.base_url, yes=True)
    p = ScriptedPrompter({"models": "type", "model.haiku": ["deepseek-nope", "deepseek-v4-flash"],
                          "verify_failed": "models"})
    world.run(p)
    assert "checking the models you chose" in p.text  # the typed names are tested, after they were typed
    menu = p.question("verify_failed")
    assert [c.value for c in menu.choices][:2] == ["models", "retry"]
    label = menu.choice_label("continue")
    assert label.startswith("Continue anyway (") and "checks passed" in label and "nothing verified" not in label
    assert "it is the key" not in p.text  # no key blamed
    assert world.profiles()["ds"].models.get("haiku") == "deepseek-v4-flash"


def test_a_provider_failure_starts_the_menu_on_trying_again(world: World, fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.fail_with = 503
    p = ScriptedPrompter({"key": GOOD_KEY, "verify_failed": "continue"})
    world.run(p, base_url=fake_deepseek.base_url)
    menu = p.question("verify_failed")
    assert menu.choices[0].value == "again"
    assert "checks passed" in menu.choice_label("continue")  # the model list and balance answered


def test_base_url_flag_shows_in_the_provider_list(world: World, fake_deepseek: FakeDeepSeek) -> None:
    p = ScriptedPrompter({"key": GOOD_KEY})
    world.run(p, base_url=fake_deepseek.base_url, no_verify=True)
    label = p.question("provider").choice_label("deepseek")
    assert fake_deepseek.base_url in label and "api.deepseek.com" not in label


def test_key_shape_warning_in_words_once(world: World) -> None:
    p = ScriptedPrompter({"key": OTHER_KEY})
    world.run(p, no_verify=True, yes=True)
    warning = "does not look like a DeepSeek key (DeepSeek keys look like sk- and 32 hex characters)"
    assert p.text.count(warning) == 1 and "[0-9a-f]" not in p.text and "{32}" not in p.text
    again = ScriptedPrompter()  # Enter keeps the stored key: no warning
    world.run(again, no_verify=True)
    assert "does not look like" not in again.text


def test_custom_gateway_key_text_name_default_and_checked_models(world: World, fake_deepseek: FakeDeepSeek) -> None:
    actions.profile_add("custom", "custom", base_url="http://gateway.example:4000", ctx=world.actx)
    p = ScriptedPrompter({"provider": "custom", "base_url": fake_deepseek.base_url, "key": GOOD_KEY,
                          "models": "type", "model.main": "not-a-model", "verify_failed": "continue"})
    world.run(p)
    assert "Get a Custom gateway key" not in p.text
    assert "The Custom gateway key: your gateway's administrator or its own configuration" in p.text
    assert p.question("profile").default == "custom-2"  # Enter never overwrites the existing gateway profile
    assert p.ids.index("model.main") < p.ids.index("verify_failed")  # the typed names were tested
    assert "not-a-model" in p.text and p.question("verify_failed").choices[0].value == "models"
    assert world.profiles()["custom"].base_url == "http://gateway.example:4000"


def test_the_wizard_lists_providers_in_the_order_of_the_providers_command(world: World) -> None:
    p = ScriptedPrompter({"key": GOOD_KEY})
    world.run(p, no_verify=True, yes=False)
    listed = [t["id"] for t in actions.providers_doc()["providers"]]
    assert [c.value for c in p.question("provider").choices] == listed


def test_enter_everywhere_writes_deepseeks_current_guide_values_plus_the_fable_tier(world: World) -> None:
    """Issue 13, "done when": DeepSeek's Claude Code guide (TARGETS.md section 1, checked 2026-11-30) plus fable."""
    world.run(ScriptedPrompter({"key": GOOD_KEY}), no_verify=True)  # Enter everywhere else
    env = json.loads(world.settings.read_text())["env"]
    assert {k: v for k, v in env.items() if v != ""} == {
        **DEEPSEEK_GUIDE_ENV,
        # the /model picker's labels (template data; 2.1.332 shows `_NAME` with a custom base URL)
        "ANTHROPIC_DEFAULT_OPUS_MODEL_NAME": "DeepSeek Flash (1M)",
        "ANTHROPIC_DEFAULT_SONNET_MODEL_NAME": "DeepSeek Flash (1M)",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL_NAME": "DeepSeek Flash",
        "ANTHROPIC_DEFAULT_FABLE_MODEL_NAME": "DeepSeek Flash (1M)",
    }
    assert env["ANTHROPIC_AUTH_TOKEN"] == "" and env["ANTHROPIC_API_KEY"] == ""  # the helper's key is the only one
