"""The audit trail's HTTP API: the public log endpoints and the authenticated readers.

Kept apart from the audit trail's core (``gateway.audit_trail``), which records and proves
entries and imports nothing from authentication, the console, the policy or the areas; this
area sits above them all and below the app that mounts its router.
"""
