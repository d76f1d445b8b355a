"""The partner registry as a service: onboard, add clients, suspend, reinstate, rotate keys.

Used by the CLI, the demo and tests alike. Every change is flushed in the caller's session
together with its audit entry (services never commit), so a registry change and its record
exist together or not at all. Suspension and key rotation need no token revocation list:
the API checks the client's status and key version on every request.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit_trail.events import Actor, AuditSink, AuditTag
from gateway.clock import Clock, SystemClock
from gateway.errors import ConflictError, InvalidRequestError, NotFoundError
from gateway.partners.jwk import parse_client_keys
from gateway.partners.models import ClientStatus, Partner, PartnerClient, PartnerStatus, Sector
from gateway.partners.sectors import PolicySectors, policy_sectors
from gateway.scopes import PARTNER_SCOPES, Scope, parse_scopes, scope_string

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
MAX_NAME_LENGTH = 200

# Acts the audit vocabulary has no own tag for yet (see the report to the audit area):
# a client-level suspension is recorded as the partner act with the client in ``detail``,
# a key rotation as a client registration of the new key.
TAG_CLIENT_SUSPEND = AuditTag.PARTNER_CLIENT_SUSPEND
TAG_CLIENT_REINSTATE = AuditTag.PARTNER_CLIENT_REINSTATE
TAG_CLIENT_KEY_ROTATE = AuditTag.PARTNER_CLIENT_ROTATE


def slugify(name: str) -> str:
    """A partner id from a name: ``"Bank N.V."`` becomes ``bank-n-v``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64].strip("-")


def _check_slug(value: str, field: str) -> str:
    if not SLUG.match(value):
        raise InvalidRequestError(
            "must be 1-64 lowercase letters, digits or hyphens, not starting or ending "
            "with a hyphen",
            field=field,
        )
    return value


