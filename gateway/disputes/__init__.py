"""Disputes filed for data subjects: a contested indicator shows only a flagged hit."""
