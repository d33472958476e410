"""Rendering: data to stdout (text or one JSON document), messages to stderr. Stdlib only.

Everything printed for a person or a program goes through `clean` (text) or `emit_json` (documents), which
apply, in this order:

1. `scrub`: every secret registered for this command (`register_secret`: each key read from the keyring or
   typed in) is replaced by its mask (`sk-…abcd`), and credentials inside URLs (`user:pass@`, `?token=`,
   `key=`, `api_key=` ...) by `****`. Callers that shorten text scrub before cutting (verify does), since a
   key cut in half no longer matches; `scrub` also catches a key's head left before a cut's "…".
2. `visible` (text only): control characters that a terminal would obey (ESC sequences that set the window
   title or write the clipboard, a carriage return that overwrites a line, bidi overrides that reorder it) are
   written as escapes (`\\x1b`, `\\r`, `\\u202e`). JSON escapes C0 controls itself; C1 controls and DEL are
   escaped there too, which keeps the value.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence

# `key get` imports this module at every Claude Code start (register_secret): no typing, no json at import.
# Type checkers treat any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO

    from dsconfig.notices import Notice

_SECRETS: set[str] = set()
_MIN_SECRET = 8
"""Shorter values are not registered: masking every "test" or "1234" in the output would garble it."""
_MIN_HEAD = 8
"""A secret's head at least this long, right before "…" (a cut), is masked as well."""

# Characters a terminal acts on: C0 (but newline and tab), DEL, C1, and the Unicode bidi controls.
# Lone surrogates (\ud800-\udfff) too: valid as JSON escapes in a file, but no terminal or pipe can encode them.
# Patterns, not compiled ones: compiling at import would cost every `key get`; re caches them on first use.
_INVISIBLE = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
_JSON_UNSAFE = "[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"


def register_secret(value: str | None) -> None:
    """Mask `value` in everything this process prints from now on (a key read from the keyring or typed in)."""
    if value and len(value) >= _MIN_SECRET:
        _SECRETS.add(value)
        stripped = value.strip()
        if stripped != value and len(stripped) >= _MIN_SECRET:
            _SECRETS.add(stripped)


def forget_secrets() -> None:
    """Tests: start over with no registered secret."""
    _SECRETS.clear()


def _mask(secret: str) -> str:
    from dsconfig.credentials import mask

    return mask(secret)


_PIECE = 12
"""Any run of at least this many characters of a registered secret is masked wherever it appears: a provider
that echoes the key cut short ("bad key sk-0123...ab"), and the masked form's last four characters, must not
add up to the key."""
_ANSI = "\x1b(?:\\[[0-?]*[ -/]*[@-~]|\\][^\x07\x1b]*(?:\x07|\x1b\\\\)|[@-Z\\\\-_])"
"""A terminal escape sequence (CSI, OSC, or a two-character one): a key split by one is still the key."""


def _forms(secret: str) -> list[str]:
    """`secret` and the forms a provider's echo may take: reversed, spaced out, hex, every byte percent-encoded,
    URL-encoded, and base64 (standard and URL-safe) at each of the three alignments it can have inside a longer
    encoded text ("Bearer " + key encodes the key at another offset than the key alone)."""
    import base64
    from urllib.parse import quote

    raw = secret.encode("utf-8", "surrogatepass")
    forms = [secret, secret[::-1], " ".join(secret), raw.hex(), "".join(f"%{b:02x}" for b in raw),
             quote(secret, safe="")]
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for shift in range(3):
            text = encode(b"\0" * shift + raw).decode().rstrip("=")
            # The first quantum mixes in the bytes before the key and the last one those after it: drop both.
            forms.append(text[4:-4] if shift else text[:-4])
    return [f for i, f in enumerate(forms) if len(f) >= _MIN_SECRET and f not in forms[:i]]


