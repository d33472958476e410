"""Click commands: parse the command line, call actions, render. No file, keyring or network I/O here.

Heavy modules are imported inside the commands that need them, so `dsconfig --help` stays fast.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from dsconfig import __version__, output, render, targets, vocab
from dsconfig.errors import EXIT_INTERRUPTED, EXIT_USAGE, DsconfigError

TIER_HELP = f"TIER=MODEL, tiers: {', '.join(vocab.TIER_NAMES)} (repeatable)"

if TYPE_CHECKING:
    from dsconfig.context import AppContext
    from dsconfig.keysources import KeySource


def _app() -> AppContext:
    """The one context of this invocation (environment, platform, home, streams, stores), built on first use."""
    from dsconfig.context import AppContext

    root = click.get_current_context().find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext()
    return root.obj



class _Seconds(click.FloatRange):
    """0.1 to 3600 seconds: click's FloatRange lets `nan` through (every comparison with it is false)."""

    def convert(self, value: float, param: click.Parameter | None, ctx: click.Context | None) -> float:
        seconds = float(super().convert(value, param, ctx))
        return self.fail(f"{value!r} is not a number of seconds", param, ctx) if math.isnan(seconds) else seconds


SECONDS = _Seconds(min=0.1, max=3600)


# A fixed help width (not the terminal's) makes `dsconfig --help` the same text everywhere, which lets
# entry.py print it without importing click (help_text.py; a test keeps the two identical).
@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100, "terminal_width": 100})
@click.version_option(__version__, "--version", prog_name="dsconfig")
def cli() -> None:
    """Connect Claude Code, Claude Desktop and your shell to DeepSeek and other Anthropic-compatible APIs.

    Start with `dsconfig setup`. Keys live in the OS keyring; every change to another program's file is
    backed up and undone exactly by `dsconfig off`.
    """


# --- providers ------------------------------------------------------------------------------------------


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def providers(as_json: bool) -> None:
    """List provider templates, built-in and your own."""
    from dsconfig import actions

    render.providers(actions.providers_doc(), as_json=as_json)


# --- profiles -------------------------------------------------------------------------------------------


@cli.group()
def profile() -> None:
    """Create, inspect and change profiles (a provider plus your overrides)."""


_KEY_SOURCE_OPTION = click.option(
    "--key-source", metavar="SOURCE",
    help="Where `key get` finds the key: keyring (default), env:VAR, command:CMD (prints the key), kernel (Linux keyctl).")


def _key_source(text: str | None) -> KeySource | None:
    """The parsed --key-source, or None when not given."""
    from dsconfig.keysources import parse

    return None if text is None else parse(text)


def _profile_options(required_provider: bool) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def wrap(fn: Callable[..., None]) -> Callable[..., None]:
        for opt in reversed([
            click.option("--provider", required=required_provider, help="Provider template id (see `dsconfig providers`)."),
            click.option("--base-url", help="Override the template's base URL."),
            click.option("--model", "models", multiple=True, help=TIER_HELP),
            click.option("--env", "envs", multiple=True, help="KEY=VALUE extra environment for Claude Code (repeatable)."),
            click.option("--api-key-stdin", is_flag=True, help="Read the API key from standard input."),
            _KEY_SOURCE_OPTION,
        ]):
            fn = opt(fn)
        return fn

    return wrap


def _secret_input(from_stdin: bool) -> str | None:
    """A key typed or piped in; registered first, so no line this command prints can show it."""
    from dsconfig import actions, output

    key = actions.read_secret_input(from_stdin, io=_app().io)
    output.register_secret(key)
    return key


def _pairs(models: tuple[str, ...], envs: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str]]:
    from dsconfig.profiles import parse_env_option, parse_model_option

    return dict(parse_model_option(m) for m in models), dict(parse_env_option(e) for e in envs)


