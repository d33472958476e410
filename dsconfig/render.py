"""How cli.py shows what the core returned: the tables and lines of each command, and the notices the domain
layer left (printed here, around each call, also when it fails). No click and no I/O but printing (output.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from dsconfig import output

if TYPE_CHECKING:
    from dsconfig.context import AppContext
    from dsconfig.profiles import Resolved
    from dsconfig.switch_result import SwitchResult


@contextlib.contextmanager
def telling(app: AppContext) -> Iterator[AppContext]:
    """Render what the call inside left in `app.notices`, also when it fails (before the error)."""
    try:
        yield app
    finally:
        output.render_notices(app.take_notices())


def document(doc: Mapping[str, Any], text: Callable[[Any], str], *, as_json: bool) -> None:
    """A read command's document: one JSON document with --json, else its text (both on stdout)."""
    if as_json:
        output.emit_json(doc)
    else:
        output.emit_text(text(doc))


def profile_added(r: Resolved, *, source_given: bool, key_given: bool) -> None:
    """What `profile add` says: the profile made, its key source when one was chosen, plain http, a missing key."""
    output.note(f"created profile {r.name!r} ({r.template.name}, {r.base_url})"
                + (f"; key source: {r.profile.key_source}" if source_given else ""))
    plain_http(r.base_url)
    if not key_given and r.profile.key_source.stores:
        output.warn(f"no API key stored yet: dsconfig key set {r.name}")


def plain_http(base_url: str | None) -> None:
    """The warning for a key sent over plain http to a remote host, when `base_url` is one."""
    from dsconfig import urls

    warning = urls.plain_http_warning(base_url)
    if warning:
        output.warn(warning)


def providers(doc: Mapping[str, Any], *, as_json: bool) -> None:
    if as_json:
        output.emit_json(doc)
    else:
        rows = [[p["id"], p["name"], p["base_url"], "yes" if p["desktop"]["supported"] else "no",
                 p["checked"] or "unconfirmed", p["docs_url"] or "-"] for p in doc["providers"]]
        output.table(rows, ["ID", "NAME", "BASE URL", "DESKTOP", "CHECKED", "SOURCE"])
    for err in doc["errors"]:
        output.warn(f"{err['message']}\nhint: {err['hint']}")


def profile_list(doc: Mapping[str, Any], *, as_json: bool) -> None:
    if as_json:
        output.emit_json(doc)
    elif not doc["profiles"]:
        output.note("no profiles yet: run `dsconfig setup`")
    else:
        output.table([["*" if p["active"] else "", p["name"], p["provider"], p["base_url"] or ""] for p in doc["profiles"]],
                     ["", "NAME", "PROVIDER", "BASE URL"])
    if doc.get("interrupted_switch") and not as_json:
        output.warn(doc["interrupted_switch"])


def profile_show(doc: Mapping[str, Any], *, as_json: bool) -> None:
    if as_json:
        output.emit_json(doc)
        return
    lines = [f"name:      {doc['name']}{'  (active)' if doc['active'] else ''}", f"provider:  {doc['provider']}",
             f"base_url:  {doc['base_url']}", f"key:       {doc['key'] or doc['key_error'] or 'not set'}",
             f"key source: {doc['key_source']}"]
    lines += [f"model.{tier}: {model}" for tier, model in doc["models"].items()]
    lines += [f"env.{var}: {value}" for var, value in doc["env"].items()]
    output.emit_text("\n".join(lines) + "\n")


def switch_result(result: SwitchResult) -> None:
    """`use` / `off`: the notices, the diff (stdout, with --dry-run), then the summary lines."""
    from dsconfig.switch_result import summary

    output.render_notices(result.notices)
    if result.dry_run:
        output.emit_text(result.diff())
    for line in summary(result):
        output.note(line)
