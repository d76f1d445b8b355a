"""What an audit entry says: typed tags and the event recorded for every request.

The tag enum is the vocabulary of the audit log (``area:subject:action``, alphabetised) so
that searches, exports and the console agree on names. An event never holds an identifier or
a token; the purgeable ``detail`` (e.g. peppered tokens asked) is stored apart from the
Merkle leaf and committed to by its digest.
"""

from __future__ import annotations

import getpass
import re
import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy.orm import Session


class AuditTag(StrEnum):
    """Every kind of audited act."""

    ABUSE_ENUMERATION_DETECT = "abuse:enumeration:detect"
    ALERT_CURSOR_ACK = "alert:cursor:ack"
    ALERT_DELIVERY_SEND = "alert:delivery:send"
    ALERT_WEBHOOK_DELIVER = "alert:webhook:deliver"
    ALERT_WEBHOOK_SET = "alert:webhook:set"
    AUDIT_ACCESS_DENY = "audit:access:deny"
    AUDIT_ENTRIES_READ = "audit:entries:read"
    AUDIT_ENTRIES_VIEW = "audit:entries:view"
    AUDIT_EXPORT_DOWNLOAD = "audit:export:download"
    AUDIT_INTEGRITY_VERIFY = "audit:integrity:verify"
    AUDIT_RECEIPT_DOWNLOAD = "audit:receipt:download"
    AUDIT_REPORT_DOWNLOAD = "audit:report:download"
    AUDIT_SEQUENCE_VOID = "audit:sequence:void"
    AUDIT_SUBJECT_ACCESS = "audit:subject:access"
    AUTH_ACCESS_DENY = "auth:access:deny"
    AUTH_TOKEN_DENY = "auth:token:deny"  # noqa: S105 (an audit tag, not a secret)
    AUTH_TOKEN_ISSUE = "auth:token:issue"  # noqa: S105 (an audit tag, not a secret)
    CONSOLE_OVERVIEW_VIEW = "console:overview:view"
    CONSOLE_SIGNIN_DENY = "console:signin:deny"
    CONSOLE_SIGNIN_SUCCESS = "console:signin:success"
    CONSOLE_USER_ADD = "console:user:add"
    CONSOLE_USER_DISABLE = "console:user:disable"
    DISPUTE_CASE_FILE = "dispute:case:file"
    DISPUTE_CASE_RESOLVE = "dispute:case:resolve"
    FEEDBACK_OUTCOME_SUBMIT = "feedback:outcome:submit"
    HELPDESK_CASE_CREATE = "helpdesk:case:create"
    HELPDESK_CASE_UPDATE = "helpdesk:case:update"
    INDICATOR_BATCH_DENY = "indicator:batch:deny"
    INDICATOR_BATCH_SUBMIT = "indicator:batch:submit"
    INDICATOR_RETRACT = "indicator:retract"
    KEY_CUSTODIAN_REGISTER = "key:custodian:register"
    KEY_CUSTODIAN_REVOKE = "key:custodian:revoke"
    KEY_ENVELOPE_DENY = "key:envelope:deny"
    KEY_ENVELOPE_FETCH = "key:envelope:fetch"
    KEY_ENVELOPE_ISSUE = "key:envelope:issue"
    KEY_EPOCH_ACTIVATE = "key:epoch:activate"
    KEY_EPOCH_CREATE = "key:epoch:create"
    KEY_EPOCH_DENY = "key:epoch:deny"
    KEY_EPOCH_RETIRE = "key:epoch:retire"
    KEY_PEPPER_ADD = "key:pepper:add"
    KEY_PEPPER_PRUNE = "key:pepper:prune"
    MATCH_QUERY_ALLOW = "match:query:allow"
    MATCH_QUERY_DENY = "match:query:deny"
    PARTNER_CLIENT_ADD = "partner:client:add"
    PARTNER_CLIENT_REINSTATE = "partner:client:reinstate"
    PARTNER_CLIENT_ROTATE = "partner:client:rotate"
    PARTNER_CLIENT_SUSPEND = "partner:client:suspend"
    PARTNER_INDICATORS_EXPIRE = "partner:indicators:expire"
    PARTNER_INDICATORS_KEEP = "partner:indicators:keep"
    PARTNER_NOTICE_EXPORT = "partner:notice:export"
    PARTNER_OFFBOARD = "partner:offboard"
    PARTNER_ONBOARD = "partner:onboard"
    PARTNER_REINSTATE = "partner:reinstate"
    PARTNER_SUSPEND = "partner:suspend"
    POLICY_BUNDLE_ACTIVATE = "policy:bundle:activate"
    POLICY_BUNDLE_APPROVE = "policy:bundle:approve"
    POLICY_BUNDLE_LOAD = "policy:bundle:load"
    POLICY_BUNDLE_PROPOSE = "policy:bundle:propose"
    POLICY_SIMULATION_DENY = "policy:simulation:deny"
    POLICY_SIMULATION_RUN = "policy:simulation:run"
    REGISTER_EXPORT_DOWNLOAD = "register:export:download"
    REQUEST_PARTNER_ANSWER = "request:partner:answer"
    REQUEST_PARTNER_SEND = "request:partner:send"
    RETENTION_PURGE_RUN = "retention:purge:run"
    WATCHLIST_ENTRIES_REMOVE = "watchlist:entries:remove"
    WATCHLIST_ENTRIES_WRITE = "watchlist:entries:write"


