"""Base URLs: what dsconfig accepts, what it warns about, and how it shows them. Stdlib only (fast path).

A base URL is where Claude Code sends `/v1/messages`, with the key. It is accepted when it is `http://` or
`https://`, names a host, has a port in 1-65535 if any, and holds no space, control character, fragment,
query or `user:password@` (the client appends `/v1/messages` to the text as it is, so a query or fragment
would swallow the path, and a password would sit in plain text in profiles.toml and in Claude's settings).

- `validate_base_url`: input from a flag or a prompt; UsageError (exit 2) naming the fix.
- `problem`: the same check as a sentence, or None; for values already stored (a hand-edited profiles.toml
  or template), which callers report as InvalidFileError (exit 4) or as a failed check, never a traceback.
- `plain_http_warning`: `http://` to anything but this machine sends the key in clear text.
- `mask_credentials`: `user:pass@` and `?token=...` style values masked anywhere in a text (output.scrub).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, urlsplit

from dsconfig.errors import UsageError

EXAMPLE = "https://api.deepseek.com/anthropic"
_HOST_LABEL = re.compile(r"^[\w-]+$")
_CREDENTIALS = re.compile(r"(?<=://)[^\s/@?#'\"<>]+@")
_QUERY_SECRET = re.compile(
    r"(?i)([?&;](?:api[_-]?key|key|token|access[_-]?token|auth|auth[_-]?token|password|passwd|pwd|secret|sig|signature)=)"
    r"[^&#\s'\"<>]+"
)


def problem(url: object) -> str | None:
    """Why `url` cannot be a base URL (one sentence), or None when it can."""
    if not isinstance(url, str):
        return f"{url!r} is not text"
    if not url:
        return "the URL is empty"
    bad = next((c for c in url if c.isspace() or not c.isprintable()), None)
    if bad is not None:
        return f"the URL contains {_describe(bad)}"
    try:
        parts = urlsplit(url)
    except ValueError as err:  # an unbalanced [ of an IPv6 address
        return f"the URL cannot be read ({err})"
    if parts.scheme not in ("http", "https") or not url.startswith(parts.scheme + "://"):
        return "it is not an http(s) URL (it must start with http:// or https://)"
    if parts.fragment or "#" in url:
        return "the URL has a fragment (#...), which would cut off the /v1/messages the client appends"
    if parts.query or "?" in url:
        return "the URL has a query (?...), which would end up before the /v1/messages the client appends"
    if "@" in parts.netloc:
        return "the URL holds a user name or password (user:pass@host), which would be stored in plain text"
    host_problem = _host_problem(parts)
    if host_problem:
        return host_problem
    return _port_problem(parts)


def _describe(char: str) -> str:
    names = {" ": "a space", "\n": "a line break", "\r": "a carriage return", "\t": "a tab"}
    return names.get(char, f"the character U+{ord(char):04X}")


def _host_problem(parts: SplitResult) -> str | None:
    host = parts.hostname
    if not host:
        return "the URL names no host"
    if "[" in parts.netloc:
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return f"[{host}] is not an IPv6 address"
        return None
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if any(not label or not _HOST_LABEL.match(label) for label in labels):
        return f"{host!r} is not a host name"
    return None


def _port_problem(parts: SplitResult) -> str | None:
    hostport = parts.netloc.rsplit("]", 1)[-1]
    if ":" not in hostport:
        return None
    text = hostport.rsplit(":", 1)[1]
    if text == "":
        return "the URL has a ':' but no port after it"
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 65535:
        return f"the port {text!r} is not a number from 1 to 65535"
    return None


def validate_base_url(url: str, flag: str = "--base-url") -> str:
    """`url` without a trailing slash, or UsageError (exit 2) saying what is wrong and what to give instead."""
    why = problem(url)
    if why is not None:
        raise UsageError(f"{flag} {url!r}: {why}", f"give a URL such as {EXAMPLE} (a port, if any, from 1 to 65535)")
    return url.rstrip("/")


def host_port(url: str) -> str:
    """`host:port` (the scheme's default port when none is given) for messages; never raises."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return f"{parts.hostname or url}:{port}"
    except ValueError:
        return url


def hostname(url: str) -> str:
    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and `localhost` (with any subdomain, as RFC 6761 reserves it): this machine."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def plain_http_warning(url: str | None) -> str | None:
    """A warning for `http://` to another machine (the key would travel in clear text), else None."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() != "http" or not host or is_loopback(host):
        return None
    return (f"{mask_credentials(url)} is plain http to another machine ({host}): the API key and every prompt travel "
            "unencrypted and anyone on the network path can read them; use https:// (plain http is only quiet for "
            "127.0.0.1, ::1 and localhost)")


def mask_credentials(text: str) -> str:
    """`scheme://user:pass@` and `?token=...`-style query values masked as `****`, anywhere in `text`."""
    if "@" in text:
        text = _CREDENTIALS.sub("****@", text)
    if "=" in text:
        text = _QUERY_SECRET.sub(r"\1****", text)
    return text
