"""The profile being checked: its URLs, the headers Claude Code would send, the models to check, its key's
source, and `scrub` (never show the key).

Light (no httpx): diagnosis.py, claude_check.py and checks.py all take a Target.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from dsconfig import __version__, output, urls
from dsconfig.credentials import mask
from dsconfig.keysources import KeySource
from dsconfig.profiles import Resolved, strip_context_suffix
from dsconfig.templates import TIERS
from dsconfig.verify import sources

DEFAULT_MODEL = "claude-sonnet-4-5"
"""Checked when a profile sets no model at all (the anthropic template): Claude Code then uses its own default,
Sonnet, and this alias is what the Anthropic API (and any gateway that maps Claude names) answers to."""

ANTHROPIC_VERSION = "2023-06-01"


@dataclass(frozen=True)
class Target:
    resolved: Resolved
    key: str

    @property
    def name(self) -> str:
        return self.resolved.name

    @property
    def base_url(self) -> str:
        return self.resolved.base_url.rstrip("/")

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/v1/messages?beta=true"

    @property
    def root_url(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def host(self) -> str:
        return urls.hostname(self.base_url)

    @property
    def host_port(self) -> str:
        return urls.host_port(self.base_url)

    @property
    def masked_key(self) -> str:
        return mask(self.key)

    @property
    def source(self) -> KeySource:
        return self.resolved.profile.key_source

    def message_headers(self) -> dict[str, str]:
        headers = {
            "anthropic-version": ANTHROPIC_VERSION,
            "content-type": "application/json",
            "accept": "application/json",
            "user-agent": f"dsconfig/{__version__} (verify)",
        }
        auth = self.resolved.template.auth
        if auth in ("x-api-key", "both"):
            headers["x-api-key"] = self.key
        if auth in ("bearer", "both"):
            headers["authorization"] = f"Bearer {self.key}"
        return headers

    def list_headers(self) -> dict[str, str]:
        """Model list and balance are OpenAI-style endpoints (Bearer); Anthropic's own /v1/models wants x-api-key."""
        headers = {"accept": "application/json", "user-agent": f"dsconfig/{__version__} (verify)"}
        if self.resolved.template.auth == "x-api-key":
            headers["x-api-key"] = self.key
            headers["anthropic-version"] = ANTHROPIC_VERSION
        else:
            headers["authorization"] = f"Bearer {self.key}"
        return headers

    def main_model(self) -> str:
        main = self.resolved.models.get("main")
        if main:
            return strip_context_suffix(main)
        models = self.resolved.distinct_models()
        return models[0] if models else DEFAULT_MODEL

    def models_to_check(self) -> list[tuple[str, tuple[str, ...]]]:
        """(wire model id, tiers using it); the default model when the profile sets none."""
        distinct = self.resolved.distinct_models()
        if not distinct:
            return [(DEFAULT_MODEL, ())]
        out = []
        for model in distinct:
            tiers = tuple(t for t in TIERS if self.resolved.models.get(t) and strip_context_suffix(self.resolved.models[t]) == model)
            out.append((model, tiers))
        return out

    def scrub(self, text: str) -> str:
        """Never let the key through in something we show (a gateway may echo it back), nor URL credentials."""
        if self.key and len(self.key) >= 4:
            text = text.replace(self.key, self.masked_key)
        return output.scrub(text)

    def key_came_from(self) -> str:
        """Where the key came from, for "the key came from ...": the profile's own source (sources.py)."""
        return sources.came_from(self.name, self.source)

    def wrong_key_fix(self) -> str:
        return sources.wrong_key_fix(self.name, self.source, self.key_page())

    def key_page(self) -> str:
        url = self.resolved.template.key_url
        return f" (keys: {url})" if url else ""
