"""Tracked requests between partners about a hit (halt, recall, confirm, share details)."""
