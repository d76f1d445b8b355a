"""Governed policy changes: propose, approve with four eyes, activate.

A proposal is a complete bundle that must pass its own Rego tests and the decision table
before it is stored; it becomes active only after two different privacy officers or the
partnership DPO approved it, none of them the proposer. Every step is audited with the old
and new digests, and every version is kept so the console can diff any two.

Approvers are console users (``gateway.auth``), so this workflow sits above authentication;
the stored versions it works on are read through ``gateway.policy.governance``.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit_trail.events import Actor, AuditSink, AuditTag
from gateway.auth.models import ConsoleUser, ConsoleUserStatus
from gateway.auth.permissions import Role
from gateway.clock import Clock
from gateway.errors import ConflictError, InvalidRequestError, NotFoundError, PermissionDeniedError
from gateway.freetext import refuse_identifiers
from gateway.policy.bundle import PolicyBundle
from gateway.policy.governance import active_version, files_json, test_bundle
from gateway.policy.models import PolicyApproval, PolicyVersion, VersionStatus

APPROVALS_NEEDED = 2
APPROVER_ROLES = frozenset({Role.PRIVACY_OFFICER.value, Role.PARTNERSHIP_DPO.value})


class PolicyGovernance:
    """Governance steps within one session; each flushes and audits, none commits."""

    def __init__(
        self, session: Session, audit: AuditSink, clock: Clock, *, request_id: str
    ) -> None:
        self.session = session
        self.audit = audit
        self.clock = clock
        self.request_id = request_id

    def _record(self, tag: AuditTag, user: str, digest: str, **detail: object) -> None:
        self.audit.record(
            self.session,
            Actor(self.request_id, user=user).event(
                tag,
                policy_digest=digest,
                decision="allow",
                detail={"digest": digest, **detail},
            ),
        )

    def _version(self, digest: str) -> PolicyVersion:
        matches = (
            list(
                self.session.execute(
                    select(PolicyVersion).where(PolicyVersion.digest.startswith(digest))
                ).scalars()
            )
            if len(digest) >= 8
            else []
        )
        if len(matches) != 1:
            raise NotFoundError("no single policy version starts with this digest", field="digest")
        return matches[0]

    def bootstrap(self, bundle: PolicyBundle) -> PolicyVersion | None:
        """Record the bundle the gateway starts with as the first active version."""
        if self.session.execute(select(PolicyVersion.digest).limit(1)).first() is not None:
            return None
        version = PolicyVersion(
            digest=bundle.digest,
            status=VersionStatus.ACTIVE.value,
            files=files_json(bundle),
            proposed_by="bootstrap",
            note="policies the gateway was installed with",
            test_report="{}",
            previous_digest=None,
            created_at=self.clock.now(),
            activated_at=self.clock.now(),
            activated_by="bootstrap",
        )
        self.session.add(version)
        self.session.flush()
        self._record(AuditTag.POLICY_BUNDLE_LOAD, "bootstrap", bundle.digest)
        return version

    def propose(self, bundle: PolicyBundle, *, by: str, note: str) -> PolicyVersion:
        refuse_identifiers(note, "note")
        if self.session.get(PolicyVersion, bundle.digest) is not None:
            raise ConflictError("this exact bundle was proposed before", field="bundle")
        report = test_bundle(bundle)
        if not report.ok:
            raise InvalidRequestError(
                f"policy tests fail: {report.rego_failed} Rego test(s) and "
                f"{report.table_failed} decision-table case(s); fix them before proposing",
                field="bundle",
            )
        current = active_version(self.session)
        version = PolicyVersion(
            digest=bundle.digest,
            status=VersionStatus.PROPOSED.value,
            files=files_json(bundle),
            proposed_by=by,
            note=note,
            test_report=json.dumps(asdict(report)),
            previous_digest=current.digest if current else None,
            created_at=self.clock.now(),
        )
        self.session.add(version)
        self.session.flush()
        self._record(
            AuditTag.POLICY_BUNDLE_PROPOSE,
            by,
            bundle.digest,
            previous=version.previous_digest,
            note=note,
        )
        return version

    def approve(self, digest: str, *, by: str) -> int:
        """Approve as a privacy officer or the partnership DPO; returns approvals so far."""
        version = self._version(digest)
        if version.status != VersionStatus.PROPOSED.value:
            raise ConflictError(f"version is {version.status}, not proposed", field="digest")
        user = self.session.execute(
            select(ConsoleUser).where(ConsoleUser.username == by)
        ).scalar_one_or_none()
        if user is None or user.status != ConsoleUserStatus.ACTIVE.value:
            raise PermissionDeniedError("approver is not an active console user", field="by")
        if user.role not in APPROVER_ROLES:
            raise PermissionDeniedError(
                "only privacy officers and the partnership DPO approve policy changes",
                field="by",
            )
        if by == version.proposed_by:
            raise PermissionDeniedError("the proposer cannot approve (four eyes)", field="by")
        if self.session.get(PolicyApproval, (version.digest, by)) is not None:
            raise ConflictError("this approver approved already", field="by")
        self.session.add(
            PolicyApproval(
                digest=version.digest, approver=by, role=user.role, created_at=self.clock.now()
            )
        )
        self.session.flush()
        count = self._approvals(version.digest)
        self._record(AuditTag.POLICY_BUNDLE_APPROVE, by, version.digest, approvals=count)
        return count

    def _approvals(self, digest: str) -> int:
        return len(
            list(
                self.session.execute(
                    select(PolicyApproval.approver).where(PolicyApproval.digest == digest)
                )
            )
        )

    def activate(self, digest: str, *, by: str) -> PolicyVersion:
        version = self._version(digest)
        if version.status != VersionStatus.PROPOSED.value:
            raise ConflictError(f"version is {version.status}, not proposed", field="digest")
        approvals = self._approvals(version.digest)
        if approvals < APPROVALS_NEEDED:
            raise PermissionDeniedError(
                f"needs {APPROVALS_NEEDED} approvals by different privacy officers; "
                f"has {approvals}",
                field="digest",
            )
        current = active_version(self.session)
        if current is not None:
            current.status = VersionStatus.SUPERSEDED.value
        version.status = VersionStatus.ACTIVE.value
        version.activated_at = self.clock.now()
        version.activated_by = by
        self.session.flush()
        self._record(
            AuditTag.POLICY_BUNDLE_ACTIVATE,
            by,
            version.digest,
            previous=current.digest if current else None,
        )
        return version

    def history(self) -> list[PolicyVersion]:
        return list(
            self.session.execute(select(PolicyVersion).order_by(PolicyVersion.created_at)).scalars()
        )
