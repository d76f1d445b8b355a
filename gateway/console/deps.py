"""Dependencies of console pages, built on the console session dependencies of ``auth``.

``page_user`` is the signed-in person (remembered on the request so that even an error page
shows their navigation); ``needs(...)`` adds the CSRF check on state-changing requests and
the role's permissions, refusing (audited) what the role lacks.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from gateway.audit_trail.events import AuditTag
from gateway.auth.console_deps import CsrfCheckedConsoleUser, CurrentConsoleUser
from gateway.auth.permissions import Permission
from gateway.auth.principal import Principal
from gateway.console.access import require_any
from gateway.deps import RequestIdDep, ServicesDep


def page_user(request: Request, principal: CurrentConsoleUser) -> Principal:
    request.state.console_principal = principal
    return principal


PageUser = Annotated[Principal, Depends(page_user)]


def needs(*permissions: Permission) -> Any:
    """A dependency: the signed-in person, CSRF-checked, holding every one of ``permissions``."""
    wanted = tuple(Permission(permission) for permission in permissions)

    async def dependency(
        principal: PageUser,
        _checked: CsrfCheckedConsoleUser,
        services: ServicesDep,
        request_id: RequestIdDep,
    ) -> Principal:
        for permission in wanted:
            await run_in_threadpool(
                require_any,
                services,
                request_id,
                principal,
                AuditTag.CONSOLE_SIGNIN_DENY,
                permission,
            )
        return principal

    return Depends(dependency)


async def form_user(principal: PageUser, _checked: CsrfCheckedConsoleUser) -> Principal:
    """The signed-in person on a state-changing request whose CSRF token was checked."""
    return principal


FormUser = Annotated[Principal, Depends(form_user)]
