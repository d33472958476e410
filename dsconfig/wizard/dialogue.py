"""The dialogue of `dsconfig setup`: `run_wizard` asks the questions in order (adopt, provider, profile, base URL,
key source, key, test call, models, targets), then plans, confirms and writes once."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from dsconfig import actions, output
from dsconfig.credentials import mask, normalize_key
from dsconfig.errors import DsconfigError, KeyringUnavailableError, UsageError
from dsconfig.keysources import COMMAND, ENV, KERNEL, KEYRING, KeySource
from dsconfig.profiles import validate_base_url
from dsconfig.targets.context import TargetContext
from dsconfig.templates import TIERS, Template
from dsconfig.wizard.adoption import Adoptable, find_adoptable, guess_provider, ordered, same_url
from dsconfig.wizard.options import (
    CLAUDE_CODE,
    CLAUDE_DESKTOP,
    SHELL,
    SetupOptions,
    SetupResult,
    Verifier,
    default_verifier,
)
from dsconfig.wizard.prompters import Prompter
from dsconfig.wizard.questions import (
    Choice,
    key_problem,
    name_problem,
    question,
    shape_words,
    source_problem,
    url_problem,
)
from dsconfig.wizard.summary import models_summary, summary_lines
from dsconfig.wizard.testcall import VerifySteps
from dsconfig.wizard.writing import WritingSteps


class Wizard(VerifySteps, WritingSteps):
    """The questions, in order (the test call and the writing are its other parts)."""

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

        choices = tuple(Choice(t.id, f"{t.name}  ({where(t)})") for t in ordered(self.templates))
        q = question("provider", default=default, choices=choices, validate=self._known_provider)
        self.d.template = self.templates[self.answer(q, self.o.provider)]

    def _known_provider(self, value: Any) -> str | None:
        known = ", ".join(t.id for t in ordered(self.templates))
        return None if value in self.templates else f"unknown provider {value!r} (known: {known})"

    def ask_profile(self) -> None:
        assert self.d.template is not None
        q = question("profile", default=self._default_name(self.d.template), validate=name_problem)
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
                            if p.provider == "custom" and given and p.base_url and same_url(p.base_url, given)]
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
                and not same_url(found.base_url, template.base_url):
            self.d.base_url = found.base_url.rstrip("/")

    def ask_base_url(self) -> None:
        t = self.d.template
        assert t is not None
        given = validate_base_url(self.o.base_url) if self.o.base_url else None
        current = self.d.base_url or t.base_url
        urls = list(dict.fromkeys([t.base_url, *t.regions.values()]))
        if given is None and t.id == "custom":
            given = self.answer(question("base_url", default=current, validate=url_problem))
        elif given is None and len(urls) > 1:
            names = {url: name for name, url in t.regions.items()}
            choices = [Choice(u, f"{names.get(u, 'default')}: {u}") for u in urls]
            if current not in urls:
                choices.append(Choice(current, f"current: {current}"))
            given = self.answer(question("region", default=current, choices=tuple(choices)))
        url = (given or current).rstrip("/")
        self.d.base_url = None if same_url(url, t.base_url) else url

    def ask_key_source(self) -> None:
        """Where the key lives. The OS keyring unless --key-source says otherwise; asked only when there is no
        usable keyring (then env:, command: and kernel are offered instead of stopping) or when the profile
        being edited already keeps its key elsewhere.

        Raises UsageError (exit 2) for a source that cannot be used here."""
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
            var = self.answer(question("key_source.env", default=default, validate=source_problem(ENV)))
            return KeySource(ENV, str(var).strip())
        if kind == COMMAND:
            command_default = current.value if current is not None and current.kind == COMMAND else None
            cmd = self.answer(question("key_source.command", default=command_default, validate=source_problem(COMMAND)))
            return KeySource(COMMAND, str(cmd).strip())
        return KeySource(str(kind))

    def ask_key(self, *, again: bool = False) -> None:
        """Raises UsageError (exit 2) when a key is given for a source that stores none."""
        t = self.d.template
        assert t is not None
        if not self.d.key_source.stores:
            if self.o.api_key is not None:
                raise self._nothing_to_store()
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
        q = question("key", default="" if keep else None, instruction=instruction, validate=key_problem)
        if instruction:
            self.p.tell(instruction)
        raw = self.answer(q)
        if raw == "" and keep is not None:
            stored = keep[1].startswith("the stored key")
            self._set_key(keep[0], kept=stored, origin="stored" if stored else "adopted")
        else:
            self._set_key(normalize_key(raw), kept=False, origin="typed")

    def _nothing_to_store(self) -> DsconfigError:
        """--api-key-stdin with a source dsconfig does not store into. `profile edit` is the fix for a profile that
        exists; one setup is creating cannot be edited yet, so the hint names the setup flags that work."""
        from dsconfig.keysources import nothing_to_store

        err = nothing_to_store(self.d.name, self.d.key_source)
        if self.d.existing is not None:
            return err
        return UsageError(err.message, f"profile {self.d.name!r} does not exist yet: run the same dsconfig setup "
                          f"without --api-key-stdin (setup reads the key from {self.d.key_source.describe()}), or "
                          "with --key-source keyring to store the piped key in the OS keyring")

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

    def _set_key(self, key: str, *, kept: bool, origin: str) -> None:
        """The key shape is checked once, when a key is entered; never when Enter keeps the stored key."""
        t = self.d.template
        assert t is not None
        self.d.key, self.d.key_kept, self.d.key_origin = key, kept, origin
        if origin in ("typed", "piped") and not t.key_matches_shape(key):
            self.p.tell(f"warning: this key ({mask(key)}) does not look like a {t.name} key ({shape_words(t)}); "
                        "continuing: the test call tells whether it works")

    def ask_models(self, *, force: bool = False) -> None:
        """`force`: asked again after the test call refused a model (even when --model gave them)."""
        t = self.d.template
        assert t is not None
        if self.o.models and not force:
            chosen = {**self.d.resolved().models, **self.o.models}
            self.d.models = {k: v for k, v in chosen.items() if t.models.get(k) != v}
            return
        current = self.d.resolved().models
        summary = models_summary(current)
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
        from dsconfig import targets

        desktop = targets.find(CLAUDE_DESKTOP)
        if desktop is None or not desktop.present(self.tctx):
            return False
        try:
            desktop.check_supported(self.d.resolved())
        except DsconfigError:
            return False
        return True

    def _default_scope(self) -> str:
        from dsconfig.targets import claude_code

        here = claude_code.applied_profile(self.tctx, "project")
        return "project" if here == self.d.name and claude_code.applied_profile(self.tctx, "user") != self.d.name else "user"


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
    w = Wizard(options, prompter, actx or actions.Context(), tctx or TargetContext(), verifier or default_verifier, root)
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
