"""Messages of the period review, the activity split and the names of audited actions.

Kept apart from the main table in :mod:`gateway.console.i18n` (which merges them) so that
this group can grow without touching the rest; the same (English, Dutch) pair form, Dutch
in the terms of the project's glossary (``docs/glossary.md``).
"""

from __future__ import annotations

from collections.abc import Mapping

MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
MONTHS_NL = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)

REVIEW_MESSAGES: Mapping[str, tuple[str, str]] = {
    # period picker
    "period.label": ("Period", "Periode"),
    "period.choose": ("Choose the period", "Kies de periode"),
    "period.quarters": ("Quarters", "Kwartalen"),
    "period.months": ("Months", "Maanden"),
    "period.custom": ("Custom dates (below)", "Eigen data (hieronder)"),
    "period.show": ("Show", "Toon"),
    "period.quarter": ("Q{number} {year}", "{number}e kwartaal {year}"),
    "period.month": ("{month} {year}", "{month} {year}"),
    "period.recent": ("Last {days} days", "Afgelopen {days} dagen"),
    "period.range": ("{first} to {last}", "{first} t/m {last}"),
    # activity split
    "overview.requests_help": (
        "partners' data exchange requests (console use not counted)",
        "verzoeken van partners voor gegevensuitwisseling (consolegebruik telt niet mee)",
    ),
    "overview.oversight": ("Oversight activity", "Toezichts\u00adactiviteit"),
    "overview.oversight_help": (
        "console, CLI and administration entries, {denied} refused; not counted as requests",
        "vermeldingen van console, CLI en beheer, waarvan {denied} geweigerd; telt niet als "
        "verzoek",
    ),
    "activity.label": ("Activity", "Activiteit"),
    "activity.exchange": ("Data exchange", "Gegevensuitwisseling"),
    "activity.access": (
        "Partner access (tokens, key envelopes)",
        "Toegang van partners (tokens, sleutelenveloppen)",
    ),
    "activity.oversight": ("Oversight activity", "Toezichtsactiviteit"),
    # review
    "review.title": ("Review of {period}", "Overzicht van {period}"),
    "review.by_purpose": (
        "Data exchange by purpose and decision",
        "Gegevensuitwisseling per doel en besluit",
    ),
    "review.total": ("Total", "Totaal"),
    "review.count": ("Number", "Aantal"),
    "review.no_purpose": ("without purpose", "zonder doel"),
    "review.no_exchange": (
        "No data exchange in this period.",
        "Geen gegevensuitwisseling in deze periode.",
    ),
    "review.denials": ("Refusals by reason", "Weigeringen per reden"),
    "review.no_denials": ("No request was refused.", "Geen verzoek is geweigerd."),
    "review.events": ("Alerts, disputes and requests", "Signalen, betwistingen en verzoeken"),
    "review.event.disputes_filed": ("Disputes filed", "Ingediende betwistingen"),
    "review.event.disputes_resolved": ("Disputes resolved", "Afgehandelde betwistingen"),
    "review.event.retractions": ("Retractions", "Intrekkingen"),
    "review.event.subject_access": (
        "Subject access requests (GDPR Art. 15)",
        "Inzageverzoeken (AVG art. 15)",
    ),
    "review.versions": ("Policy versions in force", "Geldende beleidsversies"),
    "review.evidence": (
        "Live reports by evidence level (at the end of the period)",
        "Lopende meldingen per bewijsniveau (aan het eind van de periode)",
    ),
    "review.evidence_unstated": ("No level stated", "Geen bewijsniveau vermeld"),
    "audit.obligations": (
        "Obligations that came with this disclosure",
        "Verplichtingen bij deze verstrekking",
    ),
    "review.no_reports": ("No live reports.", "Geen lopende meldingen."),
    "review.activated": ("activated {time} by {user}", "geactiveerd op {time} door {user}"),
    "review.approved_by": ("approved by {users}", "goedgekeurd door {users}"),
    "review.until": ("in force until {time}", "van kracht tot {time}"),
    "review.still_active": ("still in force", "nog van kracht"),
    "review.no_versions": (
        "No policy version was in force in this period.",
        "In deze periode was geen beleidsversie van kracht.",
    ),
    # page furniture that had no translation
    "audit.exports": ("Exports", "Exports"),
    "audit.pages": ("Pages", "Pagina's"),
    "app.scroll_table": ("Table (scrolls sideways)", "Tabel (schuift zijwaarts)"),
    "policies.code": ("Code", "Code"),
    "policies.line": ("line {line}", "regel {line}"),
    "policies.digest_short": ("Digest", "Digest"),
    "policies.bootstrap_note": (
        "policies the gateway was installed with",
        "beleid waarmee de gateway is geïnstalleerd",
    ),
    # lookup by token or request id, related entries
    "lookup.title": ("Look up a token or request", "Token of verzoek opzoeken"),
    "lookup.intro": (
        "Every entry concerning one identifier's token or one request.",
        "Alle vermeldingen over het token van één identificator of over één verzoek.",
    ),
    "lookup.by_token": ("By token", "Op token"),
    "lookup.token_help": (
        "A partner's token (64 hexadecimal characters) of one salt epoch. The gateway peppers "
        "it at once, as it stores tokens; the token is not kept and the lookup is recorded as "
        "a subject access.",
        "Het token van een partner (64 hexadecimale tekens) uit één zouttijdvak. De gateway "
        "pepert het meteen, zoals hij tokens opslaat; het token wordt niet bewaard en de "
        "zoekvraag wordt vastgelegd als inzageverzoek.",
    ),
    "lookup.token": ("Token", "Token"),
    "lookup.epoch": ("Salt epoch of the token", "Zouttijdvak van het token"),
    "lookup.by_request": ("By request id", "Op verzoek-id"),
    "lookup.request_help": (
        "The request id a partner, the gateway's logs or an entry names.",
        "Het verzoek-id dat een partner, de logs van de gateway of een vermelding noemt.",
    ),
    "lookup.request_id": ("Request id", "Verzoek-id"),
    "lookup.search": ("Look up", "Opzoeken"),
    "lookup.found": ("Entries found: {count}", "Gevonden vermeldingen: {count}"),
    "lookup.nothing": (
        "No entry within your scope concerns it (details are kept only for their retention "
        "period).",
        "Geen vermelding binnen uw bereik gaat hierover (details worden alleen gedurende hun "
        "bewaartermijn bewaard).",
    ),
    "lookup.why": ("Found by", "Gevonden via"),
    "lookup.why.token": ("the same token", "hetzelfde token"),
    "lookup.why.request": ("the same request", "hetzelfde verzoek"),
    "lookup.why.both": ("request and token", "verzoek en token"),
    "lookup.related": ("Related entries", "Verwante vermeldingen"),
    "lookup.related_help": (
        "Entries of the same request, and entries naming one of this entry's tokens (the "
        "match, the signals and retraction notices it caused, disputes), within your scope.",
        "Vermeldingen van hetzelfde verzoek, en vermeldingen die een van de tokens van deze "
        "vermelding noemen (de treffer, de signalen en intrekkingsberichten die eruit "
        "volgden, betwistingen), binnen uw bereik.",
    ),
    "lookup.no_related": ("No related entries.", "Geen verwante vermeldingen."),
    # the live Art. 30 register
    "register.sign_off": ("Sign-off and review", "Vaststelling en herziening"),
    "register.in_force_since": ("Policy version in force since", "Beleidsversie van kracht sinds"),
    "register.activated_by": ("activated by {user}", "geactiveerd door {user}"),
    "register.approved_by": (
        "Signed off by (four-eyes approval)",
        "Vastgesteld door (goedkeuring door twee personen)",
    ),
    "register.no_approvals": (
        "no approvals: the version the gateway was installed with",
        "geen goedkeuringen: de versie waarmee de gateway is geïnstalleerd",
    ),
    "register.next_review": ("Next review due", "Volgende herziening uiterlijk"),
    "register.not_stored": (
        "The live policy version is not stored; no sign-off is recorded.",
        "De actuele beleidsversie is niet opgeslagen; er is geen vaststelling vastgelegd.",
    ),
    "register.contact": ("Contact of the controller", "Contact verwerkingsverantwoordelijke"),
    "register.dpo_contact": ("Contact of the DPO", "Contact FG"),
    "register.no_registrations": (
        "in the partner registry, no purpose registered in the policy",
        "in het partnerregister, geen doel geregistreerd in het beleid",
    ),
    "register.status.active": ("active", "actief"),
    "register.status.suspended": ("suspended", "geschorst"),
    "register.status.left": ("left the partnership", "uitgetreden"),
    # contents of long pages
    "contents.title": ("Contents", "Inhoud"),
    "contents.only": ("Show only", "Toon alleen"),
    "contents.all": ("all purposes", "alle doelen"),
    # help desk: earlier answers
    "helpdesk.given_under": (
        "answered under policy version {digest} on {time}",
        "beantwoord onder beleidsversie {digest} op {time}",
    ),
    "helpdesk.asked_as.partner": ("asked about {who}", "gevraagd over {who}"),
    "helpdesk.asked_as.sector": (
        "asked about every partner of sector {who}",
        "gevraagd over elke partner uit sector {who}",
    ),
    "helpdesk.today_same": (
        "Today's policy gives the same decision.",
        "Het huidige beleid geeft hetzelfde besluit.",
    ),
    "helpdesk.today_differs": (
        "Today's policy decides differently: check the answer before giving it again.",
        "Het huidige beleid besluit anders: controleer het antwoord voordat u het opnieuw geeft.",
    ),
    "helpdesk.history": ("History of the case", "Geschiedenis van de zaak"),
    "helpdesk.history_created": ("created by {user}", "aangemaakt door {user}"),
    "helpdesk.history_updated": ("changed by {user}", "gewijzigd door {user}"),
    "helpdesk.history_runs": ("{runs} simulation(s) linked", "{runs} simulatie(s) gekoppeld"),
    "helpdesk.history_entry": ("audit log entry {seq}", "logboekvermelding {seq}"),
    # help desk: inline problems of the case form
    "helpdesk.error.not_saved": (
        "Not saved, the typed text is kept:",
        "Niet opgeslagen, de tekst blijft staan:",
    ),
    "helpdesk.error.empty": ("must not be empty", "mag niet leeg zijn"),
    "helpdesk.error.too_long": ("longer than {limit} characters", "langer dan {limit} tekens"),
    "helpdesk.error.status": (
        "must be open, answered or closed",
        "moet open, beantwoord of gesloten zijn",
    ),
    "helpdesk.error.answer_needed": (
        "give the answer before marking the case answered or closed",
        "geef eerst het antwoord voordat de zaak beantwoord of gesloten wordt",
    ),
    "helpdesk.error.identifier": (
        "contains an identifier ({kind}); the register must not hold identifiers, describe "
        "the case without it",
        "bevat een identificator ({kind}); het register mag geen identificatoren bevatten, "
        "beschrijf de zaak zonder",
    ),
    "helpdesk.field.title": ("Title", "Titel"),
    "helpdesk.field.question": ("Question", "Vraag"),
    "helpdesk.field.answer": ("Answer given", "Gegeven antwoord"),
    "helpdesk.field.status": ("Status", "Status"),
    # names of the policy's codes
    "policies.obligations": ("Obligations", "Verplichtingen"),
    "disclosure.hit": ("hit or no hit", "treffer of geen treffer"),
    "disclosure.count": ("number of reports", "aantal meldingen"),
    "disclosure.category": ("fraud category", "fraudecategorie"),
    "disclosure.role": ("role (victim, money mule)", "rol (slachtoffer, geldezel)"),
    "disclosure.dates": ("first and last seen", "eerste en laatste waarneming"),
    "disclosure.sectors": ("reporting sectors", "sectoren van de melders"),
    "disclosure.reporter": ("reporting partner", "meldende partner"),
    "kind.iban": ("IBAN", "IBAN"),
    "kind.phone": ("phone number", "telefoonnummer"),
    "kind.email": ("e-mail address", "e-mailadres"),
    "kind.domain": ("web domain", "webdomein"),
    "kind.url": ("web address (URL)", "webadres (URL)"),
    "kind.crypto_address": ("crypto address", "cryptoadres"),
    "kind.social_account": ("social-media account", "socialemedia-account"),
    "action.alerts:read": ("read alerts", "signalen lezen"),
    "action.audit:read": ("read the audit log", "auditlogboek lezen"),
    "action.dispute:file": ("file a dispute", "betwisting indienen"),
    "action.feedback:submit": ("report an outcome", "uitkomst terugmelden"),
    "action.indicators:retract": ("retract reports", "meldingen intrekken"),
    "action.indicators:submit": ("submit reports", "meldingen indienen"),
    "action.keys:fetch": ("fetch key envelopes", "sleutelenveloppen ophalen"),
    "action.match:query": ("ask for matches", "vragen naar treffers"),
    "action.policy:simulate": ("simulate the policy", "beleid simuleren"),
    "action.requests:answer": (
        "answer a request about a hit",
        "verzoek over een treffer beantwoorden",
    ),
    "action.requests:send": ("send a request about a hit", "verzoek over een treffer sturen"),
    "action.watchlist:write": ("keep a watch list", "volglijst bijhouden"),
    # the regulator's report (PDF)
    "report.title": (
        "Report on data exchange through ppsgate - {period}",
        "Kwartaalrapportage gegevensuitwisseling via ppsgate - {period}",
    ),
    "report.footer": ("ppsgate report, generated {time}", "ppsgate-rapportage, gemaakt {time}"),
    "report.page": ("page", "pagina"),
    "report.period": ("Period", "Periode"),
    "report.partner": ("Partner", "Partner"),
    "report.all_partners": ("all partners", "alle partners"),
    "report.generated": ("Generated", "Gemaakt"),
    "report.generated_by": ("{time} by {user}", "{time} door {user}"),
    "report.exchange_entries": ("Data exchange entries", "Vermeldingen gegevensuitwisseling"),
    "report.oversight_entries": ("Oversight entries", "Vermeldingen toezichtsactiviteit"),
    "report.leaf_range": ("Leaf indexes counted", "Getelde volgnummers in het logboek"),
    "report.oversight": (
        "Oversight activity (not counted above)",
        "Toezichtsactiviteit (hierboven niet meegeteld)",
    ),
    "report.oversight_intro": (
        "Console pages, CLI and administration of the period, including refused attempts. "
        "They are in the audit log but are not data exchange.",
        "Consolepagina's, CLI en beheer in de periode, ook geweigerde pogingen. Ze staan in "
        "het auditlogboek maar zijn geen gegevensuitwisseling.",
    ),
    "report.activated": ("Activated (by)", "Geactiveerd (door)"),
    "report.approved": ("Approved by", "Goedgekeurd door"),
    "report.until": ("In force until", "Van kracht tot"),
    "report.integrity": ("Integrity statement", "Verklaring over de integriteit"),
    "report.no_checkpoint": (
        "The audit log has no signed checkpoint yet, so no entry counted here can be proved "
        "to be in it.",
        "Het auditlogboek heeft nog geen ondertekend controlepunt; geen van de getelde "
        "vermeldingen kan daarom als opgenomen worden bewezen.",
    ),
    "report.integrity_text": (
        "The audit log is an append-only Merkle tree (RFC 6962). For this report the gateway "
        "signed a checkpoint of {size} entries with root hash {root} at {signed_at}, and "
        "counted only entries with a leaf index below {size}: every entry counted in this "
        "report can be proved to be in that tree with an inclusion proof. Entries written "
        "later, such as the download of this report, are not counted. The checkpoint's "
        "Ed25519 signature was checked with the log key below: {verdict}. Witness "
        "cosignatures: {cosigners}.",
        "Het auditlogboek is een Merkle-boom waaraan alleen kan worden toegevoegd (RFC 6962). "
        "Voor deze rapportage ondertekende de gateway op {signed_at} een controlepunt van "
        "{size} vermeldingen met wortelhash {root}, en telde alleen vermeldingen met een "
        "volgnummer onder {size}: van elke getelde vermelding kan met een bewijs van opname "
        "worden aangetoond dat ze in die boom staat. Later geschreven vermeldingen, zoals de "
        "download van deze rapportage, zijn niet meegeteld. De Ed25519-handtekening van het "
        "controlepunt is gecontroleerd met de logsleutel hieronder: {verdict}. "
        "Medeondertekeningen van getuigen: {cosigners}.",
    ),
    "report.signature_ok": ("valid", "geldig"),
    "report.signature_bad": ("NOT VALID", "NIET GELDIG"),
    "report.attachments": (
        "Attached to this PDF: the signed checkpoint ({checkpoint}) and the log's verifier "
        "key ({keyfile}), so that the signature can be checked offline, for example with "
        "`ppsgate audit verify` on an export of the entries.",
        "Bijgevoegd bij deze pdf: het ondertekende controlepunt ({checkpoint}) en de "
        "verificatiesleutel van het logboek ({keyfile}), zodat de handtekening offline kan "
        "worden gecontroleerd, bijvoorbeeld met `ppsgate audit verify` op een export van de "
        "vermeldingen.",
    ),
    "report.attachment_checkpoint": (
        "Signed checkpoint (C2SP tlog-checkpoint)",
        "Ondertekend controlepunt (C2SP tlog-checkpoint)",
    ),
    "report.verifier_key": ("Log verifier key", "Verificatiesleutel van het logboek"),
}

