"""`dsconfig setup`: the one-time wizard, from nothing (or a hand-made setup) to a verified profile in use.

Design (after aws-cli's `configure`, with its injected prompter, and copier's questions as data):

- Every question is data (`QUESTIONS`): an id, a kind, the text, and the flag that answers it. The wizard fills
  in defaults and choices from what it found; the README's flag table is this table.
- A question is answered, in order, by its flag; by its default under `--yes`; by the prompter. The prompter is
  injected: `QuestionaryPrompter` (the only place in dsconfig that imports questionary, lazily) on a terminal,
  `NoTerminalPrompter` without one (it fails at once, naming the flag), a scripted one in tests.
- Nothing is written before the last question ("Write these changes?") is answered yes: the profile, the key
  and every file change are planned in memory first (`switch.use(..., dry_run=True)` on a profile store and a
  secret store that hold the new profile only in memory). Ctrl-C at any question leaves every file as it was.
- The key lives where `--key-source` says (the OS keyring by default). Without a usable keyring the wizard
  offers env:VAR, command:CMD and kernel instead of stopping (without a terminal: exit 5, naming them). env:
  and command: store nothing; their key is read for the test call only.
- The test call checks what will be written: a custom gateway's model names are asked before it; changed
  model names of a template get a second one. Its failures are told the way setup stands (where the key came
  from; no command for a profile that does not exist yet), and the menu after it starts on what failed.
- A re-run that would write nothing says so and asks no confirmation.
- After the confirmation, in this order: the key into its store, read back (a store failure, or one that
  keeps nothing, stops before any file changes), the profile into profiles.toml, then `switch.use` per target
  (Claude Code, then Claude Desktop). An adopted inline key is then forgotten by the journal and the backup
  (`changes.forget_originals`) and scrubbed from older backups of earlier use/off rounds, so no dsconfig file
  keeps it in plain text and `dsconfig off` does not write it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import shlex
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import urlsplit

from dsconfig import actions, changes, output
from dsconfig.credentials import SecretStore, mask, normalize_key
from dsconfig.errors import Cancelled, DsconfigError, KeyringUnavailableError, UsageError
from dsconfig.keysources import COMMAND, ENV, KERNEL, KEYRING, KeySource
from dsconfig.profiles import TIER_VARIABLES, Profile, ProfileSet, ProfileStore, Resolved, resolve, validate_base_url
from dsconfig.targets.context import TargetContext
from dsconfig.templates import TIERS, Template, load_templates

if TYPE_CHECKING:
    from dsconfig.switch import SwitchResult
    from dsconfig.verify import ProfileReport, VerifyReport

CLAUDE_CODE = "claude-code"
CLAUDE_DESKTOP = "claude-desktop"
SHELL = "shell"
DESKTOP_MODULE = "dsconfig.targets.claude_desktop"
KEY_VARS = ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY")
STALE_HAIKU_VAR = "ANTHROPIC_SMALL_FAST_MODEL"
VERIFY_TIMEOUT = 30.0

Kind = Literal["confirm", "select", "text", "secret", "checkbox"]


# --- the questions, as data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    checked: bool = False  # checkbox preselection


@dataclass(frozen=True)
class Question:
    """One question. `flag` is what answers it on the command line (named in the error without a terminal)."""

    id: str
    kind: Kind
    message: str
    flag: str
    default: Any = None  # None: no default (--yes cannot answer it)
    choices: tuple[Choice, ...] = ()
    instruction: str | None = None
    validate: Callable[[Any], str | None] | None = field(default=None, compare=False)

    def choice_label(self, value: Any) -> str:
        return next((c.label for c in self.choices if c.value == value), str(value))


QUESTIONS: Mapping[str, Question] = {q.id: q for q in (
    Question("adopt", "confirm", "Adopt this setup as a dsconfig profile (the key moves into the OS keyring)?",
             "--adopt / --no-adopt"),
    Question("provider", "select", "Provider", "--provider ID"),
    Question("profile", "text", "Profile name", "--profile NAME"),
    Question("base_url", "text", "Base URL of the Anthropic-compatible endpoint", "--base-url URL"),
    Question("region", "select", "Endpoint", "--base-url URL"),
    Question("key_source", "select", "Where should the key live?", "--key-source keyring|env:VAR|command:CMD|kernel"),
    Question("key_source.env", "text", "Environment variable that will hold the key", "--key-source env:VAR"),
    Question("key_source.command", "text", "Command that prints the key (e.g. pass show deepseek)", "--key-source command:CMD"),
    Question("key", "secret", "API key (input hidden)", "--api-key-stdin"),
    Question("verify_failed", "select", "The test call failed. What now?", "--no-verify"),
    Question("models", "select", "Models", "--model TIER=MODEL"),
    *(Question(f"model.{tier}", "text", f"Model for {tier} ({TIER_VARIABLES[tier]})", f"--model {tier}=MODEL")
      for tier in TIERS),
    Question("targets", "checkbox", "Configure", "--target claude-code|claude-desktop|shell"),
    Question("scope", "select", "Claude Code settings for", "--scope user|project"),
    Question("confirm", "confirm", "Write these changes?", "--yes"),
)}


def question(qid: str, **values: Any) -> Question:
    """The question `qid` with this run's defaults and choices filled in."""
    return replace(QUESTIONS[qid], **values)


# --- prompters ----------------------------------------------------------------------------------------


class Prompter(Protocol):
    """Asks one question and returns the answer (the question's default for a plain Enter)."""

    @property
    def interactive(self) -> bool: ...

    def ask(self, q: Question) -> Any: ...

    def tell(self, text: str) -> None: ...


class NoTerminalPrompter:
    """Without a terminal nothing can be asked: fail at once, naming the flag (never wait for input)."""

    interactive = False

    def ask(self, q: Question) -> Any:
        hint = f"give {q.flag}" + (", or --yes to accept the default" if q.default is not None else "")
        if q.id == "key":
            hint = 'pipe the key in: printf %s "$KEY" | dsconfig setup ... --api-key-stdin'
        elif q.id == "confirm":
            hint = "add --yes to write the changes without asking"
        raise UsageError(f"setup needs an answer to {q.message!r} and there is no terminal to ask on", hint)

    def tell(self, text: str) -> None:
        output.note(text)


