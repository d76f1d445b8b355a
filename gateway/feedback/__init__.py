"""Outcome feedback after acting on a hit, and per-reporter precision derived from it."""
