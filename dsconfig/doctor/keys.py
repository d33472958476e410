"""Doctor checks of keys and profiles: the OS keyring, other key sources, the active profile."""

from __future__ import annotations

from dsconfig import urls
from dsconfig.doctor.findings import Finding
from dsconfig.doctor.machine import Machine
from dsconfig.errors import DsconfigError
from dsconfig.profiles import Resolved


def check_keyring(m: Machine) -> list[Finding]:
    from dsconfig.keysources import SourcedStore

    # The OS keyring itself; a profile with another key source is checked by check_key_sources.
    store = m.actx.secrets.keyring if isinstance(m.actx.secrets, SourcedStore) else m.actx.secrets
    try:
        uses_keyring = [p.name for p in m.actx.store.load().profiles.values() if p.key_source.kind == "keyring"]
    except DsconfigError:
        uses_keyring = [m.active] if m.active else []
    try:
        backend = store.describe()
        store.get(m.active if m.active in uses_keyring else "dsconfig-doctor-probe")
    except DsconfigError as err:
        if m.profile_names and not uses_keyring:
            return [Finding("keyring", "ok", f"no usable OS keyring ({err.message}); no profile keeps its key there")]
        return [Finding("keyring", "error", err.message, err.hint)]
    if backend.startswith("keyring.backends.null"):
        # keyring's null backend accepts every key and keeps none: `key set` "works", `key get` finds nothing.
        return [Finding("keyring", "error", f"the keyring backend in use ({backend}) discards every key",
                        f"{m.unset('PYTHON_KEYRING_BACKEND')} (or remove the null backend from keyringrc.cfg) so a real "
                        "keyring is used")]
    return [Finding("keyring", "ok", f"OS keyring usable ({backend})")]


def check_profile(m: Machine) -> list[Finding]:
    if m.profiles_error is not None:
        return [Finding("profile", "error", m.profiles_error.message, m.profiles_error.hint)]
    out = []
    if not m.profile_names:
        out.append(Finding("profile", "info", "no profile yet", "dsconfig setup"))
    elif m.active is None:
        out.append(Finding("profile", "info", f"no active profile (profiles: {', '.join(m.profile_names)})",
                           f"dsconfig use {m.profile_names[0]}"))
    elif m.resolved is None:
        out.append(Finding("profile", "error", f"the active profile {m.active!r} cannot be loaded",
                           f"dsconfig profile show {m.active}   (it says why)"))
    else:
        r = m.resolved
        out.append(Finding("profile", "ok", f"active profile {r.name}: {r.template.name}, {r.base_url}"))
        bad_url = urls.problem(r.base_url)
        if bad_url is not None:
            out.append(Finding("profile", "error", f"the base URL of profile {r.name!r} cannot be used: {bad_url}",
                               f"dsconfig profile edit {r.name} --base-url {urls.EXAMPLE}"))
        insecure = urls.plain_http_warning(r.base_url)
        if insecure:
            out.append(Finding("profile", "warning", insecure, f"dsconfig profile edit {r.name} --base-url https://..."))
        if not m.key:
            out.append(_no_key(m, r))
    cred = m.effective.get("credential") or {}
    helper_profile = cred.get("dsconfig_profile")
    if helper_profile and helper_profile not in m.profile_names:
        out.append(Finding("profile", "error", f"Claude Code's apiKeyHelper runs `dsconfig key get {helper_profile}`, "
                           f"but there is no profile {helper_profile!r}", "dsconfig use NAME   (or dsconfig setup)",
                           cred.get("source")))
    return out


def _no_key(m: Machine, r: Resolved) -> Finding:
    """The active profile has no key. `key set` stores one in the keyring (or the kernel keyring); for an `env:` or
    `command:` profile it has nothing to store, so the finding names the source and its fix in verify's words."""
    from dsconfig.keysources import COMMAND, ENV
    from dsconfig.verify import sources

    source = r.profile.key_source
    if source.kind not in (ENV, COMMAND):
        return Finding("profile", "error", f"no API key stored for the active profile {r.name!r}",
                       f"dsconfig key set {r.name}")
    if m.key_error is not None:
        message, fix = sources.unreadable_key(r.name, source, m.key_error.message, m.key_error.hint, m.actx.environ)
    else:
        message, fix = sources.missing_key(r.name, source)
    return Finding("profile", "error", message, fix)


def check_key_sources(m: Machine) -> list[Finding]:
    """Each profile whose key comes from elsewhere than the OS keyring: does its source answer? (issue 16)"""
    from dsconfig import keysources

    try:
        profiles = [p for p in m.actx.store.load().profiles.values() if p.key_source.kind != keysources.KEYRING]
    except DsconfigError:
        return []  # check_profile reports the file
    out = []
    for p in profiles:
        source, fix_source = p.key_source, f"or change the source: dsconfig profile edit {p.name} --key-source keyring"
        try:
            if source.kind == keysources.ENV:
                keysources.read_env(p.name, source, m.actx.environ)
            elif source.kind == keysources.COMMAND:
                keysources.read_command(p.name, source, m.actx.environ)
            elif not keysources.KernelStore().get(p.name):
                out.append(Finding("key source", "error", f"profile {p.name!r}: no key in the kernel keyring (it is "
                                   "lost at reboot, or when no process of your user is left)",
                                   f"printf %s \"$KEY\" | dsconfig key set {p.name} --stdin"))
                continue
        except DsconfigError as err:
            severity = "warning" if source.kind == keysources.ENV else "error"  # set where Claude starts, maybe not here
            fix = err.hint or (f"export {source.value}=... where Claude Code starts" if source.kind == keysources.ENV else None)
            out.append(Finding("key source", severity, f"profile {p.name!r}: {err.message}",
                               f"{fix}; {fix_source}" if fix else fix_source))
            continue
        out.append(Finding("key source", "ok", f"profile {p.name!r}: key from {source} answers"))
    return out