class QuestionaryPrompter:
    """The terminal prompter. questionary (and prompt_toolkit) load only here, only when a question is asked.

    Prompts draw on stderr, like every other message: stdout stays for data. `unsafe_ask` lets Ctrl-C raise
    KeyboardInterrupt (questionary's `ask` would swallow it and return None).
    """

    interactive = True

    def __init__(self, stream: Any = None) -> None:
        self._stream = stream

    def _kwargs(self) -> dict[str, Any]:
        from prompt_toolkit.output import create_output

        return {"output": create_output(stdout=self._stream or sys.stderr)}

    def ask(self, q: Question) -> Any:
        import questionary

        kw = self._kwargs()
        if q.kind == "confirm":
            return questionary.confirm(q.message, default=bool(q.default), **kw).unsafe_ask()
        if q.kind == "select":
            choices = [questionary.Choice(c.label, value=c.value) for c in q.choices]
            return questionary.select(q.message, choices=choices, default=q.default, instruction=q.instruction,
                                      **kw).unsafe_ask()
        if q.kind == "checkbox":
            choices = [questionary.Choice(c.label, value=c.value, checked=c.checked) for c in q.choices]
            return tuple(questionary.checkbox(q.message, choices=choices, instruction=q.instruction, **kw).unsafe_ask())
        check = _questionary_validator(q.validate)
        if q.kind == "secret":
            answer = questionary.password(q.message, validate=check, **kw).unsafe_ask()
            return q.default if answer == "" and q.default is not None else answer
        return questionary.text(q.message, default=str(q.default or ""), validate=check, **kw).unsafe_ask()

    def tell(self, text: str) -> None:
        (self._stream or sys.stderr).write(text + "\n")


def _questionary_validator(check: Callable[[Any], str | None] | None) -> Callable[[str], bool | str]:
    def run(text: str) -> bool | str:
        if check is None or text == "":  # "" is "keep the default": checked by the wizard afterwards
            return True
        return check(text) or True

    return run


def default_prompter(*, stdin_used: bool) -> Prompter:
    """The terminal prompter when stdin and stderr are terminals (and stdin is not the piped key)."""
    if not stdin_used and sys.stdin.isatty() and sys.stderr.isatty():
        return QuestionaryPrompter()
    return NoTerminalPrompter()


# --- options and result -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupOptions:
    """The flags of `dsconfig setup`; None means "ask" (or the default under --yes)."""

    provider: str | None = None
    profile: str | None = None
    api_key: str | None = None  # read from stdin by cli.py (--api-key-stdin)
    base_url: str | None = None
    models: Mapping[str, str] = field(default_factory=dict)
    targets: tuple[str, ...] = ()
    scope: str | None = None
    adopt: bool | None = None
    yes: bool = False
    no_verify: bool = False
    key_source: KeySource | None = None  # --key-source; None: the OS keyring (or ask, when there is none)


@dataclass(frozen=True)
class SetupResult:
    profile: str
    created: bool
    provider: str
    base_url: str
    key: str  # masked
    key_stored: bool  # False when the stored key was kept as it was
    adopted_from: str | None
    verified: str  # "passed", "failed", "skipped"
    switches: tuple[SwitchResult, ...] = ()
    shell_line: str | None = None
    changed: bool = True  # False: a re-run that found everything already set up this way (nothing written)
    key_source: str = "keyring"


Verifier = Callable[[Resolved, str], "VerifyReport"]


def _verify(resolved: Resolved, key: str, timeout: float = VERIFY_TIMEOUT) -> VerifyReport:
    from dsconfig import verify

    return asyncio.run(verify.verify_many([(resolved, key)], timeout=timeout))


# --- a hand-made setup to adopt -----------------------------------------------------------------------


@dataclass(frozen=True)
class Adoptable:
    """What a hand-made setup (or another switcher) left: where, which endpoint, key and models."""

    source: str  # a file path, or "environment"
    path: Path | None  # the settings file, None for the environment
    base_url: str | None
    key: str | None = field(repr=False)
    key_vars: tuple[str, ...]
    models: Mapping[str, str]
    env: Mapping[str, str]

    def describe(self) -> str:
        parts = [f"base URL {self.base_url}" if self.base_url else "no base URL (Anthropic's API)"]
        if self.key:
            parts.append(f"key {mask(self.key)} in plain text ({', '.join(self.key_vars)})")
        if self.models:
            parts.append("models " + ", ".join(f"{t}={m}" for t, m in self.models.items()))
        return f"found a setup not made by dsconfig in {self.source}: " + "; ".join(parts)


def _settings_env(path: Path) -> dict[str, str]:
    from dsconfig.targets import claude_code

    layer = claude_code.read_layer("user", path)
    return layer.env


def _written_by_dsconfig(path: Path, var: str, value: str, tctx: TargetContext) -> bool:
    record = tctx.journal.get(path)
    if record is None:
        return False
    key = record.key(("env", var))
    return key is not None and key.wrote == value


def _adoptable_from(source: str, path: Path | None, env: Mapping[str, str]) -> Adoptable | None:
    base = env.get("ANTHROPIC_BASE_URL") or None
    key_vars = tuple(v for v in KEY_VARS if env.get(v))
    if not base and not key_vars:
        return None
    models = {tier: env[var] for tier, var in TIER_VARIABLES.items() if env.get(var)}
    if "haiku" not in models and env.get(STALE_HAIKU_VAR):
        models["haiku"] = env[STALE_HAIKU_VAR]  # the deprecated name other switchers still write
    return Adoptable(source, path, base, env[key_vars[0]] if key_vars else None, key_vars, models, dict(env))


def find_adoptable(tctx: TargetContext, profiles: ProfileSet) -> Adoptable | None:
    """A hand-made setup: Claude Code's user settings first (an inline key, or a base URL dsconfig did not
    write), else the exported environment (unless it is a profile's own, e.g. from `dsconfig env`)."""
    from dsconfig.targets import claude_code

    path = claude_code.settings_file(tctx, "user")
    env = _settings_env(path)
    has_key = any(env.get(v) for v in KEY_VARS)
    base = env.get("ANTHROPIC_BASE_URL")
    if has_key or (base and not _written_by_dsconfig(path, "ANTHROPIC_BASE_URL", base, tctx)):
        return _adoptable_from(str(path), path, env)
    exported = {k: v for k, v in tctx.environ.items() if k.startswith(("ANTHROPIC_", "CLAUDE_CODE_"))}
    found = _adoptable_from("environment", None, exported)
    if found is None or _belongs_to_profile(found, profiles):
        return None
    return found


def _belongs_to_profile(found: Adoptable, profiles: ProfileSet) -> bool:
    from dsconfig.templates import load_template

    for profile in profiles.profiles.values():
        try:
            if resolve(profile, load_template(profile.provider)).base_url == (found.base_url or "").rstrip("/"):
                return True
        except DsconfigError:
            continue
    return False


def _same_url(a: str, b: str) -> bool:
    x, y = urlsplit(a.rstrip("/")), urlsplit(b.rstrip("/"))
    return (x.scheme.lower(), x.netloc.lower(), x.path) == (y.scheme.lower(), y.netloc.lower(), y.path)


