"""Alerts: at-least-once, ordered notices to watchers and to partners told about a token."""
