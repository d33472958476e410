"""The test call of `dsconfig setup`: `dsconfig verify`'s checks on the profile still in memory; its failures told
the way setup stands, and the menu after a failure (enter the key again, change the models, continue, abort)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsconfig.errors import DsconfigError
from dsconfig.keysources import KERNEL
from dsconfig.wizard.questions import Choice, question
from dsconfig.wizard.state import WizardState

if TYPE_CHECKING:
    from dsconfig.verify.report import ProfileReport, VerifyReport


class VerifySteps(WizardState):
    """The test call and what follows a failed one (part of `Wizard`)."""

    def test_call(self) -> None:
        """The verify of `dsconfig verify`, on the in-memory profile; on failure: re-enter, continue or abort."""
        from dsconfig.verify import render as verify_render

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
