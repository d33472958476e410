"""`dsconfig --help`, as click renders it, kept as text so the most common call needs no click import.

Generated; tests/test_cli_basics.py fails when it no longer matches click's rendering. Regenerate with:
    python -m dsconfig.help_text > /dev/null
"""

from __future__ import annotations

TOP_LEVEL_HELP = "Usage: dsconfig [OPTIONS] COMMAND [ARGS]...\n\n  Connect Claude Code, Claude Desktop and your shell to DeepSeek and other Anthropic-compatible\n  APIs.\n\n  Start with `dsconfig setup`. Keys live in the OS keyring; every change to another program's file\n  is backed up and undone exactly by `dsconfig off`.\n\nOptions:\n  --version   Show the version and exit.\n  -h, --help  Show this message and exit.\n\nCommands:\n  completion  Print the completion script for SHELL.\n  detect      Find Claude Code and Claude Desktop installs and the settings files that decide...\n  doctor      Check everything that decides what Claude Code and Claude Desktop use; each...\n  env         Print shell statements that set profile NAME's variables (default: the active...\n  exec        Run COMMAND with profile NAME's environment (key from the keyring, never on disk).\n  key         Store, print and remove API keys in the OS keyring.\n  off         Undo `dsconfig use`: every key back to what it held before (byte-identical if...\n  profile     Create, inspect and change profiles (a provider plus your overrides).\n  providers   List provider templates, built-in and your own.\n  setup       Set up a provider, its key and the programs that use it, with a test call; writes...\n  status      What is in effect for Claude Code, Claude Desktop and this shell, where it comes...\n  use         Switch Claude Code (and/or Claude Desktop) to profile NAME; the key stays in the...\n  verify      Call the provider the way Claude Code does: every model, streaming, tool use,...\n"


def render() -> str:
    """What click prints for `dsconfig --help` now."""
    import click

    from dsconfig.cli import cli

    with click.Context(cli, info_name="dsconfig", **cli.context_settings) as ctx:
        return cli.get_help(ctx) + "\n"


if __name__ == "__main__":
    import pathlib

    path = pathlib.Path(__file__)
    text = path.read_text(encoding="utf-8")
    start = text.index("TOP_LEVEL_HELP = ")
    end = text.index("\n\n\ndef render")
    path.write_text(text[:start] + f"TOP_LEVEL_HELP = {render()!r}" + text[end:], encoding="utf-8")
