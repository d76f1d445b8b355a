"""Rego policies and data documents, shipped as package data."""