def guess_provider(base_url: str | None, templates: Mapping[str, Template]) -> tuple[str, str | None]:
    """(template id, base URL override) for an endpoint: a template's URL or region, else `custom` with it.
    No base URL means Claude Code talks to Anthropic's own API."""
    if not base_url:
        return ("anthropic", None) if "anthropic" in templates else ("custom", None)
    for t in _ordered(templates):
        if t.id == "custom":
            continue
        if _same_url(base_url, t.base_url):
            return t.id, None
        for url in t.regions.values():
            if _same_url(base_url, url):
                return t.id, url
    return "custom", base_url.rstrip("/")


def _ordered(templates: Mapping[str, Template]) -> list[Template]:
    """The order `dsconfig providers` lists them in (templates.PROVIDER_ORDER; the user's own after)."""
    from dsconfig.templates import provider_sort_key

    return sorted(templates.values(), key=provider_sort_key)


# --- planning in memory ---------------------------------------------------------------------------------


class _PendingStore(ProfileStore):
    """The profiles file plus the profile being set up, in memory: lets `switch.use(dry_run=True)` plan for a
    profile that is written only after the confirmation. Any write is a bug."""

    def __init__(self, base: ProfileStore, profile: Profile) -> None:
        super().__init__(base.path)
        self._base = base
        self._profile = profile

    def load(self) -> ProfileSet:
        found = self._base.load()
        return ProfileSet({**found.profiles, self._profile.name: self._profile}, found.active)

    def _edit(self, change: Any) -> ProfileSet:
        raise AssertionError("the setup wizard's planning store must not write")


class _PendingSecrets:
    """The keyring, with the key being set up answered from memory (same protocol as KeyringStore)."""

    def __init__(self, base: SecretStore, name: str, key: str | None, missing: DsconfigError | None = None) -> None:
        self._base, self._name, self._key, self._missing = base, name, key, missing

    def get(self, name: str) -> str | None:
        if name == self._name and self._key is not None:
            return self._key
        if name == self._name and self._missing is not None:
            raise self._missing
        return self._base.get(name)

    def set(self, name: str, key: str) -> None:
        raise AssertionError("the setup wizard's planning keyring must not write")

    def delete(self, name: str) -> bool:
        raise AssertionError("the setup wizard's planning keyring must not write")

    def describe(self) -> str:
        return self._base.describe()


@contextlib.contextmanager
def _captured_stderr() -> Iterator[io.StringIO]:
    """Collect what a step warns (switch and the targets write to stderr) so the wizard shows it once."""
    buffer = io.StringIO()
    with contextlib.redirect_stderr(buffer):
        yield buffer


# --- the wizard -------------------------------------------------------------------------------------------


@dataclass
class _Draft:
    """Every answer so far. Nothing in here is written until the confirmation."""

    template: Template | None = None
    name: str = ""
    existing: Profile | None = None
    base_url: str | None = None  # override; None: the template's
    key: str | None = field(default=None, repr=False)
    key_kept: bool = False
    key_origin: str = "typed"  # typed, piped, stored, adopted, source (read from env:/command:)
    key_source: KeySource = field(default_factory=KeySource)
    key_problem: DsconfigError | None = None  # env:/command: could not give the key now (the test call is skipped)
    tested_models: dict[str, str] | None = None  # the models of the last test call (None: none ran yet)
    models: dict[str, str] = field(default_factory=dict)  # overrides of the template's
    env: dict[str, str] = field(default_factory=dict)
    adopt: Adoptable | None = None
    live_models: tuple[str, ...] = ()
    verified: str = "skipped"
    targets: tuple[str, ...] = ()
    scope: str = "user"

    def profile(self) -> Profile:
        assert self.template is not None
        return Profile(self.name, self.template.id, self.base_url, dict(self.models), dict(self.env), self.key_source)

    def resolved(self) -> Resolved:
        assert self.template is not None
        return resolve(self.profile(), self.template)