@profile.command("add")
@click.argument("name")
@_profile_options(required_provider=True)
def profile_add(name: str, provider: str, base_url: str | None, models: tuple[str, ...], envs: tuple[str, ...], api_key_stdin: bool,
                key_source: str | None) -> None:
    """Create profile NAME for a provider; the key goes to the OS keyring (or see --key-source)."""
    from dsconfig import actions
    from dsconfig.names import validate_name

    validate_name(name)
    model_map, env_map = _pairs(models, envs)
    source = _key_source(key_source)
    key = _secret_input(api_key_stdin) if source is None or source.stores else None
    if api_key_stdin and source is not None and not source.stores:
        key = _secret_input(True)  # refused by actions.profile_add with the reason
    with render.telling(_app()) as app:
        r = actions.profile_add(name, provider, base_url=base_url, models=model_map, env=env_map, key=key,
                                key_source=source, ctx=app.actions)
    render.profile_added(r, source_given=source is not None, key_given=key is not None)


@profile.command("edit")
@click.argument("name")
@_profile_options(required_provider=False)
@click.option("--unset-model", "unset_models", multiple=True, help="Drop a tier override (back to the template's).")
@click.option("--unset-env", "unset_envs", multiple=True, help="Drop an extra variable override.")
def profile_edit(name: str, provider: str | None, base_url: str | None, models: tuple[str, ...], envs: tuple[str, ...],
                 api_key_stdin: bool, key_source: str | None, unset_models: tuple[str, ...], unset_envs: tuple[str, ...]) -> None:
    """Change profile NAME; unspecified values stay as they are."""
    from dsconfig import actions, output

    model_map, env_map = _pairs(models, envs)
    source = _key_source(key_source)
    key = _secret_input(api_key_stdin) if api_key_stdin else None
    with render.telling(_app()) as app:
        r = actions.profile_edit(name, provider=provider, base_url=base_url, models=model_map, env=env_map,
                                 unset_models=unset_models, unset_env=unset_envs, key=key, key_source=source,
                                 ctx=app.actions)
    output.note(f"updated profile {name!r}; run `dsconfig use {name}` again to apply the change where it is in use")
    render.plain_http(r.base_url)


@profile.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def profile_list(as_json: bool) -> None:
    """List profiles; * marks the active one."""
    from dsconfig import actions

    render.profile_list(actions.profile_list_doc(_app().actions), as_json=as_json)


@profile.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def profile_show(name: str, as_json: bool) -> None:
    """Show profile NAME with its template applied (key masked)."""
    from dsconfig import actions

    render.profile_show(actions.profile_show_doc(name, _app().actions), as_json=as_json)


@profile.command("rm")
@click.argument("name")
def profile_rm(name: str) -> None:
    """Remove profile NAME and its key."""
    from dsconfig import actions, output

    with render.telling(_app()) as app:
        removed_key = actions.profile_remove(name, ctx=app.actions)
    output.note(f"removed profile {name!r}" + (" and its key" if removed_key else ""))


@profile.command("rename")
@click.argument("old")
@click.argument("new")
def profile_rename(old: str, new: str) -> None:
    """Rename profile OLD to NEW; its key moves with it."""
    from dsconfig import actions, output

    with render.telling(_app()) as app:
        actions.profile_rename(old, new, ctx=app.actions)
    output.note(f"renamed profile {old!r} to {new!r}")


# --- keys -----------------------------------------------------------------------------------------------


@cli.group()
def key() -> None:
    """Store, print and remove API keys in the OS keyring."""


@key.command("set")
@click.argument("name")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the key from standard input.")
def key_set(name: str, from_stdin: bool) -> None:
    """Store the API key of profile NAME."""
    from dsconfig import actions

    raw = _secret_input(from_stdin)
    if raw is None:
        raise DsconfigError("no key given and no terminal to ask on", f"pipe it: printf %s \"$KEY\" | dsconfig key set {name} --stdin")
    with render.telling(_app()) as app:
        actions.key_set(name, raw, ctx=app.actions)  # its note says which store holds the key now