class Activity(StrEnum):
    """What an entry is part of: the partners' data exchange, their access, or oversight.

    Statistics (console overview, audit report) count data exchange only. A partner's
    connector authenticating and fetching its key envelopes is access, and console pages,
    CLI and administration (including a privacy officer's own refused clicks) are oversight;
    both are shown apart and stay in the audit log like everything else.
    """

    EXCHANGE = "exchange"
    ACCESS = "access"
    OVERSIGHT = "oversight"


# Partners' API requests about indicators: asking, reporting, watching, being alerted,
# disputing, feedback.
EXCHANGE_TAGS: frozenset[AuditTag] = frozenset(
    {
        AuditTag.ALERT_CURSOR_ACK,
        AuditTag.ALERT_DELIVERY_SEND,
        AuditTag.ALERT_WEBHOOK_SET,
        AuditTag.DISPUTE_CASE_FILE,
        AuditTag.DISPUTE_CASE_RESOLVE,
        AuditTag.FEEDBACK_OUTCOME_SUBMIT,
        AuditTag.INDICATOR_BATCH_DENY,
        AuditTag.INDICATOR_BATCH_SUBMIT,
        AuditTag.INDICATOR_RETRACT,
        AuditTag.MATCH_QUERY_ALLOW,
        AuditTag.MATCH_QUERY_DENY,
        AuditTag.WATCHLIST_ENTRIES_REMOVE,
        AuditTag.WATCHLIST_ENTRIES_WRITE,
    }
)
# Partners' connectors getting in: access tokens and key envelopes. Every other tag is
# oversight (console, CLI, administration, the gateway's own checks).
ACCESS_TAGS: frozenset[AuditTag] = frozenset(
    {
        AuditTag.AUTH_ACCESS_DENY,
        AuditTag.AUTH_TOKEN_DENY,
        AuditTag.AUTH_TOKEN_ISSUE,
        AuditTag.KEY_ENVELOPE_DENY,
        AuditTag.KEY_ENVELOPE_FETCH,
    }
)


def activity_of(tag: AuditTag | str) -> Activity:
    """Whether an entry with ``tag`` is data exchange, partner access or oversight."""
    if tag in EXCHANGE_TAGS:
        return Activity.EXCHANGE
    return Activity.ACCESS if tag in ACCESS_TAGS else Activity.OVERSIGHT


def tags_of(activity: Activity) -> tuple[str, ...]:
    """The tag values of one activity, sorted (for ``tag IN (...)`` in queries)."""
    return tuple(sorted(tag.value for tag in AuditTag if activity_of(tag) is activity))


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One audited act, as the service that performed it describes it."""

    tag: AuditTag
    request_id: str
    actor_partner: str | None = None
    actor_client: str | None = None
    actor_user: str | None = None
    purpose: str | None = None
    legal_basis: str | None = None
    decision: str | None = None  # "allow" | "deny" | None for acts without a policy decision
    reason_codes: tuple[str, ...] = ()
    policy_digest: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    # Purgeable detail (never identifiers; tokens only peppered, as hex). Committed by digest.
    detail: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, as every audit entry names them: a partner's connector client, a console
    user, or an operator at the command line; with the request the act belongs to."""

    request_id: str
    partner_id: str | None = None
    client_id: str | None = None
    user: str | None = None

    @classmethod
    def command_line(cls) -> Actor:
        """The operator running ``ppsgate`` (their login name, sanitised) and a fresh id."""
        user = re.sub(r"[^A-Za-z0-9_.-]", "_", getpass.getuser())[:60] or "unknown"
        return cls(request_id=f"cli-{secrets.token_hex(8)}", user=f"cli:{user}")

    def event(self, tag: AuditTag, **fields: Any) -> AuditEvent:
        """The audit event of an act by this actor (``fields`` as :class:`AuditEvent`'s)."""
        return AuditEvent(
            tag=tag,
            request_id=self.request_id,
            actor_partner=self.partner_id,
            actor_client=self.client_id,
            actor_user=self.user,
            **fields,
        )


class AuditSink(Protocol):
    """What a service needs of the audit trail: append an event in the caller's transaction.

    The gateway's :class:`~gateway.audit_trail.service.AuditTrail` is the one implementation;
    services that only record depend on this protocol, not on the trail's storage.
    """

    def record(self, session: Session, event: AuditEvent) -> object:
        """Append ``event`` within ``session``'s transaction (flush only, never commit)."""
        ...
