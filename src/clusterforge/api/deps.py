"""FastAPI dependencies shared by the routers: the services, and who is calling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clusterforge.api.security import Caller
from clusterforge.api.services import Services

__all__ = ["Reader", "ServicesDep", "Writer", "base_url"]


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _writer(request: Request) -> Caller:
    return _services(request).guard.write(request)


def _reader(request: Request) -> Caller:
    return _services(request).guard.read(request)


def base_url(request: Request) -> str:
    """The server's own URL as the caller reached it (for the links in answers)."""
    return str(request.base_url).rstrip("/")


ServicesDep = Annotated[Services, Depends(_services)]
Writer = Annotated[Caller, Depends(_writer)]
Reader = Annotated[Caller, Depends(_reader)]
