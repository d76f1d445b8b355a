"""Exports of the connector's results into the formats fraud teams already work in.

Pure functions over the connector's own result records (match results and alerts, one dict
per JSONL line): a STIX 2.1 bundle for OpenCTI and other TIPs, a MISP feed directory, and
CSV/XLSX sheets for analysts. They run on the partner's side only, write nothing but the
files they are given, log nothing and contact no one; the raw identifiers they carry never
leave the partner's machine through them. See ``docs/interop.md``.
"""

from connectors.interop.errors import ExportError
from connectors.interop.mapping import InteropMapping, load_mapping, mapping_table
from connectors.interop.misp import MispSummary, write_misp_feed
from connectors.interop.records import Source
from connectors.interop.stix import StixSummary, build_stix_bundle, write_stix_bundle
from connectors.interop.tabular import TabularSummary, write_csv, write_xlsx
from connectors.interop.tlp import DEFAULT_TLP, Tlp, parse_tlp

__all__ = [
    "DEFAULT_TLP",
    "ExportError",
    "InteropMapping",
    "MispSummary",
    "Source",
    "StixSummary",
    "TabularSummary",
    "Tlp",
    "build_stix_bundle",
    "load_mapping",
    "mapping_table",
    "parse_tlp",
    "write_csv",
    "write_misp_feed",
    "write_stix_bundle",
    "write_xlsx",
]