class _Wizard:
    def __init__(self, options: SetupOptions, prompter: Prompter, actx: actions.Context, tctx: TargetContext,
                 verifier: Verifier, root: Path | None) -> None:
        self.o, self.p, self.actx, self.tctx, self.verifier, self.root = options, prompter, actx, tctx, verifier, root
        found = load_templates()
        for err in found.errors:
            self.p.tell(f"warning: {err.message} (hint: {err.hint})")
        self.templates = found.templates
        self.profiles = actx.store.load()
        self.d = _Draft()
        self.unchanged = False  # set by plan(): a re-run that would write nothing

    # -- answering ------------------------------------------------------------------------------------

    def answer(self, q: Question, given: Any = None) -> Any:
        """The flag's value, else the default under --yes, else the prompter's answer; validated."""
        if given is not None:
            self._check(q, given)
            return given
        if self.o.yes and q.default is not None:
            return q.default
        while True:
            value = self.p.ask(q)
            problem = q.validate(value) if q.validate and value != q.default else None
            if problem is None:
                return value
            if not self.p.interactive:
                raise UsageError(problem, f"give {q.flag}")
            self.p.tell(f"  {problem}")

    def _check(self, q: Question, value: Any) -> None:
        problem = q.validate(value) if q.validate else None
        if problem is not None:
            raise UsageError(f"{q.flag.split()[0]}: {problem}", f"see `dsconfig setup --help` ({q.flag})")

    # -- the questions, in order -----------------------------------------------------------------------

    def ask_adopt(self) -> None:
        found = find_adoptable(self.tctx, self.profiles)
        if found is None:
            return
        self.p.tell(found.describe())
        if self.answer(question("adopt", default=True), self.o.adopt):
            self.d.adopt = found

    def ask_provider(self) -> None:
        guess: str | None = None
        if self.d.adopt is not None:
            guess, self.d.base_url = guess_provider(self.d.adopt.base_url, self.templates)
        active = self.profiles.profiles.get(self.profiles.active or "")
        default = guess or (active.provider if active and active.provider in self.templates else "deepseek")
        given = validate_base_url(self.o.base_url).rstrip("/") if self.o.base_url else None  # refused before shown

        def where(t: Template) -> str:
            if given:  # --base-url replaces every template's URL: show the one that will be used
                return f"{given}, from --base-url"
            return "your gateway URL" if t.id == "custom" else t.base_url

        choices = tuple(Choice(t.id, f"{t.name}  ({where(t)})") for t in _ordered(self.templates))
        q = question("provider", default=default, choices=choices, validate=self._known_provider)
        self.d.template = self.templates[self.answer(q, self.o.provider)]

    def _known_provider(self, value: Any) -> str | None:
        known = ", ".join(t.id for t in _ordered(self.templates))
        return None if value in self.templates else f"unknown provider {value!r} (known: {known})"

    def ask_profile(self) -> None:
        assert self.d.template is not None
        q = question("profile", default=self._default_name(self.d.template), validate=_name_problem)
        self.d.name = self.answer(q, self.o.profile)
        self.d.existing = self.profiles.profiles.get(self.d.name)
        if self.d.existing is not None and self.d.adopt is None:
            # Re-running setup edits the profile: its values are every following question's default.
            same = self.d.existing.provider == self.d.template.id
            self.d.base_url = self.d.existing.base_url if same else None
            self.d.models = dict(self.d.existing.models) if same else {}
            self.d.env = dict(self.d.existing.env)
        elif self.d.adopt is not None:
            self._adopt_values(self.d.adopt, self.d.template)

    def _default_name(self, template: Template) -> str:
        """Re-running setup for a provider edits its profile. Not for a custom gateway: another gateway is
        another profile, so Enter never overwrites one (unless --base-url names that profile's own gateway)."""
        if template.id == "custom":
            given = self.o.base_url
            same_gateway = [p.name for p in self.profiles.profiles.values()
                            if p.provider == "custom" and given and p.base_url and _same_url(p.base_url, given)]
            if self.d.adopt is None and same_gateway:
                return same_gateway[0]
            return self._fresh_name("custom")
        active = self.profiles.profiles.get(self.profiles.active or "")
        if self.d.adopt is None and active is not None and active.provider == template.id:
            return active.name
        same = [p.name for p in self.profiles.profiles.values() if p.provider == template.id]
        if self.d.adopt is None and same:
            return same[0]
        return self._fresh_name({"deepseek": "ds"}.get(template.id, template.id))

    def _fresh_name(self, stem: str) -> str:
        name, n = stem, 1
        while name in self.profiles.profiles:
            n += 1
            name = f"{stem}-{n}"
        return name

    def _adopt_values(self, found: Adoptable, template: Template) -> None:
        """Models and extra variables of the adopted setup that differ from the template become overrides, so
        the profile keeps the endpoint and models that already worked."""
        self.d.models = {t: m for t, m in found.models.items() if template.models.get(t) != m}
        self.d.env = {var: found.env[var] for var, value in template.env.items()
                      if var in found.env and found.env[var] != value}
        if found.base_url and template.id != "custom" and self.d.base_url is None \
                and not _same_url(found.base_url, template.base_url):
            self.d.base_url = found.base_url.rstrip("/")

    def ask_base_url(self) -> None:
        t = self.d.template
        assert t is not None
        given = validate_base_url(self.o.base_url) if self.o.base_url else None
        current = self.d.base_url or t.base_url
        urls = list(dict.fromkeys([t.base_url, *t.regions.values()]))
        if given is None and t.id == "custom":
            given = self.answer(question("base_url", default=current, validate=_url_problem))
        elif given is None and len(urls) > 1:
            names = {url: name for name, url in t.regions.items()}
            choices = [Choice(u, f"{names.get(u, 'default')}: {u}") for u in urls]
            if current not in urls:
                choices.append(Choice(current, f"current: {current}"))
            given = self.answer(question("region", default=current, choices=tuple(choices)))
        url = (given or current).rstrip("/")
        self.d.base_url = None if _same_url(url, t.base_url) else url

    def ask_key_source(self) -> None:
        """Where the key lives. The OS keyring unless --key-source says otherwise; asked only when there is no
        usable keyring (then env:, command: and kernel are offered instead of stopping) or when the profile
        being edited already keeps its key elsewhere."""
        existing = self.d.existing.key_source if self.d.existing is not None and self.d.adopt is None else None
        if self.o.key_source is not None:
            self.d.key_source = self.o.key_source
        elif existing is not None and existing.kind != KEYRING:
            self.d.key_source = self._pick_source(existing, keyring_ok=True)
        else:
            problem = self._keyring_problem()
            if problem is not None:
                if not self.p.interactive:
                    raise problem  # exit 5; its hint names --key-source env:, command: and kernel
                self.p.tell(f"{problem.message}: the key can live somewhere else instead")
                self.d.key_source = self._pick_source(None, keyring_ok=False)
        if self.d.key_source.kind == COMMAND:
            from dsconfig.keysources import command_secret_warning

            warning = command_secret_warning(self.d.key_source)
            if warning:
                self.p.tell(f"warning: {warning}")

    def _keyring_problem(self) -> KeyringUnavailableError | None:
        """Probe the OS keyring before any key is typed: without one nothing could be stored there."""
        try:
            actions._store_for(self.actx, KeySource()).get(self.d.name)
        except KeyringUnavailableError as err:
            return err
        return None

    def _pick_source(self, current: KeySource | None, *, keyring_ok: bool) -> KeySource:
        choices = [Choice(KEYRING, "The OS keyring")] if keyring_ok else []
        choices.append(Choice(ENV, "An environment variable (CI secrets, direnv): dsconfig stores nothing"))
        choices.append(Choice(COMMAND, "A command that prints it (pass, op, bw, vault): dsconfig stores nothing"))
        if self.tctx.platform == "linux":
            choices.append(Choice(KERNEL, "The Linux kernel keyring (keyctl; kept in memory until reboot)"))
        kind = self.answer(question("key_source", default=current.kind if current else None, choices=tuple(choices)))
        if kind == ENV:
            stem = {"deepseek": "DEEPSEEK"}.get(self.d.template.id if self.d.template else "", "ANTHROPIC")
            default = current.value if current is not None and current.kind == ENV else f"{stem}_API_KEY"
            var = self.answer(question("key_source.env", default=default, validate=_source_problem(ENV)))
            return KeySource(ENV, str(var).strip())
        if kind == COMMAND:
            command_default = current.value if current is not None and current.kind == COMMAND else None
            cmd = self.answer(question("key_source.command", default=command_default, validate=_source_problem(COMMAND)))
            return KeySource(COMMAND, str(cmd).strip())
        return KeySource(str(kind))

    def ask_key(self, *, again: bool = False) -> None:
        t = self.d.template
        assert t is not None
        if not self.d.key_source.stores:
            if self.o.api_key is not None:
                from dsconfig.keysources import nothing_to_store

                raise nothing_to_store(self.d.name, self.d.key_source)
            self._read_source_key()
            return
        keep = None if again else self._key_to_keep()
        if self.o.api_key is not None and not again:
            self._set_key(normalize_key(self.o.api_key), kept=False, origin="piped")
            return
        if t.key_url:
            self.p.tell(f"Get a {t.name} key at {t.key_url}" if t.key_url.startswith(("http://", "https://"))
                        else f"The {t.name} key: {t.key_url}")
        instruction = f"Enter keeps {keep[1]}" if keep else None
        q = question("key", default="" if keep else None, instruction=instruction, validate=_key_problem)
        if instruction:
            self.p.tell(instruction)
        raw = self.answer(q)
        if raw == "" and keep is not None:
            stored = keep[1].startswith("the stored key")
            self._set_key(keep[0], kept=stored, origin="stored" if stored else "adopted")
        else:
            self._set_key(normalize_key(raw), kept=False, origin="typed")

    def _read_source_key(self) -> None:
        """env:/command: hold the key themselves: read it now for the test call (nothing is stored). When they
        cannot give it yet, setup goes on without the test call and says how to check later."""
        source = self.d.key_source
        try:
            key = actions.profile_secret(replace(self.d.profile(), key_source=source), self.actx)
        except DsconfigError as err:
            self.d.key, self.d.key_kept, self.d.key_problem = None, True, err
            self.p.tell(f"warning: {err.message}\n  the test call is skipped until {source.describe()} gives the key "
                        f"(then: dsconfig verify {self.d.name})")
            return
        self.d.key, self.d.key_kept, self.d.key_origin, self.d.key_problem = key, True, "source", None
        output.register_secret(key or "")

    def _key_to_keep(self) -> tuple[str, str] | None:
        """(key, description) Enter keeps: the profile's stored key (in its source's store), else the adopted one."""
        stored = None if self._source_changed() else actions._store_for(self.actx, self.d.key_source).get(self.d.name)
        if stored:
            return stored, f"the stored key {mask(stored)}"
        if self.d.adopt is not None and self.d.adopt.key:
            return self.d.adopt.key, f"the key found in {self.d.adopt.source} ({mask(self.d.adopt.key)})"
        return None

    def _source_changed(self) -> bool:
        return self.d.existing is not None and self.d.existing.key_source != self.d.key_source

    def _set_key(self, key: str, *, kept: bool, origin: str) -> None:
        """The key shape is checked once, when a key is entered; never when Enter keeps the stored key."""
        t = self.d.template
        assert t is not None
        self.d.key, self.d.key_kept, self.d.key_origin = key, kept, origin
        if origin in ("typed", "piped") and not t.key_matches_shape(key):
            self.p.tell(f"warning: this key ({mask(key)}) does not look like a {t.name} key ({_shape_words(t)}); "
                        "continuing: the test call tells whether it works")

    def test_call(self) -> None:
        """The verify of `dsconfig verify`, on the in-memory profile; on failure: re-enter, continue or abort."""
        from dsconfig import verify_render

        if self.o.no_verify:
            if self.d.tested_models is None:
                self.p.tell("test call skipped (--no-verify)")
            self.d.tested_models = dict(self.d.resolved().models)
            return
        if self.d.key is None:  # env:/command: could not give the key: said when it was read
            self.d.tested_models = dict(self.d.resolved().models)
            return
        while True:
            resolved = self.d.resolved()
            self.d.tested_models = dict(resolved.models)
            with verify_render.spinner(f"test call to {resolved.base_url}"):
                report = self.verifier(resolved, self.d.key)
            profile = report.profiles[0]
            self._remember_models(profile)
            if profile.ok:
                self.d.verified = "passed"
                self.p.tell(f"test call passed: {len(profile.checks())} checks against {resolved.base_url} "
                            f"in {profile.elapsed * 1000:.0f} ms")
                return
            self.p.tell("test call failed:\n" + "\n".join(self._fix_text(line) for line in verify_render.problem_lines(profile)))
            if not self.p.interactive:
                self._raise_verify(report)
            picked = self._after_failure(profile)
            if picked == "continue":
                self.d.verified = "failed"
                return
            if picked == "retry":
                self.ask_key(again=True)
            elif picked == "models":
                self.ask_models(force=True)
            elif not self.d.key_source.stores:
                self._read_source_key()  # the variable or the command may give another key now
                if self.d.key is None:
                    return

    def retest_models(self) -> None:
        """After the models question: a test call for model names that changed since the last one."""
        if self.d.tested_models is not None and dict(self.d.resolved().models) != self.d.tested_models:
            self.p.tell("checking the models you chose")
            self.test_call()

    def _key_origin(self) -> str:
        """Where the key being tested came from, in words (for the failure messages)."""
        origin = self.d.key_origin
        if origin == "typed":
            return "the key you just typed (nothing is stored yet)"
        if origin == "piped":
            return "the key read from standard input (--api-key-stdin; nothing is stored yet)"
        if origin == "adopted" and self.d.adopt is not None:
            return f"the key found in {self.d.adopt.source}"
        if origin == "source":
            return f"the key from {self.d.key_source.describe()} ({self.d.key_source})"
        if self.d.key_source.kind == KERNEL:
            return f"the key stored for profile {self.d.name!r} in the Linux kernel keyring"
        return f"the key stored for profile {self.d.name!r} in the OS keyring"

    def _fix_text(self, text: str) -> str:
        """verify's messages, told the way setup stands: where the key came from, and fixes that work now
        (a profile that does not exist yet has no `dsconfig key set NAME` or `dsconfig verify NAME`)."""
        import re

        text = re.sub(r"the key came from [^\n]*", lambda _m: f"it is {self._key_origin()}", text)
        name = re.escape(self.d.name)
        if self.d.key_source.stores:
            again = ('choose "Enter the key again" below' if self.p.interactive
                     else 'pipe the right key in: printf %s "$KEY" | dsconfig setup --api-key-stdin ...')
        else:
            again = f"make {self.d.key_source.describe()} give the right key"
        text = re.sub(rf"(store the right key: )?dsconfig key set {name}\b", again, text)
        if self.d.existing is None:
            text = re.sub(rf"dsconfig verify {name}\b(?: --[\w-]+(?: [\w.]+)?)*", "dsconfig setup", text)
            text = re.sub(rf"dsconfig profile (?:edit|show) {name}\b", "dsconfig setup", text)
        return text

    def _remember_models(self, profile: ProfileReport) -> None:
        listed = profile.model_list.models if profile.model_list is not None else None
        if listed:
            self.d.live_models = tuple(listed)

    def _raise_verify(self, report: VerifyReport) -> None:
        err = report.error() or DsconfigError("the test call failed")
        err.message = self._fix_text(err.message)
        hint = self._fix_text(err.hint) if err.hint else None
        err.hint = f"{hint}; or skip the test call with --no-verify" if hint else "or skip it with --no-verify"
        raise err

    def _after_failure(self, profile: ProfileReport) -> str:
        """What now, after a failed test call. The first choice (the one the cursor starts on) follows what
        failed: the key only when the provider refused it; the model names when a model was refused; else
        another try. "Continue anyway" says how much was verified."""
        kinds = {f.kind for _, f in profile.failures()}
        checks = profile.checks()
        passed = sum(1 for c in checks if c.failure is None)
        key = Choice("retry", "Enter the key again") if self.d.key_source.stores else Choice("again", "Run the test call again")
        models = Choice("models", "Change the model names")
        again = Choice("again", "Run the test call again")
        if "auth" in kinds:
            first = [key]
        elif "unknown_model" in kinds:
            first = [models, key]
        else:
            first = [again] + ([key] if key.value != "again" else [])
        verified = "nothing verified" if passed == 0 else f"{passed} of {len(checks)} checks passed"
        choices = (*first, Choice("continue", f"Continue anyway ({verified})"), Choice("abort", "Abort (nothing is written)"))
        # No default: --yes must not loop on a refused key or write a setup that failed its test call; the
        # terminal's cursor starts on the first choice.
        picked = self.answer(question("verify_failed", choices=choices))
        if picked == "abort":
            raise DsconfigError("setup aborted after a failed test call: nothing was written",
                                "check the key and the endpoint, then run `dsconfig setup` again"
                                + (f" (or `dsconfig verify {self.d.name}` later)" if self.d.existing is not None else ""))
        return str(picked)

    def ask_models(self, *, force: bool = False) -> None:
        """`force`: asked again after the test call refused a model (even when --model gave them)."""
        t = self.d.template
        assert t is not None
        if self.o.models and not force:
            chosen = {**self.d.resolved().models, **self.o.models}
            self.d.models = {k: v for k, v in chosen.items() if t.models.get(k) != v}
            return
        current = self.d.resolved().models
        summary = _models_summary(current)
        choices = [] if force else [Choice("keep", f"{'Current' if self.d.existing or self.d.models else 'Default'} models: {summary}")]
        if self.d.live_models:
            choices.append(Choice("pick", f"Pick from the provider's list ({len(self.d.live_models)} models)"))
        choices.append(Choice("type", "Type model names"))
        how = self.answer(question("models", default=choices[0].value, choices=tuple(choices)))
        if how == "keep":
            return
        picked = {tier: self._ask_tier(tier, current.get(tier), how == "pick") for tier in TIERS}
        self.d.models = {k: v for k, v in picked.items() if v and t.models.get(k) != v}

    def _ask_tier(self, tier: str, current: str | None, from_list: bool) -> str:
        if from_list:
            options = list(dict.fromkeys([*([current] if current else []), *self.d.live_models]))
            q = question(f"model.{tier}", kind="select", default=current or options[0],
                         choices=tuple(Choice(m, m) for m in options))
        else:
            q = question(f"model.{tier}", default=current or "")
        return str(self.answer(q)).strip()

    def ask_targets(self) -> None:
        if self.o.targets:
            self.d.targets = tuple(dict.fromkeys(self.o.targets))
        else:
            choices = self._target_choices()
            default = tuple(c.value for c in choices if c.checked)
            self.d.targets = tuple(self.answer(question("targets", default=default, choices=choices,
                                                        instruction="(space toggles, enter accepts)")))
        if CLAUDE_CODE in self.d.targets:
            choices = (Choice("user", "Your user account (~/.claude/settings.json)"),
                       Choice("project", f"This folder only ({self.tctx.cwd}/.claude/settings.local.json)"))
            q = question("scope", default=self._default_scope(), choices=choices)
            self.d.scope = self.answer(q, self.o.scope)

    def _target_choices(self) -> tuple[Choice, ...]:
        from dsconfig.targets import claude_code

        found = claude_code.find_installs(self.tctx.home, self.tctx.platform, self.tctx.environ, root=self.root)
        code_label = "Claude Code" + ("" if found else " (not found yet: its settings will be ready when you install it)")
        choices = [Choice(CLAUDE_CODE, code_label, checked=True)]
        if self._desktop_possible():
            choices.append(Choice(CLAUDE_DESKTOP, "Claude Desktop", checked=True))
        choices.append(Choice(SHELL, "This shell and the SDKs (prints the line for your shell's startup file)"))
        return tuple(choices)

    def _desktop_possible(self) -> bool:
        """Offered only when Desktop is on this machine and the profile's provider can drive it."""
        import importlib
        import importlib.util

        from dsconfig import switch

        if importlib.util.find_spec(DESKTOP_MODULE) is None:
            return False
        module = importlib.import_module(DESKTOP_MODULE)
        if not switch.desktop_present(module, self.tctx):
            return False
        try:
            module.check_supported(self.d.resolved())
        except DsconfigError:
            return False
        return True

    def _default_scope(self) -> str:
        from dsconfig.targets import claude_code

        here = claude_code.applied_profile(self.tctx, "project")
        return "project" if here == self.d.name and claude_code.applied_profile(self.tctx, "user") != self.d.name else "user"

    # -- plan, confirm, apply -------------------------------------------------------------------------

    def _switch_calls(self) -> list[tuple[str, str]]:
        """(target, scope) per `switch.use` call: Claude Code first, then Desktop (which has only a user scope)."""
        calls = []
        if CLAUDE_CODE in self.d.targets:
            calls.append((CLAUDE_CODE, self.d.scope))
        if CLAUDE_DESKTOP in self.d.targets:
            calls.append((CLAUDE_DESKTOP, "user"))
        return calls

    def _secrets(self) -> tuple[str, ...]:
        found = [self.d.key, self.d.adopt.key if self.d.adopt else None]
        return tuple(s for s in found if s)

    def scrub(self, text: str) -> str:
        for secret in self._secrets():
            text = text.replace(secret, mask(secret))
        return text

    def plan(self) -> list[str]:
        """Dry-run every switch against the in-memory profile; show what will be written. Returns the warnings
        already shown (so the real run does not repeat them)."""
        pending = actions.Context(store=_PendingStore(self.actx.store, self.d.profile()),
                                  secrets=self._pending_secrets(), environ=self.actx.environ)
        from dsconfig import switch

        for secret in self._secrets():
            output.register_secret(secret)  # the typed key and an adopted inline one: masked in every line shown
        lines = self._profile_plan_lines()
        shown: list[str] = []
        files_change = False
        for target, scope in self._switch_calls():
            with _captured_stderr() as err:
                result = switch.use(self.d.name, target=target, scope=scope, dry_run=True, actx=pending, tctx=self.tctx,
                                    root=self.root)
            shown += [line for line in err.getvalue().splitlines() if line.strip()]
            lines += [self.scrub(f.diff).rstrip("\n") for f in result.changed]
            files_change = files_change or bool(result.changed)
            if not result.changed:
                lines.append(f"{target}: already set up this way, nothing to change")
        self.unchanged = not files_change and self._profile_unchanged()
        if self.unchanged:
            lines = [f"nothing changes: profile {self.d.name!r}, its key and every file are already set up this way"]
        self.p.tell("\n".join(lines))
        for line in shown:
            self.p.tell(self.scrub(line))
        return shown

    def _profile_plan_lines(self) -> list[str]:
        r = self.d.resolved()
        verb = "update" if self.d.existing else "create"
        lines = [f"will {verb} profile {self.d.name!r}: {r.template.name}, {r.base_url}"
                 + (f", models {', '.join(f'{k}={v}' for k, v in self.d.models.items())}" if self.d.models else "")]
        from dsconfig.urls import plain_http_warning

        insecure = plain_http_warning(r.base_url)
        if insecure:
            lines.append(f"warning: {insecure}")
        source = self.d.key_source
        if not source.stores:
            lines.append(f"the key stays in {source.describe()} ({source}): dsconfig stores nothing, "
                         f"and `dsconfig key get {self.d.name}` reads it there")
        elif not self.d.key_kept:
            where = "the Linux kernel keyring (until reboot)" if source.kind == KERNEL else "the OS keyring"
            lines.append(f"will store the key {mask(self.d.key)} in {where}")
        if self.d.adopt is not None and self.d.adopt.path is not None and self._adopt_cleans_file():
            lines.append(f"will remove the plain-text key from {self.d.adopt.path} (Claude Code reads it from the keyring)")
        return lines

    def _profile_unchanged(self) -> bool:
        """A re-run that changes nothing: the same profile, the key kept, already the active one (user scope)."""
        if self.d.existing is None or self.d.adopt is not None or not self.d.key_kept:
            return False
        if self.d.key_source.stores and self.d.key_origin != "stored":
            return False
        active_ok = self.d.scope == "project" or CLAUDE_CODE not in self.d.targets or self.profiles.active == self.d.name
        return self.d.profile() == self.d.existing and active_ok

    def _pending_secrets(self) -> _PendingSecrets:
        """The key as this run knows it. An env:/command: source that cannot give it yet is reported the way
        switch reports a missing keyring: a warning that the key helper will fail until it is fixed."""
        problem = self.d.key_problem
        missing = KeyringUnavailableError(problem.message, problem.hint or f"make {self.d.key_source.describe()} give the key") \
            if problem is not None else None
        return _PendingSecrets(self.actx.secrets, self.d.name, self.d.key, missing)

    def _adopt_cleans_file(self) -> bool:
        return CLAUDE_CODE in self.d.targets and self.d.scope == "user"

    def confirm(self) -> None:
        if self.unchanged:
            return  # nothing to write: nothing to ask
        if not self.answer(question("confirm", default=True)):
            raise Cancelled("nothing was written")

    def apply(self, shown: Sequence[str]) -> SetupResult:
        from dsconfig import switch

        r = self.d.resolved()
        if self.unchanged:
            return SetupResult(self.d.name, False, r.template.id, r.base_url, mask(self.d.key) if self.d.key else "",
                               False, None, self.d.verified, (), self._shell_line() if SHELL in self.d.targets else None,
                               changed=False, key_source=str(self.d.key_source))
        self._store_key_and_profile()
        results: list[SwitchResult] = []
        actx = replace(self.actx, secrets=self._pending_secrets())  # switch reads the key; it never stores one
        for target, scope in self._switch_calls():
            with _captured_stderr() as err:
                results.append(switch.use(self.d.name, target=target, scope=scope, actx=actx, tctx=self.tctx,
                                          root=self.root))
            for line in err.getvalue().splitlines():
                if line.strip() and line not in shown:
                    self.p.tell(self.scrub(line))
        self._forget_adopted_key(results)
        return SetupResult(self.d.name, self.d.existing is None, r.template.id, r.base_url,
                           mask(self.d.key) if self.d.key else "", not self.d.key_kept,
                           self.d.adopt.source if self.d.adopt else None, self.d.verified,
                           tuple(results), self._shell_line() if SHELL in self.d.targets else None,
                           key_source=str(self.d.key_source))

    def _store_key_and_profile(self) -> None:
        """The key first (into the store of its source: the OS keyring or the kernel's; env: and command: store
        nothing): a store failure stops before any file changes. A failed profile write puts it back as it was."""
        store = actions._store_for(self.actx, self.d.key_source) if self.d.key_source.stores else None
        previous = None
        if store is not None and not self.d.key_kept:
            assert self.d.key is not None
            previous = None if self.d.existing is None or self._source_changed() else store.get(self.d.name)
            store.set(self.d.name, self.d.key)
            self._check_kept(store)
        try:
            profile = self.d.profile()
            if self.d.existing is None:
                actions.profile_add(profile.name, profile.provider, base_url=profile.base_url, models=profile.models,
                                    env=profile.env, key_source=profile.key_source, ctx=self.actx)
            else:
                # ProfileStore.update, not actions.profile_edit: an edit may drop a base URL override, which
                # profile_edit cannot express (None there means "keep").
                self.actx.store.update(profile)
        except BaseException:
            if store is not None and not self.d.key_kept:
                if previous is None:
                    store.delete(self.d.name)
                else:
                    store.set(self.d.name, previous)
            raise

    def _check_kept(self, store: SecretStore) -> None:
        """Read the key back: a backend that accepts writes and keeps nothing (keyring's null backend) would
        otherwise leave Claude Code with a helper that prints nothing."""
        if store.get(self.d.name) != self.d.key:
            from dsconfig.credentials import keyring_hint

            raise KeyringUnavailableError(f"the key store ({store.describe()}) did not keep the key; "
                                          "nothing else was written", keyring_hint())

    def _forget_adopted_key(self, results: Sequence[SwitchResult]) -> None:
        """After `use` replaced the inline key by the keyring helper: the journal and the backup must not keep
        it either (and `off` must not write it back)."""
        found = self.d.adopt
        if found is None or found.path is None or not found.key_vars:
            return
        if not any(f.path == str(found.path) for r in results for f in r.files):
            return
        key_paths: list[changes.KeyPath] = [("env", v) for v in found.key_vars]
        changes.forget_originals(found.path, key_paths, journal=self.tctx.journal)
        if found.key:
            _scrub_old_backups(found.key, key_paths)

    def _shell_line(self) -> str:
        return shell_line(self.d.name, _shell_kind(self.tctx), self.tctx.dsconfig_command)


