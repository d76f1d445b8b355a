"""Authentication and authorisation inputs: OAuth 2 token endpoint, access-token checks,
console accounts, and the scope/role/permission vocabulary.

Connectors authenticate with ``private_key_jwt`` (RFC 7523) at ``POST /oauth/token`` and
call the API with 5-minute RFC 9068 access tokens; console users sign in with an Argon2id
password and a TOTP code. See ``docs/security.md``.
"""
