"""Whether a model bundle that runs code on loading (a pickle) may be loaded.

kiln refuses to load a pickle-based bundle (``sklearn`` saved as pickle, ``pyfunc``'s
cloudpickle, a skops file naming types outside scikit-learn/numpy/scipy) that the
user **did not write**. Concretely, the user did not write a bundle when the registered
version's ``user`` (or, for ``runs:/`` URIs, the run's ``user``) differs from the
current user (``Settings.user``: ``KILN_USER``, else the login name). The artifact
store's hash check proves the bytes are the ones logged, not who logged them, so a
shared store or a kiln server full of other people's pickles is exactly the case
this guards.

Trust is given explicitly: ``load_model(uri, trusted=True)``, or ``KILN_TRUST=1``
(every writer) or ``KILN_TRUST=alice,ci-bot`` (these writers) in the environment,
for example on a model server that serves what CI registered.
"""

from __future__ import annotations

import os

from kiln.exceptions import UntrustedModelError

_ALL = {"1", "true", "yes", "all", "*"}


def trusted_writers() -> tuple[bool, set[str]]:
    """``(everyone, names)`` from ``KILN_TRUST``."""
    raw = os.environ.get("KILN_TRUST", "").strip()
    if raw.lower() in _ALL:
        return True, set()
    return False, {n.strip() for n in raw.split(",") if n.strip()}


def is_trusted(writer: str | None, user: str, trusted: bool = False) -> bool:
    """Whether a bundle written by ``writer`` may run code when ``user`` loads it."""
    if trusted or (writer is not None and writer == user):
        return True
    everyone, names = trusted_writers()
    return everyone or (writer is not None and writer in names)


def refuse(what: str, flavor: str, content: list[str], writer: str | None, user: str) -> None:
    """Raise the one-line refusal."""
    shown = ", ".join(content[:3]) + (f" and {len(content) - 3} more" if len(content) > 3 else "")
    who = f"by {writer!r}" if writer else "by an unknown writer"
    raise UntrustedModelError(
        f"refusing to load {what}: its {flavor} bundle runs code on loading ({shown}) and "
        f"was written {who}, not you ({user!r}); load it with trusted=True or set "
        f"KILN_TRUST={writer or 1} if you trust it"
    )
