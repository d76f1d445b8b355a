"""Indicators: peppered tokens reported by partners, with category, role and retention."""