class PartnerRegistry:
    """Registry operations within one session; each flushes and audits, none commits."""

    def __init__(
        self,
        session: Session,
        audit: AuditSink,
        *,
        actor: Actor,
        clock: Clock | None = None,
        sectors: PolicySectors | None = None,
    ) -> None:
        self.session = session
        self.audit = audit
        self.actor = actor
        self.clock = clock or SystemClock()
        self._sectors = sectors

    @property
    def sectors(self) -> PolicySectors:
        """The sectors of the policy in force (read once per registry)."""
        if self._sectors is None:
            self._sectors = policy_sectors(self.session)
        return self._sectors

    # -- reading ---------------------------------------------------------------------------

    def get(self, partner_id: str) -> Partner:
        partner = self.session.get(Partner, partner_id)
        if partner is None:
            raise NotFoundError(f"no partner {partner_id!r}", field="partner")
        return partner

    def get_client(self, client_id: str) -> PartnerClient:
        client = self.session.get(PartnerClient, client_id)
        if client is None:
            raise NotFoundError(f"no client {client_id!r}", field="client")
        return client

    def list_partners(self) -> list[Partner]:
        return list(self.session.scalars(select(Partner).order_by(Partner.id)))

    def clients_of(self, partner_id: str) -> list[PartnerClient]:
        self.get(partner_id)
        return list(
            self.session.scalars(
                select(PartnerClient)
                .where(PartnerClient.partner_id == partner_id)
                .order_by(PartnerClient.id)
            )
        )

    # -- changes ---------------------------------------------------------------------------

    def add_partner(self, *, name: str, sector: str, partner_id: str | None = None) -> Partner:
        name = name.strip()
        if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
            raise InvalidRequestError(
                f"must be 1-{MAX_NAME_LENGTH} printable characters", field="name"
            )
        slug = _check_slug(partner_id or slugify(name), "id")
        self.sectors.check(slug, sector)
        if self.session.get(Partner, slug) is not None:
            raise ConflictError(f"partner {slug!r} exists already", field="id")
        partner = Partner(
            id=slug,
            name=name,
            sector=sector,
            status=PartnerStatus.ACTIVE.value,
            status_changed_at=self.clock.now(),
        )
        self.session.add(partner)
        self.session.flush()
        self._record(AuditTag.PARTNER_ONBOARD, partner.id, {"sector": partner.sector})
        return partner

    def add_client(
        self,
        *,
        partner_id: str,
        jwk: str | bytes | Mapping[str, Any],
        scopes: str | Iterable[str],
        client_id: str | None = None,
    ) -> PartnerClient:
        partner = self.get(partner_id)
        granted = self._check_scopes(partner, scopes)
        keys = parse_client_keys(jwk if isinstance(jwk, str | bytes) else dict(jwk))
        if client_id is None:
            client_id = f"{partner.id[:57]}-{secrets.token_hex(3)}"
        _check_slug(client_id, "client_id")
        if self.session.get(PartnerClient, client_id) is not None:
            raise ConflictError(f"client {client_id!r} exists already", field="client_id")
        duplicate = self.session.scalar(
            select(PartnerClient.id).where(PartnerClient.key_id == keys.key_id)
        )
        if duplicate is not None:
            raise ConflictError(
                f"this public key is already registered for client {duplicate!r}; "
                "every connector installation needs its own key",
                field="jwk",
            )
        client = PartnerClient(
            id=client_id,
            partner_id=partner.id,
            public_jwk=keys.signing_jwk,
            key_id=keys.key_id,
            key_version=1,
            encryption_jwk=keys.encryption_jwk,
            scopes=scope_string(granted),
            status=ClientStatus.ACTIVE.value,
            status_changed_at=self.clock.now(),
        )
        self.session.add(client)
        self.session.flush()
        self._record(
            AuditTag.PARTNER_CLIENT_ADD,
            partner.id,
            {"client_id": client.id, "key_id": client.key_id, "scope": client.scopes},
        )
        return client

    def suspend(self, partner_id: str) -> Partner:
        """Stop a partner: tokens are refused from the next request on, none are issued."""
        partner = self.get(partner_id)
        if partner.status == PartnerStatus.SUSPENDED:
            raise ConflictError(f"partner {partner.id!r} is suspended already", field="partner")
        partner.status = PartnerStatus.SUSPENDED.value
        partner.status_changed_at = self.clock.now()
        self.session.flush()
        self._record(AuditTag.PARTNER_SUSPEND, partner.id, {})
        return partner

    def reinstate(self, partner_id: str) -> Partner:
        partner = self.get(partner_id)
        if partner.status == PartnerStatus.ACTIVE:
            raise ConflictError(f"partner {partner.id!r} is active already", field="partner")
        if partner.status == PartnerStatus.LEFT:
            raise ConflictError(
                f"partner {partner.id!r} left the partnership; offboarding is final "
                "(onboard the organisation again under a new id)",
                field="partner",
            )
        partner.status = PartnerStatus.ACTIVE.value
        partner.status_changed_at = self.clock.now()
        self.session.flush()
        self._record(AuditTag.PARTNER_REINSTATE, partner.id, {})
        return partner

    def suspend_client(self, client_id: str) -> PartnerClient:
        """Stop one connector installation (e.g. a lost machine), leaving the others."""
        client = self.get_client(client_id)
        if client.status == ClientStatus.SUSPENDED:
            raise ConflictError(f"client {client.id!r} is suspended already", field="client")
        client.status = ClientStatus.SUSPENDED.value
        client.status_changed_at = self.clock.now()
        self.session.flush()
        self._record(TAG_CLIENT_SUSPEND, client.partner_id, {"client_id": client.id})
        return client

    def reinstate_client(self, client_id: str) -> PartnerClient:
        client = self.get_client(client_id)
        if client.status == ClientStatus.ACTIVE:
            raise ConflictError(f"client {client.id!r} is active already", field="client")
        client.status = ClientStatus.ACTIVE.value
        client.status_changed_at = self.clock.now()
        self.session.flush()
        self._record(TAG_CLIENT_REINSTATE, client.partner_id, {"client_id": client.id})
        return client

    def rotate_key(self, client_id: str, jwk: str | bytes | Mapping[str, Any]) -> PartnerClient:
        """Replace a client's public key; tokens issued under the old key stop working."""
        client = self.get_client(client_id)
        keys = parse_client_keys(jwk if isinstance(jwk, str | bytes) else dict(jwk))
        if keys.key_id == client.key_id:
            raise InvalidRequestError(
                "is the key already registered; rotate to a new key", field="jwk"
            )
        holder = self.session.scalar(
            select(PartnerClient.id).where(PartnerClient.key_id == keys.key_id)
        )
        if holder is not None:
            raise ConflictError(f"this key is registered for client {holder!r}", field="jwk")
        previous = client.key_id
        client.public_jwk = keys.signing_jwk
        client.key_id = keys.key_id
        if keys.encryption_jwk is not None:
            client.encryption_jwk = keys.encryption_jwk
        client.key_version += 1
        client.key_rotated_at = self.clock.now()
        self.session.flush()
        self._record(
            TAG_CLIENT_KEY_ROTATE,
            client.partner_id,
            {
                "client_id": client.id,
                "key_id": client.key_id,
                "previous_key_id": previous,
                "key_version": client.key_version,
                "action": "rotate-key",
            },
        )
        return client

    # -- helpers ---------------------------------------------------------------------------

    def _check_scopes(self, partner: Partner, scopes: str | Iterable[str]) -> frozenset[Scope]:
        granted = parse_scopes(scopes)
        if not granted:
            raise InvalidRequestError("at least one scope is needed", field="scopes")
        if Scope.ADMIN in granted and partner.sector != Sector.OPERATOR:
            raise InvalidRequestError(
                "the admin scope is only for clients of the operator's own organisation",
                field="scopes",
            )
        mixed = sorted(granted & PARTNER_SCOPES) if Scope.KEYS_CUSTODY in granted else []
        if mixed:
            raise InvalidRequestError(
                "a key custodian client holds keys:custody alone (it holds every master salt); "
                f"not also {' '.join(mixed)}",
                field="scopes",
            )
        return granted

    def record(
        self,
        tag: AuditTag,
        partner_id: str,
        detail: dict[str, object],
        counts: dict[str, int] | None = None,
    ) -> None:
        """Audit a registry act on ``partner_id`` as this registry's actor (flushes only).

        ``counts`` go into the entry itself (kept for good); ``detail`` into its detail
        record (purged after ``PPSGATE_AUDIT_DETAIL_RETENTION_DAYS``).
        """
        self._record(tag, partner_id, detail, counts)

    def _record(
        self,
        tag: AuditTag,
        partner_id: str,
        detail: dict[str, object],
        counts: dict[str, int] | None = None,
    ) -> None:
        event = self.actor.event(
            tag, counts=counts or {}, detail={"partner_id": partner_id, **detail}
        )
        self.audit.record(self.session, event)
