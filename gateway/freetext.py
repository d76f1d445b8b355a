"""One guard for every free-text field the gateway accepts: no identifier may ride in it.

Partners and staff write free text: a retraction's reason, a case reference, the help
desk's questions and answers, a policy version's note. The gateway never holds an
identifier in the clear, so text holding something that *canonicalises* as an IBAN, a phone
number or an e-mail address is refused, naming the field and the kind found, never the
value. Candidates are checked with the connectors' own canonicalisers (the rules of the
hashing specification), so only what a connector would accept as an identifier counts.

Identifiers are often written in groups (``NL91 ABNA 0417 1643 00``, ``06 1234 5678``), so
runs of up to nine words are tried. A phone number must be written as one: starting with
``+``, ``(`` or a ``0`` (national or ``00`` international prefix), never a bare case number.

Request schemas use :data:`FreeText` (a Pydantic 422 naming the field, e.g.
``items.3.reference``); other callers use :func:`refuse_identifiers`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from connectors.canonical import Kind, canonicalize
from connectors.errors import InvalidIdentifier
from gateway.errors import InvalidRequestError

KIND_LABELS = {
    Kind.IBAN: "an IBAN",
    Kind.PHONE: "a phone number",
    Kind.EMAIL: "an e-mail address",
}
ERROR_TYPE = "identifier_in_free_text"
MESSAGE = (
    "holds what looks like {label} (kind {kind}); free text must not carry identifiers, "
    "write it without the identifier"
)

_SEPARATORS = re.compile(r"[\s:;,=|<>\[\]{}\"']+")
_IBAN_START = re.compile(r"^[A-Za-z]{2}[0-9]{2}")
_PHONE_START = re.compile(r"^(?:\+|\(|0)[0-9(]")
_PHONE_CHUNK = re.compile(r"^[+(]?[0-9][0-9()./-]*$")
_EMAIL_LIKE = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+\.[A-Za-z]{2,}")
_WINDOW = 9  # an IBAN written in groups of four has at most nine groups
_MIN_PHONE_DIGITS = 9


def _canonicalises(kind: Kind, candidate: str) -> bool:
    try:
        canonicalize(kind, candidate)
    except InvalidIdentifier:
        return False
    return True


def _windows(chunks: list[str], start: int) -> Iterator[str]:
    for end in range(start + 1, min(len(chunks), start + _WINDOW) + 1):
        yield "".join(chunks[start:end])


def _is_iban_at(chunks: list[str], start: int) -> bool:
    return bool(_IBAN_START.match(chunks[start])) and any(
        _canonicalises(Kind.IBAN, candidate) for candidate in _windows(chunks, start)
    )


def _is_phone_at(chunks: list[str], start: int) -> bool:
    chunk = chunks[start]
    if not (_PHONE_START.match(chunk) and _PHONE_CHUNK.match(chunk)):
        return False
    return any(
        sum(ch.isdigit() for ch in candidate) >= _MIN_PHONE_DIGITS
        and _canonicalises(Kind.PHONE, candidate)
        for candidate in _windows(chunks, start)
    )


def find_identifier(text: str) -> Kind | None:
    """The kind of the first identifier found in ``text``, or None."""
    if any(_canonicalises(Kind.EMAIL, m.group(0)) for m in _EMAIL_LIKE.finditer(text)):
        return Kind.EMAIL
    chunks = [chunk.strip(".!?") for chunk in _SEPARATORS.split(text)]
    chunks = [chunk for chunk in chunks if chunk]
    for start in range(len(chunks)):
        if _is_iban_at(chunks, start):
            return Kind.IBAN
        if _is_phone_at(chunks, start):
            return Kind.PHONE
    return None


def identifier_problem(text: str) -> str | None:
    """Why ``text`` may not be accepted (the kind found, never the value), or None."""
    kind = find_identifier(text)
    if kind is None:
        return None
    return MESSAGE.format(label=KIND_LABELS[kind], kind=kind.value)


def refuse_identifiers(text: str, field: str) -> None:
    """Raise a 422 naming ``field`` and the kind when ``text`` holds an identifier."""
    problem = identifier_problem(text)
    if problem is not None:
        raise InvalidRequestError(problem, field=field)


def _checked(value: str) -> str:
    kind = find_identifier(value)
    if kind is not None:
        raise PydanticCustomError(
            ERROR_TYPE, MESSAGE, {"label": KIND_LABELS[kind], "kind": kind.value}
        )
    return value


FreeText = Annotated[str, AfterValidator(_checked)]
"""A ``str`` field that refuses identifiers: a 422 naming the field and the kind found."""
