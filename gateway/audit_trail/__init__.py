"""The gateway's audit trail: entries in the action's transaction, checkpoints, proofs."""