@key.command("get")
@click.argument("name")
def key_get(name: str) -> None:
    """Print the bare key of profile NAME (what Claude Code's apiKeyHelper runs)."""
    from dsconfig import actions

    click.echo(actions.key_get(name))


@key.command("rm")
@click.argument("name")
def key_rm(name: str) -> None:
    """Remove the key of profile NAME from the OS keyring."""
    from dsconfig import actions, output
    from dsconfig.errors import NotFoundError

    if not actions.key_remove(name, ctx=_app().actions):
        raise NotFoundError(f"no key stored for profile {name!r}", "nothing to remove")
    output.note(f"removed the key of profile {name!r}")


# --- shell environment and exec -----------------------------------------------------------------------


@cli.command("env")
@click.argument("name", required=False)
@click.option("--shell", type=click.Choice(["bash", "zsh", "fish", "powershell", "cmd"]),
              help="Default: the shell that runs dsconfig (its parent process), else $SHELL with a note. Name it in startup files.")
@click.option("--unset", is_flag=True, help="Print the statements that remove the variables instead.")
def env_command(name: str | None, shell: str | None, unset: bool) -> None:
    """Print shell statements that set profile NAME's variables (default: the active profile).

    \b
    bash:        eval "$(dsconfig env --shell bash)"
    zsh:         eval "$(dsconfig env --shell zsh)"
    fish:        dsconfig env --shell fish | source
    PowerShell:  dsconfig env --shell powershell | Invoke-Expression
    """
    from dsconfig import actions

    with render.telling(_app()) as app:
        statements = actions.env(name, shell=shell, unset=unset, ctx=app.actions)
    click.echo(statements, nl=False)