def _scrub_old_backups(key: str, key_paths: Sequence[changes.KeyPath]) -> None:
    """Backups of earlier `use`/`off` rounds stay in the backups folder after `off` dropped their journal record;
    one made while the inline key was in the file still holds it. Rewrite those without the key's entries."""
    from dsconfig import fileio, paths

    folder = paths.backups_dir()
    for backup in sorted(folder.iterdir()) if folder.is_dir() else []:
        data = fileio.read_bytes(backup)
        if data is None or key.encode() not in data:
            continue
        try:
            doc = fileio.parse_json_object(backup, data, what="backup")
        except DsconfigError:
            continue  # not a JSON backup: leave it (and its owner) alone
        for kpath in key_paths:
            if changes.get_at(doc, kpath) == key:
                changes.set_at(doc, kpath, changes.ABSENT, [])
        fileio.atomic_write(backup, fileio.JsonStyle.of(data).dump(doc), mode=0o600)


def _models_summary(models: Mapping[str, str]) -> str:
    """`deepseek-v4-pro[1m] (main, opus, sonnet), deepseek-v4-flash (haiku, subagent)`: short enough for a line."""
    tiers: dict[str, list[str]] = {}
    for tier in TIERS:
        if models.get(tier):
            tiers.setdefault(models[tier], []).append(tier)
    return ", ".join(f"{model} ({', '.join(names)})" for model, names in tiers.items()) or "none set (the endpoint's default)"


