"""The kubelet's ``$(VAR_NAME)`` expansion: what Kubernetes, not Argo and not a shell,
does to a container's ``command``, ``args`` and ``env`` values before it starts.

On a cluster the kubelet builds a container's environment (``makeEnvironmentVariables``:
``envFrom`` first, then each ``env`` entry in order, a ``value`` expanded against the
variables defined so far, a ``valueFrom`` resolved and taken as it is) and then
expands ``command`` and ``args`` against that environment
(``ExpandContainerCommandAndArgs``). Only the container's own variables count —
never the image's or the host's — and the rules are those of Kubernetes'
``third_party/forked/golang/expansion`` (k8s.io/kubernetes v1.34):

* ``$(NAME)`` of a variable the container defines is its value (empty included);
* ``$(NAME)`` of one it does not define stays ``$(NAME)``, as written;
* ``$$`` is one literal ``$`` (so ``$$(NAME)`` is the text ``$(NAME)``);
* a ``$`` not followed by ``(`` or ``$``, a ``$(`` never closed, and a ``$`` at the
  end stay as they are; a name runs to the first ``)``.

Locally a step is a host process, so the engine does what the kubelet would: the
expanded strings are the program's argument vector, passed to ``exec`` as they
are — nothing is given to a shell. Kubernetes' service variables
(``KUBERNETES_SERVICE_HOST``…) are not defined locally: no API server is there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["REFERENCE", "expand", "expand_all"]

REFERENCE = re.compile(r"\$\$|\$\(([^)]*)\)")
"""``$$`` or ``$(NAME)`` (a name up to the first ``)``). Scanning left to right with it
gives the kubelet's results: every other ``$`` is copied as it is."""


def expand(text: str, variables: Mapping[str, str]) -> str:
    """``text`` with each ``$(NAME)`` of ``variables`` replaced and ``$$`` made ``$``."""
    if "$" not in text:
        return text

    def value(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return variables[name] if name in variables else match.group(0)

    return REFERENCE.sub(value, text)


def expand_all(texts: Iterable[str], variables: Mapping[str, str]) -> list[str]:
    """Each of ``texts`` expanded (a ``command`` or ``args`` list)."""
    return [expand(text, variables) for text in texts]
