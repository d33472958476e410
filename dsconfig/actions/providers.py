"""`dsconfig providers`: the provider templates as JSON-ready documents."""

from __future__ import annotations

from typing import Any

from dsconfig.templates import Template, load_templates


def providers_doc() -> dict[str, Any]:
    found = load_templates()
    return {
        "providers": [template_doc(t) for t in found.ordered()],
        "errors": [{"file": str(e.path), "message": e.message, "hint": e.hint} for e in found.errors],
    }


def template_doc(t: Template) -> dict[str, Any]:
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


