"""What Argo clients ask a server about itself: ``/api/v1/version`` and ``/api/v1/info``.

Hera's ``get_version`` and the ``argo version`` command read the version
object (every field is required by Hera's model); ``/api/v1/info`` is read by
Argo's UI and CLI for the managed namespace and links, none of which we set.
"""

from __future__ import annotations

import platform
import sys
from typing import Any

from fastapi import APIRouter

from clusterforge import __version__
from clusterforge.api.argo_server.errors import ArgoRoute
from clusterforge.api.deps import Reader

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["argo-server"], route_class=ArgoRoute)


@router.get("/version")
async def version(_caller: Reader) -> dict[str, Any]:
    return {
        "version": f"v{__version__}",
        "buildDate": "",
        "gitCommit": "",
        "gitTag": f"clusterforge-v{__version__}",
        "gitTreeState": "",
        "goVersion": "",
        "compiler": f"python{sys.version_info.major}.{sys.version_info.minor}",
        "platform": f"{sys.platform}/{platform.machine()}",
    }


@router.get("/info")
async def info(_caller: Reader) -> dict[str, Any]:
    return {"links": [], "columns": [], "modals": {}}