class _ExecCommand(click.Command):
    """`exec [NAME] -- COMMAND...`: click would drop a leading `--` and take COMMAND's first word for NAME, so a
    second `--` stands in for the missing NAME (and means: the profile in effect in this folder)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args[:1] == ["--"]:
            args = ["--", *args]
        return super().parse_args(ctx, args)


@cli.command("exec", cls=_ExecCommand, context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("name", metavar="[NAME]")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def exec_command(name: str, command: tuple[str, ...]) -> None:
    """Run COMMAND with profile NAME's environment (key from the keyring, never on disk).

    \b
    dsconfig exec ds -- claude      (the profile wins over what settings.json has, for this run only)
    dsconfig exec -- claude         (the profile in effect here: `use --scope project`'s, else the active one)
    """
    from dsconfig import actions

    # With interspersed args off, click hands over a `--` after NAME as part of COMMAND.
    argv = list(command[1:] if command[:1] == ("--",) else command)
    if not argv:
        raise click.UsageError("no COMMAND given after --")
    with render.telling(_app()) as app:
        argv, environ = actions.exec_environment(None if name == "--" else name, argv, app.actions)
    raise SystemExit(actions.run_exec(argv, environ))


# --- shell completion -------------------------------------------------------------------------------


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the completion script for SHELL.

    \b
    bash:  eval "$(dsconfig completion bash)"
    zsh:   eval "$(dsconfig completion zsh)"
    fish:  dsconfig completion fish | source
    """
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    assert cls is not None  # click ships bash, zsh and fish
    click.echo(cls(cli, {}, "dsconfig", "_DSCONFIG_COMPLETE").source())


# --- verify ---------------------------------------------------------------------------------------------


@cli.command("verify")
@click.argument("name", required=False)
@click.option("--all", "all_profiles", is_flag=True, help="Check every profile at once; one table.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.option("--via-claude", is_flag=True, help="Also run the installed `claude -p` with the profile.")
@click.option("--timeout", type=SECONDS, default=30.0, show_default=True, help="Seconds each check may take.")
def verify_command(name: str | None, all_profiles: bool, as_json: bool, via_claude: bool, timeout: float) -> None:
    """Call the provider the way Claude Code does: every model, streaming, tool use, model list, balance.

    Exit 0 when all pass; 6 key or credit problem; 7 network problem (DNS, refused, TLS, proxy, timeout,
    stall); 1 anything else. Default NAME: the profile `use --scope project` applied to this folder, else the
    active profile.
    """
    from dsconfig import actions, verify
    from dsconfig.errors import UsageError
    from dsconfig.verify import render as verify_render

    if name and all_profiles:
        raise UsageError("give a profile NAME or --all, not both", "dsconfig verify NAME, or dsconfig verify --all")
    if not all_profiles:
        name = actions.in_effect(name, _app().actions)
    with verify_render.spinner("verifying " + ("every profile" if all_profiles else name or "the active profile")):
        report = verify.run(name, all_profiles=all_profiles, timeout=timeout, via_claude=via_claude,
                            ctx=_app().actions_telling_at_once())
    verify_render.render(report, as_json=as_json)
    failed = report.error()
    if failed is not None:
        if not as_json:
            failed.hint = None  # each fix is printed once, under "problems and fixes" above
        raise failed


# --- use, off, detect: switching Claude Code / Claude Desktop ---------------------------------------------

_TARGET_OPTION = click.option("--target", type=click.Choice([*targets.ids(), "all"]), default="claude-code",
                              show_default=True, help="all: Claude Code, plus Claude Desktop when it is on this machine.")
_SCOPE_OPTION = click.option("--scope", type=click.Choice(["user", "project"]), default="user", show_default=True,
                             help="project: .claude/settings.local.json in the current folder (Claude Code only).")


@cli.command("use")
@click.argument("name")
@_TARGET_OPTION
@_SCOPE_OPTION
@click.option("--dry-run", is_flag=True, help="Print the diff of every file it would change; write nothing.")
@click.option("--inline-key", is_flag=True, help="Write the key into the settings file (no keyring needed); 0600.")
@click.option("--api-key-stdin", is_flag=True, help="With --inline-key: read the key from standard input.")
def use_command(name: str, target: str, scope: str, dry_run: bool, inline_key: bool, api_key_stdin: bool) -> None:
    """Switch Claude Code (and/or Claude Desktop) to profile NAME; the key stays in the OS keyring."""
    from dsconfig import switch

    request = switch.UseRequest(name, target=target, scope=scope, dry_run=dry_run, inline_key=inline_key,
                                read_key=lambda: _secret_input(api_key_stdin), key_from_input=api_key_stdin)
    result = switch.run_use(request, _app())
    render.switch_result(result)


@cli.command("off")
@_TARGET_OPTION
@_SCOPE_OPTION
@click.option("--dry-run", is_flag=True, help="Print the diff of every file it would change; write nothing.")
@click.option("--force", is_flag=True, help="Also restore keys you changed by hand since `use` wrote them.")
def off_command(target: str, scope: str, dry_run: bool, force: bool) -> None:
    """Undo `dsconfig use`: every key back to what it held before (byte-identical if untouched since)."""
    from dsconfig import switch

    render.switch_result(switch.run_off(switch.OffRequest(target=target, scope=scope, dry_run=dry_run, force=force), _app()))


@cli.command("detect")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def detect_command(as_json: bool) -> None:
    """Find Claude Code and Claude Desktop installs and the settings files that decide what they use."""
    from dsconfig import detect

    render.document(detect.detect(_app().targets), detect.render_text, as_json=as_json)


# --- setup, status, doctor -------------------------------------------------------------------------------


@cli.command("setup")
@click.option("--provider", help="Provider template id (default: deepseek; see `dsconfig providers`).")
@click.option("--profile", "profile_name", help="Profile name (default: ds for DeepSeek; an existing one is edited).")
@click.option("--api-key-stdin", is_flag=True, help="Read the API key from standard input (no terminal needed).")
@click.option("--base-url", help="Override the provider's base URL (for --provider custom: your gateway's URL).")
@click.option("--model", "models", multiple=True, help=TIER_HELP)
@click.option("--target", "targets", multiple=True, type=click.Choice([*targets.ids(), "shell"]),
              help="What to configure (repeatable; default: Claude Code, plus Claude Desktop when present).")
@click.option("--scope", type=click.Choice(["user", "project"]), help="Claude Code settings for your user (default) or this folder.")
@click.option("--adopt/--no-adopt", default=None, help="Adopt a hand-made setup found in Claude's settings or the environment.")
@click.option("--yes", "-y", is_flag=True, help="Accept every default and write without asking.")
@click.option("--no-verify", is_flag=True, help="Skip the test call to the provider.")
@_KEY_SOURCE_OPTION
def setup_command(provider: str | None, profile_name: str | None, api_key_stdin: bool, base_url: str | None,
                  models: tuple[str, ...], targets: tuple[str, ...], scope: str | None, adopt: bool | None, yes: bool,
                  no_verify: bool, key_source: str | None) -> None:
    """Set up a provider, its key and the programs that use it, with a test call; writes once, at the end.

    Every question has a flag; without a terminal a missing answer fails at once (exit 2) naming its flag.
    Without a usable OS keyring, setup offers the other key sources (env:VAR, command:CMD, kernel).
    """
    from dsconfig import wizard

    model_map, _ = _pairs(models, ())
    source = _key_source(key_source)
    options = wizard.SetupOptions(provider=provider, profile=profile_name, base_url=base_url, models=model_map,
                                  api_key=_secret_input(True) if api_key_stdin else None, targets=targets,
                                  scope=scope, adopt=adopt, yes=yes, no_verify=no_verify, key_source=source)
    app = _app()
    prompter = app.prompter or wizard.default_prompter(stdin_used=api_key_stdin, io=app.io)
    wizard.run_wizard(options, prompter=prompter, actx=app.actions_telling_at_once(), tctx=app.targets)


@cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def status_command(as_json: bool) -> None:
    """What is in effect for Claude Code, Claude Desktop and this shell, where it comes from, and drift. No network."""
    from dsconfig import status

    app = _app()
    render.document(status.status_doc(actx=app.actions, tctx=app.targets), status.render_text, as_json=as_json)


@cli.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.option("--no-verify", is_flag=True, help="Skip the test call of the active profile (no network).")
@click.option("--timeout", type=SECONDS, default=20.0, show_default=True, help="Seconds the test call may take.")
def doctor_command(as_json: bool, no_verify: bool, timeout: float) -> None:
    """Check everything that decides what Claude Code and Claude Desktop use; each problem with its fix.

    Exit 0 when nothing is broken (warnings allowed), 1 when any check is an error.
    """
    from dsconfig import doctor
    from dsconfig.verify import render as verify_render

    with verify_render.spinner("checking"):
        app = _app()
        report = doctor.run(actx=app.actions_telling_at_once(), tctx=app.targets, verify=not no_verify, timeout=timeout)
    render.document(report.to_doc(), lambda _doc: doctor.render_text(report), as_json=as_json)
    if not report.ok:
        raise SystemExit(report.exit_code)


# --- entry point ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    try:
        # Without standalone mode click returns (rather than raises) a command's ctx.exit(N) code.
        code = cli.main(args=argv, prog_name="dsconfig", standalone_mode=False)
    except DsconfigError as err:
        output.render_notices(err.notices)
        output.error(err.render())
        return err.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "dsconfig"
        output.error(f"error: {exc.format_message()}\nhint: see `{where} --help`")
        return EXIT_USAGE
    except click.ClickException as exc:
        output.error(f"error: {exc.format_message()}")
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt, EOFError):
        click.echo("\ninterrupted: nothing was changed by the unfinished step", err=True)
        return EXIT_INTERRUPTED
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
