"""`dsconfig setup`: the one-time wizard, from nothing (or a hand-made setup) to a verified profile in use.

Design (after aws-cli's `configure`, with its injected prompter, and copier's questions as data):

- Every question is data (`QUESTIONS`): an id, a kind, the text, and the flag that answers it. The wizard fills
  in defaults and choices from what it found; the README's flag table is this table.
- A question is answered, in order, by its flag; by its default under `--yes`; by the prompter. The prompter is
  injected: `QuestionaryPrompter` (the only place in dsconfig that imports questionary, lazily) on a terminal,
  `NoTerminalPrompter` without one (it fails at once, naming the flag), a scripted one in tests.
- Nothing is written before the last question ("Write these changes?") is answered yes: the profile, the key
  and every file change are planned in memory first (`switch.run_use` with `dry_run` on a profile store and a
  secret store that hold the new profile only in memory). Ctrl-C at any question leaves every file as it was.
- The key lives where `--key-source` says (the OS keyring by default). Without a usable keyring the wizard
  offers env:VAR, command:CMD and kernel instead of stopping (without a terminal: exit 5, naming them). env:
  and command: store nothing; their key is read for the test call only.
- The test call checks what will be written: a custom gateway's model names are asked before it; changed
  model names of a template get a second one. Its failures are told the way setup stands (where the key came
  from; no command for a profile that does not exist yet), and the menu after it starts on what failed.
- A re-run that would write nothing says so and asks no confirmation.
- After the confirmation, in this order: the key into its store, read back (a store failure, or one that
  keeps nothing, stops before any file changes), the profile into profiles.toml, then `switch.run_use` per target
  (Claude Code, then Claude Desktop). An adopted inline key is then forgotten by the journal and the backup
  (`dsconfig.scrub.forget_originals`) and scrubbed from older backups of earlier use/off rounds, so no dsconfig file
  keeps it in plain text and `dsconfig off` does not write it back.

The package, by what each module owns:
    dialogue.py    run_wizard and the questions in order (Wizard)
    questions.py   the questions as data, and the checks of typed answers
    prompters.py   the terminal prompter (the one questionary call site) and the no-terminal one
    state.py       Draft (every answer so far) and how a question is answered (flag, --yes, prompter)
    adoption.py    a hand-made setup (or another switcher's) to adopt, and guessing its provider
    testcall.py    the test call and the menu after a failed one
    writing.py     plan in memory, confirm, write once
    summary.py     the closing summary and the line for a shell's startup file
    options.py     SetupOptions (the flags), SetupResult, the target ids
"""

from __future__ import annotations

from dsconfig.wizard.dialogue import run_wizard
from dsconfig.wizard.options import SetupOptions, SetupResult
from dsconfig.wizard.prompters import default_prompter

__all__ = ["SetupOptions", "SetupResult", "default_prompter", "run_wizard"]
