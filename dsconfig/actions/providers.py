"""`dsconfig providers`: the provider templates as JSON-ready documents."""

from __future__ import annotations

from typing import TypedDict

from dsconfig.templates import Template, load_templates


class DesktopModelJSON(TypedDict):
    id: str
    label: str
    tier: str | None
    supports_1m: bool


class DesktopJSON(TypedDict):
    supported: bool
    reason: str | None
    models: list[DesktopModelJSON]


class TemplateJSON(TypedDict):
    """One provider template in `providers --json` (and the wizard's choices)."""

    id: str
    name: str
    description: str
    base_url: str
    regions: dict[str, str]
    auth: str
    key_url: str | None
    docs_url: str | None
    checked: str | None
    models: dict[str, str]
    model_names: dict[str, str]
    legacy: dict[str, str]
    env: dict[str, str]
    desktop: DesktopJSON
    source: str


class TemplateErrorJSON(TypedDict):
    file: str
    message: str
    hint: str | None


class ProvidersJSON(TypedDict):
    """`dsconfig providers --json`."""

    providers: list[TemplateJSON]
    errors: list[TemplateErrorJSON]


def providers_doc() -> ProvidersJSON:
    found = load_templates()
    return {
        "providers": [template_doc(t) for t in found.ordered()],
        "errors": [{"file": str(e.path), "message": e.message, "hint": e.hint} for e in found.errors],
    }


def template_doc(t: Template) -> TemplateJSON:
    return {
        "id": t.id,
        "name": t.name,
        "description": t.description,
        "base_url": t.base_url,
        "regions": dict(t.regions),
        "auth": t.auth,
        "key_url": t.key_url,
        "docs_url": t.docs_url,
        "checked": t.checked,
        "models": dict(t.models),
        "model_names": dict(t.model_names),
        "legacy": dict(t.legacy),
        "env": dict(t.env),
        "desktop": {
            "supported": t.desktop_supported,
            "reason": t.desktop_reason,
            "models": [{"id": m.id, "label": m.label, "tier": m.tier, "supports_1m": m.supports_1m} for m in t.desktop_models],
        },
        "source": "built-in" if t.builtin else str(t.source),
    }