def _mask_pieces(text: str, form: str, replacement: str) -> str:
    """`text` with every maximal run that is a piece of `form` (>= _PIECE characters; all of `form` when it is
    shorter) replaced; compared without case when lowering keeps `text`'s length (so offsets still match)."""
    size = min(_PIECE, len(form))
    folded_text, folded_form = text, form
    if len(text.lower()) == len(text):
        folded_text, folded_form = text.lower(), form.lower()
    windows = {folded_form[i:i + size]: i for i in range(len(form) - size + 1)}
    out: list[str] = []
    at = 0
    i = 0
    while i <= len(text) - size:
        start = windows.get(folded_text[i:i + size])
        if start is None:
            i += 1
            continue
        left, right = i, i + size  # widen to the whole run the text shares with the form around this window
        while left > at and start > 0 and folded_text[left - 1] == folded_form[start - 1]:
            left, start = left - 1, start - 1
        end = start + (right - left)
        while right < len(text) and end < len(form) and folded_text[right] == folded_form[end]:
            right, end = right + 1, end + 1
        out.append(text[at:left])
        out.append(replacement)
        at = i = right
    out.append(text[at:])
    return "".join(out)


def scrub(text: str) -> str:
    """`text` with every registered secret masked, and every credential inside a URL.

    A secret is masked whole, as any run of _PIECE or more of its characters (a provider echoing it cut short),
    in any letter case, URL-encoded or in base64, and across terminal escape sequences (which are then dropped
    from the text); a head of _MIN_HEAD or more characters right before "…" (a cut) is masked too."""
    if _SECRETS:
        import re

        bare = re.sub(_ANSI, "", text) if "\x1b" in text else text
        if bare != text and _masked(bare) != bare:
            text = bare  # a secret (or a piece) between escape sequences: show the text without them
        text = _masked(text)
    from dsconfig.urls import mask_credentials

    return mask_credentials(text)


def _masked(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        replacement = _mask(secret)
        for form in _forms(secret):
            text = _mask_pieces(text, form, replacement)
        if "…" in text:
            for size in range(len(secret) - 1, _MIN_HEAD - 1, -1):
                head = secret[:size] + "…"
                if head in text:
                    text = text.replace(head, replacement)
    return text


def visible(text: str) -> str:
    """Control characters written as escapes (ESC -> `\\x1b`); newlines and tabs stay as they are."""
    return re.sub(_INVISIBLE, _escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def clean(text: str) -> str:
    """What every line for a person goes through: secrets masked, then control characters made visible."""
    return visible(scrub(text))


def json_text(doc: Any) -> str:
    """One JSON document, secrets masked; C1 controls and bidi marks escaped (C0 ones json escapes itself)."""
    import json

    text = scrub(json.dumps(doc, indent=2, ensure_ascii=False))
    return re.sub(_JSON_UNSAFE, lambda m: f"\\u{ord(m.group()):04x}", text)


def emit_json(doc: Any, out: TextIO | None = None) -> None:
    stream = out or sys.stdout
    stream.write(json_text(doc) + "\n")


def emit_text(text: str, out: TextIO | None = None) -> None:
    """Text for a person on stdout (a report, a table), cleaned."""
    stream = out or sys.stdout
    stream.write(clean(text))


def note(message: str) -> None:
    """A message for the person, never for a pipe: stderr."""
    sys.stderr.write(clean(message) + "\n")


def warn(message: str) -> None:
    sys.stderr.write(_style("warning: ", "33") + clean(message) + "\n")


def render_notices(found: Iterable[Notice]) -> None:
    """The one place warnings and notes the domain layer returned (dsconfig.notices) are printed, in order."""
    for item in found:
        if item.kind == "warning":
            warn(item.text)
        else:
            note(item.text)


def error(text: str) -> None:
    """An error's rendered text (`error: ...`, `hint: ...`) on stderr, cleaned like every other line."""
    sys.stderr.write(clean(text) + "\n")


def _style(text: str, code: str) -> str:
    from dsconfig import iostreams

    if not iostreams.system().color():
        return text
    return f"\033[{code}m{text}\033[0m"


def table(rows: Sequence[Sequence[str]], headers: Sequence[str], out: TextIO | None = None) -> None:
    """A plain aligned table; the last column is never padded (no trailing spaces)."""
    stream = out or sys.stdout
    # Cleaned cell by cell before measuring, so an escaped value keeps the columns aligned.
    cleaned = [[clean(str(c)) for c in row] for row in [headers, *rows]]
    widths = [max(len(r[i]) for r in cleaned) for i in range(len(headers))]
    for row in cleaned:
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths)] + [row[-1]]
        stream.write("  ".join(cells).rstrip() + "\n")
