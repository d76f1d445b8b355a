"""Partner registry: identity, status and connector clients with their public keys."""
