"""Dutch and English for the console: one table, both languages side by side.

Each message is a pair (English, Dutch) under a stable key, so a missing translation is a
syntax error rather than a blank on a page; texts that come from the policies (labels,
reason texts) carry their own ``_en``/``_nl`` variants and are chosen with :func:`pick`.
The chosen language is remembered in a cookie; without one the browser's
``Accept-Language`` decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gateway.console.i18n_review import MONTHS_EN, MONTHS_NL, REVIEW_MESSAGES, TAG_MESSAGES

if TYPE_CHECKING:
    from gateway.console.period import Period

LANGUAGES = ("en", "nl")
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "__Host-ppsgate-lang"

MESSAGES: Mapping[str, tuple[str, str]] = {
    # chrome
    "app.title": ("ppsgate console", "ppsgate-console"),
    "app.skip": ("Skip to content", "Naar de inhoud"),
    "app.language": ("Language", "Taal"),
    "app.signed_in_as": (
        "Signed in as {user} ({role}, {partner})",
        "Aangemeld als {user} ({role}, {partner})",
    ),
    "app.sign_out": ("Sign out", "Afmelden"),
    "nav.label": ("Main navigation", "Hoofdnavigatie"),
    "nav.overview": ("Overview", "Overzicht"),
    "nav.policies": ("Policies", "Beleid"),
    "nav.audit": ("Audit trail", "Auditlogboek"),
    "nav.register": ("Register", "Register"),
    "nav.helpdesk": ("Help desk", "Vragenloket"),
    "role.admin": ("administrator", "beheerder"),
    "role.helpdesk": ("help desk", "vragenloket"),
    "role.partnership_dpo": ("partnership DPO", "FG samenwerkingsverband"),
    "role.privacy_officer": ("privacy officer", "FG van de partner"),
    # sign-in
    "signin.title": ("Sign in", "Aanmelden"),
    "signin.intro": (
        "Sign in with your console account and the six-digit code from your authenticator app.",
        "Meld u aan met uw console-account en de zescijferige code uit uw authenticator-app.",
    ),
    "signin.username": ("User name", "Gebruikersnaam"),
    "signin.password": ("Password", "Wachtwoord"),
    "signin.totp": ("Authenticator code", "Authenticatorcode"),
    "signin.submit": ("Sign in", "Aanmelden"),
    "signin.failed": (
        "Sign-in failed: {reason}. After repeated failures an account is locked for a while.",
        "Aanmelden mislukt: {reason}. Na herhaalde mislukte pogingen wordt een account een "
        "tijd geblokkeerd.",
    ),
    "signin.signed_out": ("You are signed out.", "U bent afgemeld."),
    # errors
    "error.title": ("Something went wrong", "Er ging iets mis"),
    "error.field": ("Field", "Veld"),
    "error.reasons": ("Reasons", "Redenen"),
    "error.legal_references": ("Rests on", "Berust op"),
    "error.back": ("Back to the overview", "Terug naar het overzicht"),
    "error.request_id": (
        "Request id (quote it to the operator)",
        "Verzoek-id (noem deze aan de beheerder)",
    ),
    # overview
    "overview.title": ("Overview", "Overzicht"),
    "overview.period": ("Last {days} days", "Afgelopen {days} dagen"),
    "overview.scope_own": ("Activity of {partner}", "Activiteit van {partner}"),
    "overview.scope_all": ("Activity of all partners", "Activiteit van alle partners"),
    "overview.no_activity_access": (
        "Your role does not read audit entries; activity is not shown.",
        "Uw rol leest geen logboekvermeldingen; activiteit wordt niet getoond.",
    ),
    "overview.requests": ("Requests", "Verzoeken"),
    "overview.requests_per_day": (
        "Requests per day, by decision",
        "Verzoeken per dag, naar besluit",
    ),
    "overview.by_partner": ("Requests by partner", "Verzoeken per partner"),
    "overview.by_purpose": ("Requests by purpose", "Verzoeken per doel"),
    "overview.match_rate": ("Match rate", "Treffer\u00adpercentage"),
    "overview.match_rate_help": (
        "identifiers asked that matched a report",
        "gevraagde identificatoren met een melding",
    ),
    "overview.denial_rate": ("Denial rate", "Weigerings\u00adpercentage"),
    "overview.denial_rate_help": (
        "requests refused by policy",
        "door het beleid geweigerde verzoeken",
    ),
    "overview.alerts": ("Alerts sent", "Verstuurde signalen"),
    "overview.alerts_help": (
        "watch-list alerts raised in the period",
        "signalen op volglijsten in de periode",
    ),
    "overview.integrity": ("Integrity of the audit log", "Integriteit van het auditlogboek"),
    "overview.sth": ("Latest signed tree head", "Laatste ondertekend controlepunt"),
    "overview.tree_size": ("Entries", "Vermeldingen"),
    "overview.root_hash": ("Root hash", "Wortelhash"),
    "overview.signed_at": ("Signed at", "Ondertekend op"),
    "overview.cosigners": ("Witness cosignatures", "Medeondertekeningen van getuigen"),
    "overview.none": ("none", "geen"),
    "overview.no_sth": (
        "No checkpoint has been signed yet.",
        "Er is nog geen controlepunt ondertekend.",
    ),
    "overview.last_verified": ("Last verified", "Laatst gecontroleerd"),
    "overview.verified_by": (
        "{time} by {user} ({partner}): tree of {size} entries, {result}",
        "{time} door {user} ({partner}): boom van {size} vermeldingen, {result}",
    ),
    "overview.never_verified": (
        "Not verified from the console yet.",
        "Nog niet vanuit de console gecontroleerd.",
    ),
    "overview.verify_now": ("Verify the log now", "Controleer het logboek nu"),
    "overview.verify_ok": ("verified", "geverifieerd"),
    "overview.verify_failed": ("FAILED", "MISLUKT"),
    "overview.attention": ("Needs attention", "Vraagt aandacht"),
    "overview.nothing": ("Nothing needs attention.", "Niets vraagt aandacht."),
    "overview.misses": (
        "{partner} asked {items} identifiers with {hits} hits (expected about "
        "{expected} at the partnership's rate): a possible sign of "
        "enumeration.",
        "{partner} vroeg {items} identificatoren met {hits} treffers (bij het "
        "gemiddelde van het samenwerkingsverband ongeveer {expected}): mogelijk "
        "een teken van enumeratie.",
    ),
    "overview.disputes": (
        "{count} dispute(s) waiting for the reporters, the oldest since {since}.",
        "{count} betwisting(en) wachten op de melders, de oudste sinds {since}.",
    ),
    "overview.requests_open": (
        "{partner}: {count} request(s) from other partners about a hit wait for an answer.",
        "{partner}: {count} verzoek(en) van andere partners over een treffer wachten op antwoord.",
    ),
    "overview.precision": (
        "Reports of {partner}: {false_positive} of {total} verdicts were false positives.",
        "Meldingen van {partner}: {false_positive} van {total} oordelen waren vals-positief.",
    ),
    "overview.partner_left": (
        "{partner} left the partnership on {since}: its clients are suspended and it receives "
        "no further salt epoch; {kept} of its indicators are kept by the partnership's "
        "decision.",
        "{partner} heeft het samenwerkingsverband verlaten op {since}: de koppelingen zijn "
        "geschorst en het ontvangt geen nieuw zouttijdvak meer; {kept} van zijn meldingen "
        "blijven bewaard op besluit van het samenwerkingsverband.",
    ),
    "overview.epoch_retiring": (
        "Salt epoch {epoch} is retiring: its overlap window ends on "
        "{until}; partners must have re-hashed with the new epoch.",
        "Zouttijdvak {epoch} loopt af: de overlapperiode eindigt op "
        "{until}; partners moeten met het nieuwe tijdvak opnieuw hashen.",
    ),
    "overview.enumeration": (
        "Possible enumeration by {partner} ({purpose}): {items} queries for {distinct} distinct "
        "tokens with {hits} hits in the window from {since}.",
        "Mogelijke enumeratie door {partner} ({purpose}): {items} vragen naar {distinct} "
        "verschillende tokens met {hits} treffers in het venster vanaf {since}.",
    ),
    "overview.chart_table": ("Show the numbers", "Toon de getallen"),
    "overview.day": ("Day", "Dag"),
    "decision.allow": ("allowed", "toegestaan"),
    "decision.deny": ("denied", "geweigerd"),
    "decision.none": ("no decision", "geen besluit"),
    # policies
    "policies.title": ("Policies", "Beleid"),
    "policies.digest": ("Active bundle digest", "Digest van de actieve bundel"),
    "policies.tab_purposes": ("Purposes", "Doelen"),
    "policies.tab_rego": ("Rego source", "Rego-bron"),
    "policies.tab_tests": ("Test results", "Testresultaten"),
    "policies.tab_history": ("Version history", "Versiegeschiedenis"),
    "policies.purpose": ("Purpose", "Doel"),
    "policies.actions": ("Actions", "Handelingen"),
    "policies.legal_basis": ("Legal basis per partner", "Grondslag per partner"),
    "policies.instruments": ("Instruments", "Instrumenten"),
    "policies.kinds": ("Identifier kinds", "Soorten identificatoren"),
    "policies.disclosure": ("Disclosure per sector", "Verstrekking per sector"),
    "policies.corroboration": ("Corroboration", "Bevestiging"),
    "policies.corroboration_value": (
        "at least {reports} reports from {reporters} partner(s)",
        "minstens {reports} meldingen van {reporters} partner(s)",
    ),
    "policies.retention": ("Retention", "Bewaartermijn"),
    "policies.days": ("{days} days", "{days} dagen"),
    "policies.art10": ("Criminal-offence data (Art. 10)", "Strafrechtelijke gegevens (art. 10)"),
    "policies.yes": ("yes", "ja"),
    "policies.no": ("no", "nee"),
    "policies.not_registered": (
        "No partner has registered this purpose.",
        "Geen partner heeft dit doel geregistreerd.",
    ),
    "policies.nothing_disclosed": ("nothing", "niets"),
    "policies.rego_file": ("File", "Bestand"),
    "policies.rules": ("Annotated rules", "Geannoteerde regels"),
    "policies.tests_rego": ("Rego unit tests", "Rego-unittests"),
    "policies.tests_table": ("Decision table", "Beslistabel"),
    "policies.tests_summary": (
        "{passed} passed, {failed} failed",
        "{passed} geslaagd, {failed} mislukt",
    ),
    "policies.test": ("Test", "Test"),
    "policies.outcome": ("Outcome", "Uitkomst"),
    "policies.versions": ("Versions", "Versies"),
    "policies.status": ("Status", "Status"),
    "policies.created": ("Created", "Aangemaakt"),
    "policies.by": ("By", "Door"),
    "policies.note": ("Note", "Toelichting"),
    "policies.compare": ("Compare two versions", "Vergelijk twee versies"),
    "policies.from": ("From", "Van"),
    "policies.to": ("To", "Naar"),
    "policies.show_diff": ("Show differences", "Toon verschillen"),
    "policies.file_changes": ("Changed files", "Gewijzigde bestanden"),
    "policies.no_file_changes": ("The files are identical.", "De bestanden zijn gelijk."),
    "policies.decision_changes": (
        "Decisions that change on the decision table",
        "Besluiten die op de beslistabel veranderen",
    ),
    "policies.no_decision_changes": (
        "No decision on the decision table changes.",
        "Geen besluit op de beslistabel verandert.",
    ),
    "policies.case": ("Case", "Geval"),
    "policies.before": ("Before", "Voor"),
    "policies.after": ("After", "Na"),
    # audit
    "audit.title": ("Audit trail", "Auditlogboek"),
    "audit.scope_own": (
        "You see the entries of {partner}.",
        "U ziet de vermeldingen van {partner}.",
    ),
    "audit.scope_all": (
        "You see the entries of all partners.",
        "U ziet de vermeldingen van alle partners.",
    ),
    "audit.filters": ("Filters", "Filters"),
    "audit.partner": ("Partner", "Partner"),
    "audit.action": ("Action", "Handeling"),
    "audit.purpose": ("Purpose", "Doel"),
    "audit.decision": ("Decision", "Besluit"),
    "audit.since": ("From (date)", "Vanaf (datum)"),
    "audit.until": ("Up to and including (date)", "Tot en met (datum)"),
    "audit.any": ("any", "alle"),
    "audit.apply": ("Apply filters", "Filters toepassen"),
    "audit.reset": ("Reset", "Wissen"),
    "audit.export_csv": ("Export CSV", "Exporteer CSV"),
    "audit.export_jsonl": ("Export JSONL (verifiable)", "Exporteer JSONL (verifieerbaar)"),
    "audit.report_pdf": (
        "Report for the regulator (PDF)",
        "Rapportage voor de toezichthouder (pdf)",
    ),
    "audit.entries": ("Entries, newest first", "Vermeldingen, nieuwste eerst"),
    "audit.leaf": ("No.", "Nr."),
    "audit.time": ("Time (UTC)", "Tijd (UTC)"),
    "audit.reasons": ("Reasons", "Redenen"),
    "audit.counts": ("Counts", "Aantallen"),
    "audit.no_entries": (
        "No entries match these filters.",
        "Geen vermeldingen voldoen aan deze filters.",
    ),
    "audit.older": ("Older entries", "Oudere vermeldingen"),
    "audit.newest": ("Newest entries", "Nieuwste vermeldingen"),
    "audit.entry": ("Entry {seq}", "Vermelding {seq}"),
    "audit.canonical": (
        "Canonical entry (what the log commits to)",
        "Canonieke vermelding (waaraan het logboek zich bindt)",
    ),
    "audit.decision_reasons": ("Decision reasons", "Redenen van het besluit"),
    "audit.no_reasons": (
        "This entry carries no reason codes.",
        "Deze vermelding heeft geen redenen.",
    ),
    "audit.policy_version": ("Policy version", "Beleidsversie"),
    "audit.proof": ("Inclusion proof", "Bewijs van opname"),
    "audit.proof_intro": (
        "Your browser recomputes the leaf hash and the root from the audit "
        "path with SHA-256 and checks the Ed25519 signature of the "
        "checkpoint, without trusting the gateway.",
        "Uw browser berekent de bladhash en de wortel opnieuw uit het "
        "auditpad met SHA-256 en controleert de Ed25519-handtekening van "
        "het controlepunt, zonder de gateway te vertrouwen.",
    ),
    "audit.proof_pending": ("Verifying in your browser...", "Controle in uw browser..."),
    "audit.proof_ok": (
        "Verified in your browser: entry {index} is in the signed tree of {size} "
        "entries and the checkpoint signature is valid.",
        "In uw browser gecontroleerd: vermelding {index} is opgenomen in de "
        "ondertekende boom van {size} vermeldingen en de handtekening van het "
        "controlepunt is geldig.",
    ),
    "audit.proof_bad": (
        "NOT verified in your browser: {problem}",
        "NIET geverifieerd in uw browser: {problem}",
    ),
    "audit.proof_nojs": (
        "JavaScript is off: the server's check is shown below.",
        "JavaScript staat uit: hieronder staat de controle door de server.",
    ),
    "audit.proof_server": (
        "Checked by the gateway: {result}",
        "Gecontroleerd door de gateway: {result}",
    ),
    "audit.server_ok": (
        "signature and inclusion verified",
        "handtekening en opname geverifieerd",
    ),
    "audit.server_failed": ("FAILED", "MISLUKT"),
    "audit.not_covered": (
        "No signed checkpoint covers this entry yet; retry after the next one.",
        "Nog geen ondertekend controlepunt dekt deze vermelding; probeer het na het "
        "volgende opnieuw.",
    ),
    "audit.checkpoint": ("Checkpoint", "Controlepunt"),
    "audit.audit_path": ("Audit path", "Auditpad"),
    "audit.back": ("Back to the audit trail", "Terug naar het auditlogboek"),
    "audit.report_title": ("Report for the regulator", "Rapportage voor de toezichthouder"),
    # register
    "register.title": (
        "Register of processing activities (GDPR Art. 30)",
        "Register van verwerkingsactiviteiten (AVG art. 30)",
    ),
    "register.generated": (
        "Generated from the live policy data, bundle {digest}.",
        "Gegenereerd uit de actuele beleidsgegevens, bundel {digest}.",
    ),
    "register.download_pdf": ("Download PDF", "Download PDF"),
    "register.download_csv": ("Download CSV", "Download CSV"),
    "register.controllers": ("Controllers", "Verwerkingsverantwoordelijken"),
    "register.controller": ("Controller", "Verwerkingsverantwoordelijke"),
    "register.sector": ("Sector", "Sector"),
    "register.status": ("Status", "Status"),
    "register.activities": ("Processing activities", "Verwerkingsactiviteiten"),
    "register.subjects": ("Data subjects", "Betrokkenen"),
    "register.data": ("Personal data", "Persoonsgegevens"),
    "register.recipients": ("Recipients by sector", "Ontvangers per sector"),
    "register.safeguards": ("Safeguards", "Waarborgen"),
    "register.art10_condition": ("Art. 10 condition", "Art. 10-voorwaarde"),
    "register.general": (
        "General technical and organisational measures",
        "Algemene technische en organisatorische maatregelen",
    ),
    # help desk
    "helpdesk.title": ("Help desk", "Vragenloket"),
    "helpdesk.simulator": ("Policy simulator", "Beleidssimulator"),
    "helpdesk.simulator_intro": (
        "Ask the live policies what they decide, without anything "
        "being exchanged. The link of a result is the exact question.",
        "Vraag het actuele beleid wat het besluit, zonder dat er iets "
        "wordt uitgewisseld. De link van een uitkomst is precies de "
        "vraag.",
    ),
    "helpdesk.subject": ("Who asks", "Wie vraagt"),
    "helpdesk.partner": ("Partner", "Partner"),
    "helpdesk.sector": ("or every partner of sector", "of elke partner uit sector"),
    "helpdesk.choose": ("choose", "kies"),
    "helpdesk.action": ("Action", "Handeling"),
    "helpdesk.purpose": ("Purpose", "Doel"),
    "helpdesk.legal_basis": ("Legal basis", "Grondslag"),
    "helpdesk.registered_basis": (
        "the partner's registered basis",
        "de geregistreerde grondslag van de partner",
    ),
    "helpdesk.kinds": ("Identifier kinds", "Soorten identificatoren"),
    "helpdesk.categories": ("Fraud categories", "Fraudecategorieën"),
    "helpdesk.disclosure": ("Wants to learn", "Wil weten"),
    "helpdesk.run": ("Run the simulation", "Simulatie uitvoeren"),
    "helpdesk.result": ("Result", "Uitkomst"),
    "helpdesk.allowed": ("Allowed", "Toegestaan"),
    "helpdesk.denied": ("Denied", "Geweigerd"),
    "helpdesk.mixed": ("Differs per partner", "Verschilt per partner"),
    "helpdesk.computed_on": (
        "Computed on policy version {digest} at {time}.",
        "Berekend op beleidsversie {digest} om {time}.",
    ),
    "helpdesk.share": ("Link to this exact question", "Link naar precies deze vraag"),
    "helpdesk.run_link": ("Permanent record of this run", "Vaste vastlegging van deze run"),
    "helpdesk.grants": ("May learn", "Mag weten"),
    "helpdesk.articles": ("Articles", "Artikelen"),
    "helpdesk.earlier": (
        "Earlier answers to this question",
        "Eerdere antwoorden op deze vraag",
    ),
    "helpdesk.save_case": ("Record as a case", "Vastleggen als zaak"),
    "helpdesk.cases": ("Case register", "Zakenregister"),
    "helpdesk.search": ("Search the cases", "Zoek in de zaken"),
    "helpdesk.search_button": ("Search", "Zoeken"),
    "helpdesk.all_statuses": ("all statuses", "alle statussen"),
    "helpdesk.no_cases": ("No cases found.", "Geen zaken gevonden."),
    "helpdesk.new_case": ("New case", "Nieuwe zaak"),
    "helpdesk.case": ("Case {ref}", "Zaak {ref}"),
    "helpdesk.case_title": ("Title", "Titel"),
    "helpdesk.question": ("Question", "Vraag"),
    "helpdesk.answer": ("Answer given", "Gegeven antwoord"),
    "helpdesk.asked_by": ("Asked by (partner)", "Gesteld door (partner)"),
    "helpdesk.status": ("Status", "Status"),
    "helpdesk.assignee": ("Assignee", "Behandelaar"),
    "helpdesk.nobody": ("nobody", "niemand"),
    "helpdesk.linked_runs": ("Linked simulator runs", "Gekoppelde simulaties"),
    "helpdesk.link_run": ("Link simulator run (number)", "Koppel simulatie (nummer)"),
    "helpdesk.policy_version": ("Policy version of the answer", "Beleidsversie van het antwoord"),
    "helpdesk.save": ("Save", "Opslaan"),
    "helpdesk.saved": ("Saved.", "Opgeslagen."),
    "helpdesk.updated": ("Updated", "Bijgewerkt"),
    "helpdesk.status.open": ("open", "open"),
    "helpdesk.status.answered": ("answered", "beantwoord"),
    "helpdesk.status.closed": ("closed", "gesloten"),
    "helpdesk.run_title": ("Simulator run {id}", "Simulatie {id}"),
    "helpdesk.rerun": (
        "Run again on the current policies",
        "Opnieuw uitvoeren op het actuele beleid",
    ),
}

MESSAGES = {**MESSAGES, **REVIEW_MESSAGES, **TAG_MESSAGES}


_ARTICLE = re.compile(r"\b(GDPR|UAVG) [Aa]rt\. (\d+)((?:\(\w+\))*)")
_PART = re.compile(r"\((\w+)\)")
# Citation words of the policy data's legal references, as a Dutch text writes them.
_CITATION_NL = (
    (re.compile(r"\bDirective\b"), "Richtlijn"),
    (re.compile(r"\bRegulation\b"), "Verordening"),
    (re.compile(r"(?<![\w-])and(?![\w-])"), "en"),
    (re.compile(r"\blegal claims\b"), "rechtsvorderingen"),
    (re.compile(r"\bcustomer due diligence\b"), "cliëntenonderzoek"),
    (re.compile(r"\breporting unusual transactions\b"), "melden van ongebruikelijke transacties"),
    (re.compile(r"\bGDPR\b"), "AVG"),
)


def dutch_article(reference: str) -> str:
    """``GDPR Art. 6(1)(f)`` as a Dutch text cites it: ``AVG art. 6 lid 1 sub f``."""

    def one(found: re.Match[str]) -> str:
        parts = _PART.findall(found[3])
        text = f"{'AVG' if found[1] == 'GDPR' else 'UAVG'} art. {found[2]}"
        if parts:
            text += f" lid {parts[0]}"
        if len(parts) > 1:
            text += " sub " + " ".join(parts[1:])
        return text

    converted = _ARTICLE.sub(one, reference)
    for pattern, dutch in _CITATION_NL:
        converted = pattern.sub(dutch, converted)
    return converted


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The language: the remembered choice, else the browser's first supported one."""
    if cookie in LANGUAGES:
        return str(cookie)
    for part in (accept_language or "").split(","):
        tag = part.split(";", 1)[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT_LANGUAGE


class Translator:
    """``t(key, **values)`` for one language; unknown keys show themselves (and a test fails)."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self._index = LANGUAGES.index(self.language)

    def __call__(self, key: str, **values: Any) -> str:
        pair = MESSAGES.get(key)
        if pair is None:
            return key
        text = pair[self._index]
        return text.format(**values) if values else text

    def article(self, reference: str) -> str:
        """A legal reference in this language (Dutch: ``AVG art. 6 lid 1``)."""
        return dutch_article(reference) if self.language == "nl" else reference

    def pick(self, item: Mapping[str, Any] | None, field: str, default: str = "") -> str:
        """A policy text in this language (``label_nl`` / ``label_en``), English as fallback."""
        if not item:
            return default
        value = item.get(f"{field}_{self.language}") or item.get(f"{field}_en")
        return str(value) if value else default


def period_label(t: Translator, period: Period) -> str:
    """A period as a person names it: "Q4 2026", "november 2026", "1 to 15 Nov 2026"."""
    first, last = period.first_day, period.last_day
    if period.kind == "quarter":
        return t("period.quarter", number=(first.month - 1) // 3 + 1, year=first.year)
    if period.kind == "month":
        months = MONTHS_NL if t.language == "nl" else MONTHS_EN
        return t("period.month", month=months[first.month - 1], year=first.year)
    if period.kind == "recent":
        return t("period.recent", days=period.days)
    return t("period.range", first=first.isoformat(), last=last.isoformat())