# The browser's proof check reports its problems in English (console.js); the entry page
# hands it these texts in the reader's language, by the English message (or its prefix).
PROOF_PROBLEMS: Mapping[str, tuple[str, str]] = {
    "leaf index outside the tree": ("leaf index outside the tree", "volgnummer buiten de boom"),
    "audit path too long": ("audit path too long", "auditpad te lang"),
    "audit path too short": ("audit path too short", "auditpad te kort"),
    "checkpoint has no signature block": (
        "checkpoint has no signature block",
        "controlepunt heeft geen handtekening",
    ),
    "malformed signature line": ("malformed signature line", "onleesbare handtekeningregel"),
    "malformed verifier key": ("malformed verifier key", "onleesbare verificatiesleutel"),
    "verifier key is not Ed25519": (
        "verifier key is not Ed25519",
        "verificatiesleutel is geen Ed25519-sleutel",
    ),
    "checkpoint is not signed by the log key": (
        "checkpoint is not signed by the log key",
        "controlepunt is niet met de logsleutel ondertekend",
    ),
    "checkpoint signature is invalid": (
        "checkpoint signature is invalid",
        "handtekening van het controlepunt is ongeldig",
    ),
    "WebCrypto is not available": (
        "WebCrypto is not available",
        "WebCrypto is niet beschikbaar in deze browser",
    ),
    "the checkpoint is for another tree size": (
        "the checkpoint is for another tree size",
        "het controlepunt hoort bij een andere boomgrootte",
    ),
    "the audit path leads to another root": (
        "the audit path leads to another root",
        "het auditpad leidt naar een andere wortel",
    ),
}

