"""What each command does, as plain functions: arguments in, data out, collaborators injectable.

cli.py parses and renders; entry.py calls the two fast ones (`key_get`, `env`) without click. Tests call
these directly with an in-memory secret store and a temporary profile store.

What the person must be told (a key that does not look like the provider's, an old copy removed) is a
dsconfig.notices.Notice appended to `Context.notices`, which cli.py renders after the call. A caller that gives
no list (entry.py's `env`, wizard's `profile_add`, older tests) has them rendered at once by `base._tell`, the
one place here that prints, until those callers pass a list.

One module per command family: `base` (Context, key stores, the profile in effect), `providers`, `profiles`,
`keys`, `run` (env and exec). Everything is importable from here, as `actions.NAME`.
"""

from __future__ import annotations

from dsconfig.actions.base import (
    Context,
    _store_for,
    folder_profile,
    in_effect,
    profile_secret,
    resolved_profile,
)
from dsconfig.actions.keys import key_get, key_remove, key_set, nothing_to_remove, read_secret_input
from dsconfig.actions.profiles import (
    profile_add,
    profile_doc,
    profile_edit,
    profile_list_doc,
    profile_remove,
    profile_rename,
    profile_show_doc,
)
from dsconfig.actions.providers import providers_doc, template_doc
from dsconfig.actions.run import env, exec_environment, run_exec

__all__ = [
    "Context", "_store_for", "env", "exec_environment", "folder_profile", "in_effect", "key_get", "key_remove",
    "key_set", "nothing_to_remove", "profile_add", "profile_doc", "profile_edit", "profile_list_doc",
    "profile_remove", "profile_rename", "profile_secret", "profile_show_doc", "providers_doc", "read_secret_input",
    "resolved_profile", "run_exec", "template_doc",
]
