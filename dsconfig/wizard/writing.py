"""Plan, confirm, write: every change of `dsconfig setup` dry-run in memory first (a profile store and a key store
that hold the new profile only in memory), shown as diffs, then written once after "Write these changes?"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from dsconfig import actions, output
from dsconfig.credentials import SecretStore, mask
from dsconfig.errors import Cancelled, DsconfigError, KeyringUnavailableError
from dsconfig.keypaths import KeyPath
from dsconfig.keysources import KERNEL
from dsconfig.notices import Notice
from dsconfig.profiles import Profile, ProfileSet, ProfileStore
from dsconfig.scrub import forget_originals
from dsconfig.wizard.adoption import scrub_old_backups
from dsconfig.wizard.options import CLAUDE_CODE, CLAUDE_DESKTOP, SHELL, SetupResult
from dsconfig.wizard.questions import question
from dsconfig.wizard.state import WizardState
from dsconfig.wizard.summary import shell_kind, shell_line

if TYPE_CHECKING:
    from dsconfig.switch import SwitchResult


class _PendingStore(ProfileStore):
    """The profiles file plus the profile being set up, in memory: lets `switch.run_use` (dry run) plan for a
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
        """Raises what the real store raises for a profile that is not the one being set up."""
        if name == self._name and self._key is not None:
            return self._key
        if name == self._name and self._missing is not None:
            raise self._missing
        return self._base.get(name)

    def set(self, name: str, key: str) -> None:
        """Raises AssertionError: planning never stores a key."""
        raise AssertionError("the setup wizard's planning keyring must not write")

    def delete(self, name: str) -> bool:
        """Raises AssertionError: planning never removes a key."""
        raise AssertionError("the setup wizard's planning keyring must not write")

    def describe(self) -> str:
        return self._base.describe()


def _notice_lines(found: Sequence[Notice]) -> list[str]:
    """The lines the notices of one switch show, as `output.render_notices` prints them (`warning: TEXT`,
    a note as its text), so the wizard can show each once, among its own lines."""
    lines: list[str] = []
    for n in found:
        text = ("warning: " if n.kind == "warning" else "") + output.clean(n.text)
        lines += [line for line in text.splitlines() if line.strip()]
    return lines


class WritingSteps(WizardState):
    """Plan, confirm, apply (part of `Wizard`)."""

    def _switch(self, target: str, scope: str, actx: actions.Context, *, dry_run: bool) -> tuple[SwitchResult, list[str]]:
        """`switch.run_use` for one target and scope, and the lines of what it (and the profile layer under it)
        wants the person told, in the order `dsconfig use` shows them.

        Raises: as switch.run_use."""
        from dsconfig import switch
        from dsconfig.context import AppContext

        # What the profile and key layer tells while switch reads the profile: shown with the switch's own
        # notices when this wizard shows notices as it goes (no list of its own to leave them in).
        told: list[Notice] = []
        if actx.notices is None:
            actx = replace(actx, notices=told)
        tctx = replace(self.tctx, root=self.root) if self.root is not None else self.tctx
        result = switch.run_use(switch.UseRequest(self.d.name, target=target, scope=scope, dry_run=dry_run),
                                AppContext.of(actx, tctx))
        return result, _notice_lines([*told, *result.notices])

    def _switch_calls(self) -> list[tuple[str, str]]:
        """(target, scope) per `switch.run_use` call: Claude Code first, then Desktop (which has only a user scope)."""
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
        for secret in self._secrets():
            output.register_secret(secret)  # the typed key and an adopted inline one: masked in every line shown
        lines = self._profile_plan_lines()
        shown: list[str] = []
        files_change = False
        for target, scope in self._switch_calls():
            result, told = self._switch(target, scope, pending, dry_run=True)
            shown += told
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
        """Raises Cancelled when the person says no (nothing was written)."""
        if self.unchanged:
            return  # nothing to write: nothing to ask
        if not self.answer(question("confirm", default=True)):
            raise Cancelled("nothing was written")

    def apply(self, shown: Sequence[str]) -> SetupResult:
        r = self.d.resolved()
        if self.unchanged:
            return SetupResult(self.d.name, False, r.template.id, r.base_url, mask(self.d.key) if self.d.key else "",
                               False, None, self.d.verified, (), self._shell_line() if SHELL in self.d.targets else None,
                               changed=False, key_source=str(self.d.key_source))
        self._store_key_and_profile()
        results: list[SwitchResult] = []
        actx = replace(self.actx, secrets=self._pending_secrets())  # switch reads the key; it never stores one
        for target, scope in self._switch_calls():
            result, told = self._switch(target, scope, actx, dry_run=False)
            results.append(result)
            for line in told:
                if line not in shown:
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
        key_paths: list[KeyPath] = [("env", v) for v in found.key_vars]
        forget_originals(found.path, key_paths, journal=self.tctx.journal)
        if found.key:
            scrub_old_backups(found.key, key_paths)

    def _shell_line(self) -> str:
        return shell_line(self.d.name, shell_kind(self.tctx), self.tctx.dsconfig_command)