TAG_MESSAGES: Mapping[str, tuple[str, str]] = {
    "tag.abuse:enumeration:detect": ("Enumeration detected", "Enumeratie gedetecteerd"),
    "tag.alert:cursor:ack": ("Alerts acknowledged", "Signalen bevestigd"),
    "tag.alert:delivery:send": ("Alert sent", "Signaal verstuurd"),
    "tag.alert:webhook:set": ("Alert webhook set", "Webhook voor signalen ingesteld"),
    "tag.alert:webhook:deliver": (
        "Alerts pushed to a webhook",
        "Signalen naar een webhook gestuurd",
    ),
    "tag.audit:entries:read": ("Audit entries read (API)", "Logboekvermeldingen gelezen (API)"),
    "tag.audit:receipt:download": (
        "Audit receipt downloaded",
        "Ontvangstbewijs van het logboek gedownload",
    ),
    "tag.partner:indicators:expire": (
        "Indicators of a leaving partner expired",
        "Meldingen van een vertrekkende partner laten verlopen",
    ),
    "tag.partner:indicators:keep": (
        "Indicators of a leaving partner kept",
        "Meldingen van een vertrekkende partner behouden",
    ),
    "tag.partner:notice:export": (
        "Membership notice written",
        "Melding van toe- of uittreding opgesteld",
    ),
    "tag.partner:offboard": (
        "Partner left the partnership",
        "Partner uit het samenwerkingsverband getreden",
    ),
    "tag.request:partner:answer": (
        "Request about a hit answered",
        "Verzoek over een treffer beantwoord",
    ),
    "tag.request:partner:send": ("Request about a hit sent", "Verzoek over een treffer gestuurd"),
    "tag.audit:access:deny": ("Audit access refused", "Toegang tot logboek geweigerd"),
    "tag.audit:entries:view": ("Audit entries viewed", "Logboekvermeldingen bekeken"),
    "tag.audit:export:download": ("Audit export downloaded", "Logboekexport gedownload"),
    "tag.audit:integrity:verify": (
        "Log integrity verified",
        "Integriteit van logboek gecontroleerd",
    ),
    "tag.audit:report:download": ("Report downloaded", "Rapportage gedownload"),
    "tag.audit:sequence:void": ("Sequence number voided", "Volgnummer vervallen"),
    "tag.audit:subject:access": ("Subject access request", "Inzageverzoek"),
    "tag.auth:access:deny": ("API access refused", "API-toegang geweigerd"),
    "tag.auth:token:deny": ("Access token refused", "Toegangstoken geweigerd"),
    "tag.auth:token:issue": ("Access token issued", "Toegangstoken uitgegeven"),
    "tag.console:overview:view": ("Overview viewed", "Overzicht bekeken"),
    "tag.console:signin:deny": ("Console sign-in refused", "Aanmelden op console geweigerd"),
    "tag.console:signin:success": ("Console sign-in", "Aangemeld op console"),
    "tag.console:user:add": ("Console user added", "Consolegebruiker toegevoegd"),
    "tag.console:user:disable": ("Console user disabled", "Consolegebruiker uitgeschakeld"),
    "tag.dispute:case:file": ("Dispute filed", "Betwisting ingediend"),
    "tag.dispute:case:resolve": ("Dispute resolved", "Betwisting afgehandeld"),
    "tag.feedback:outcome:submit": ("Outcome reported", "Uitkomst teruggemeld"),
    "tag.helpdesk:case:create": ("Help desk case created", "Zaak vragenloket aangemaakt"),
    "tag.helpdesk:case:update": ("Help desk case updated", "Zaak vragenloket bijgewerkt"),
    "tag.indicator:batch:deny": ("Reports refused", "Meldingen geweigerd"),
    "tag.indicator:batch:submit": ("Reports submitted", "Meldingen ingediend"),
    "tag.indicator:retract": ("Report retracted", "Melding ingetrokken"),
    "tag.key:custodian:register": ("Key custodian registered", "Sleutelbeheerder geregistreerd"),
    "tag.key:custodian:revoke": ("Key custodian revoked", "Sleutelbeheerder ingetrokken"),
    "tag.key:envelope:deny": ("Key envelope refused", "Sleutelenvelop geweigerd"),
    "tag.key:envelope:fetch": ("Key envelopes fetched", "Sleutelenveloppen opgehaald"),
    "tag.key:envelope:issue": ("Key envelopes issued", "Sleutelenveloppen uitgegeven"),
    "tag.key:epoch:activate": ("Salt epoch activated", "Zouttijdvak geactiveerd"),
    "tag.key:epoch:create": ("Salt epoch created", "Zouttijdvak aangemaakt"),
    "tag.key:epoch:deny": ("Salt epoch change refused", "Wijziging zouttijdvak geweigerd"),
    "tag.key:epoch:retire": ("Salt epoch retired", "Zouttijdvak afgebouwd"),
    "tag.key:pepper:add": ("Pepper key added", "Pepersleutel toegevoegd"),
    "tag.key:pepper:prune": ("Pepper key removed", "Pepersleutel verwijderd"),
    "tag.match:query:allow": ("Match query", "Vraag naar treffers"),
    "tag.match:query:deny": ("Match query refused", "Vraag naar treffers geweigerd"),
    "tag.partner:client:add": ("Partner client added", "Client van partner toegevoegd"),
    "tag.partner:client:reinstate": (
        "Partner client reinstated",
        "Client van partner hersteld",
    ),
    "tag.partner:client:rotate": ("Partner client key rotated", "Clientsleutel vervangen"),
    "tag.partner:client:suspend": ("Partner client suspended", "Client van partner geschorst"),
    "tag.partner:onboard": ("Partner onboarded", "Partner toegelaten"),
    "tag.partner:reinstate": ("Partner reinstated", "Partner hersteld"),
    "tag.partner:suspend": ("Partner suspended", "Partner geschorst"),
    "tag.policy:bundle:activate": ("Policy version activated", "Beleidsversie geactiveerd"),
    "tag.policy:bundle:approve": ("Policy version approved", "Beleidsversie goedgekeurd"),
    "tag.policy:bundle:load": ("Policy version loaded", "Beleidsversie geladen"),
    "tag.policy:bundle:propose": ("Policy version proposed", "Beleidsversie voorgesteld"),
    "tag.policy:simulation:deny": ("Simulation refused", "Simulatie geweigerd"),
    "tag.policy:simulation:run": ("Policy simulation", "Beleidssimulatie"),
    "tag.register:export:download": (
        "Register downloaded",
        "Verwerkingsregister gedownload",
    ),
    "tag.retention:purge:run": ("Retention purge", "Opschoning na bewaartermijn"),
    "tag.watchlist:entries:remove": ("Watch list entries removed", "Van volglijst verwijderd"),
    "tag.watchlist:entries:write": ("Watch list entries written", "Op volglijst gezet"),
}
