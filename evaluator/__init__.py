"""ppsgate evaluator: one RFC 9497 VOPRF key server of hashing specification v2.

Each evaluator is operated by its own party, keeps its own seed file and database, trusts
the gateway's access tokens for client authentication, enforces per-partner quotas and logs
volumes — never inputs, which it cannot see (they arrive blinded). docs/oprf.md.
"""