def _shell_kind(tctx: TargetContext) -> str:
    """The shell running setup (its parent process where that is known, else $SHELL's): the startup file's."""
    from dsconfig.targets import shell

    return shell.choose_shell(tctx.environ, tctx.platform)[0]


def shell_line(name: str, kind: str, command: Sequence[str] = ("dsconfig",)) -> str:
    """The line that loads profile `name` into a shell (for its startup file).

    It names `--shell`, so the syntax never depends on a guess at startup, and runs dsconfig by its absolute
    path (as apiKeyHelper does), so it does not depend on PATH while the startup file runs either.
    """
    if kind == "powershell":
        program = " ".join("'" + part.replace("'", "''") + "'" for part in command)
        return f"& {program} env {name} --shell powershell | Invoke-Expression"
    if kind == "cmd":
        import subprocess

        return f"for /f \"delims=\" %L in ('{subprocess.list2cmdline([*command, 'env', name, '--shell', 'cmd'])}') do @%L"
    argv = shlex.join([*command, "env", name, "--shell", kind])
    return f"{argv} | source" if kind == "fish" else f'eval "$({argv})"'


_STARTUP_FILES = {"bash": "~/.bashrc", "zsh": "~/.zshrc", "fish": "~/.config/fish/config.fish", "powershell": "$PROFILE"}


