"""FastAPI dependencies shared by the routers: the services, and who is calling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clusterforge.api.security import Caller
from clusterforge.api.services import Services

__all__ = ["Reader", "ServicesDep", "Writer", "base_url"]


# async on purpose: FastAPI runs plain ``def`` dependencies in its thread pool, and
# none of these block, so a thread hop per request would only cost time.
async def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def _writer(request: Request) -> Caller:
    services: Services = request.app.state.services
    return services.guard.write(request)


async def _reader(request: Request) -> Caller:
    services: Services = request.app.state.services
    return services.guard.read(request)


def base_url(request: Request) -> str:
    """The server's own URL as the caller reached it (for the links in answers)."""
    return str(request.base_url).rstrip("/")


ServicesDep = Annotated[Services, Depends(_services)]
Writer = Annotated[Caller, Depends(_writer)]
Reader = Annotated[Caller, Depends(_reader)]