def _name_problem(value: Any) -> str | None:
    from dsconfig.names import validate_name

    try:
        validate_name(str(value))
    except UsageError as err:
        return err.message
    return None


def _url_problem(value: Any) -> str | None:
    try:
        validate_base_url(str(value))
    except UsageError as err:
        return err.message
    return None


def _source_problem(kind: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        from dsconfig.keysources import parse

        try:
            parse(f"{kind}:{value}")
        except UsageError as err:
            return err.message.removeprefix("--key-source ")
        return None

    return check


def _shape_words(t: Template) -> str:
    """The template's key_shape in words: `^sk-[0-9a-f]{32}$` is "DeepSeek keys look like sk- and 32 hex
    characters"; a plain `^prefix` is "... start with prefix". Never the regular expression itself."""
    import re

    shape = t.key_shape or ""
    exact = re.fullmatch(r"\^([A-Za-z0-9_-]*)\[0-9a-f\]\{(\d+)\}\$", shape)
    if exact:
        return f"{t.name} keys look like {exact[1]} and {exact[2]} hex characters"
    prefix = re.fullmatch(r"\^([A-Za-z0-9_-]+)", shape)
    if prefix:
        return f"{t.name} keys start with {prefix[1]}"
    return f"it does not have the shape of {t.name}'s keys"


def _key_problem(value: Any) -> str | None:
    try:
        normalize_key(str(value))
    except UsageError as err:
        return err.message
    return None


def summary_lines(result: SetupResult, tctx: TargetContext | None = None) -> list[str]:
    """What setup did and what to run next (stderr)."""
    from dsconfig import switch

    t = tctx or TargetContext()
    if not result.changed:
        lines = [f"nothing changed: profile {result.profile!r} ({result.provider}, {result.base_url}) was already set up this way"]
        lines.append({"passed": "test call: passed", "failed": "test call: FAILED (`dsconfig verify` re-checks)",
                      "skipped": "test call: skipped"}[result.verified])
        if result.shell_line:
            lines.append(f"for this shell and the SDKs, the line for your startup file:\n    {result.shell_line}")
        return lines
    lines = [f"{'created' if result.created else 'updated'} profile {result.profile!r} ({result.provider}, {result.base_url})"]
    if result.key_source.startswith(("env:", "command:")):
        lines.append(f"key source: {result.key_source} (dsconfig stores no key for this profile)")
    elif result.key_stored:
        where = "the Linux kernel keyring" if result.key_source == "kernel" else "the OS keyring"
        lines.append(f"stored the key {result.key} in {where}")
    else:
        lines.append(f"kept the stored key {result.key}")
    if result.adopted_from:
        lines.append(f"adopted the setup found in {result.adopted_from}")
        if result.adopted_from == "environment":
            lines.append("your shell still exports the old variables: remove those lines from your shell's startup "
                         "file (`dsconfig doctor` names them)")
    for r in result.switches:
        lines += [line for line in switch.summary(r) if not line.startswith("nothing to change")]
    lines.append({"passed": "test call: passed", "failed": "test call: FAILED (continued anyway; `dsconfig verify` re-checks)",
                  "skipped": "test call: skipped"}[result.verified])
    if result.shell_line:
        kind = _shell_kind(t)
        where = _STARTUP_FILES.get(kind, "your shell's startup file")
        lines.append(f"for this shell and the SDKs, add this line to {where}:\n    {result.shell_line}")
    lines += ["", "next:", f"  switch profiles:  dsconfig use {result.profile}", f"  undo:             {_undo_command(result)}",
              "  check:            dsconfig status   (and `dsconfig doctor` when something looks wrong)"]
    return lines


def _undo_command(result: SetupResult) -> str:
    targets = {t for r in result.switches for t in r.targets}
    project = any(r.scope == "project" for r in result.switches)
    if project:  # Desktop has no project scope: `off --target all --scope project` would skip it
        return "dsconfig off --scope project" + ("; dsconfig off --target claude-desktop" if CLAUDE_DESKTOP in targets else "")
    return "dsconfig off" + (" --target all" if CLAUDE_DESKTOP in targets else "")


def run_wizard(
    options: SetupOptions,
    *,
    prompter: Prompter,
    actx: actions.Context | None = None,
    tctx: TargetContext | None = None,
    verifier: Verifier | None = None,
    root: Path | None = None,
) -> SetupResult:
    """Ask everything, plan, confirm, then write once. `root`: where system files (managed settings) are looked
    up, for tests. Raises KeyboardInterrupt (Ctrl-C) or DsconfigError with nothing written before the confirm."""
    w = _Wizard(options, prompter, actx or actions.Context(), tctx or TargetContext(), verifier or _verify, root)
    w.ask_adopt()
    w.ask_provider()
    w.ask_profile()
    w.ask_base_url()
    w.ask_key_source()
    w.ask_key()
    if w.d.template is not None and not w.d.template.models:
        w.ask_models()  # a gateway has no model names of its own: type them first, so the test call checks them
        w.test_call()
    else:
        w.test_call()  # checks the key, and lists the provider's models for the next question
        w.ask_models()
        w.retest_models()  # the model names just chosen, when they changed
    w.ask_targets()
    shown = w.plan()
    w.confirm()
    result = w.apply(shown)
    for line in summary_lines(result, w.tctx):
        prompter.tell(line)
    return result


__all__ = [
    "QUESTIONS", "Adoptable", "Choice", "NoTerminalPrompter", "Prompter", "Question", "QuestionaryPrompter",
    "SetupOptions", "SetupResult", "default_prompter", "find_adoptable", "guess_provider", "question", "run_wizard",
    "shell_line", "summary_lines",
]
