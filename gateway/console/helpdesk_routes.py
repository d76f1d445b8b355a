"""Help desk pages: the simulator (a question is a link), runs, and the case register.

Running the simulator is a help-desk answer, so it needs the policy's allow for
``policy:simulate`` and is recorded twice: as a run in the register (the exact question,
the decisions and the policy digest) and as an audit entry. Cases are created and changed
with a CSRF-checked form and audited too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from gateway.audit_trail.events import AuditEvent, AuditTag
from gateway.auth.models import ConsoleUser
from gateway.auth.permissions import Permission, Role
from gateway.auth.principal import Principal
from gateway.console.access import Grant, require_any, simulate_access
from gateway.console.bundles import live_bundle
from gateway.console.deps import PageUser, needs
from gateway.console.helpdesk import cases as register
from gateway.console.helpdesk import memory, simulator
from gateway.console.helpdesk.models import CaseStatus, HelpdeskCase
from gateway.console.i18n import Translator
from gateway.console.names import Names
from gateway.console.web import PREFIX, ConsoleRoute, language_of, render
from gateway.db import transaction
from gateway.deps import RequestIdDep, ServicesDep
from gateway.errors import InvalidRequestError
from gateway.partners.models import Partner
from gateway.policy.decision import Action, Disclosure
from gateway.services import Services

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

CaseReader = Annotated[Principal, needs(Permission.HELPDESK_ANSWER_READ)]
CaseWriter = Annotated[Principal, needs(Permission.HELPDESK_ANSWER_WRITE)]
Text = Annotated[str, Form(max_length=register.MAX_TEXT)]


def _run_event(
    principal: Principal,
    request_id: str,
    grant: Grant,
    *,
    run_id: int,
    question: simulator.Question,
    answers: list[simulator.PartnerAnswer],
    digest: str,
) -> AuditEvent:
    return principal.actor(request_id).event(
        AuditTag.POLICY_SIMULATION_RUN,
        purpose=grant.purpose,
        legal_basis=grant.legal_basis,
        decision="allow",
        policy_digest=digest,
        counts={
            "run": run_id,
            "partners": len(answers),
            "allowed": sum(answer.allow for answer in answers),
        },
        detail={
            "question_sha256": question.key,
            "simulated_purpose": question.purpose,
            "simulated_action": question.action,
        },
    )


def _form_options(services: Services) -> dict[str, object]:
    with transaction(services.session_factory) as session:
        data = live_bundle(services, session).data
    return {
        "partners": sorted(data.get("partners", {}).items()),
        "sectors": sorted(data.get("sectors", {}).items()),
        "purposes": sorted(data.get("purposes", {}).items()),
        "legal_bases": sorted(data.get("legal_bases", {}).items()),
        "categories": sorted(data.get("taxonomy", {}).get("categories", {}).items()),
        "kinds": simulator.KINDS,
        "levels": [level.value for level in Disclosure],
        "actions": [action.value for action in Action],
    }


def _question_fields(params: QueryParams) -> dict[str, object]:
    """The simulator's question as typed in the query string (the shareable link)."""
    raw: dict[str, object] = {
        name: params.get(name) for name in ("partner", "sector", "action", "purpose", "legal_basis")
    }
    raw.update({name: params.getlist(name) for name in ("kinds", "categories", "disclosure")})
    return raw


def _earlier(
    session: Session,
    data: Mapping[str, Any],
    question: simulator.Question,
    *,
    own_key: str,
    today: Sequence[simulator.PartnerAnswer],
    run_id: int,
) -> list[memory.EarlierAnswer]:
    """Earlier answers to the same or an equivalent question, other than run ``run_id``."""
    return memory.earlier_answers(
        session,
        memory.equivalent_keys(data, question),
        own_key=own_key,
        today=today,
        exclude_run=run_id,
    )


def _simulate(
    request: Request,
    services: Services,
    request_id: str,
    principal: Principal,
    raw: dict[str, object],
) -> dict[str, object]:
    """Run the question (policy allowing), keep it as a run, audit it; the page's results."""
    grant = simulate_access(services, request_id, principal)
    with transaction(services.session_factory) as session:
        bundle = live_bundle(services, session)
        question = simulator.parse_question(bundle.data, raw)
        answers = simulator.ask(bundle.data, services.policy, question)
        run = simulator.store_run(
            session,
            question,
            answers,
            digest=bundle.digest,
            user=principal.user or "-",
            partner=principal.partner_id,
            now=services.clock.now(),
        )
        services.audit.record(
            session,
            _run_event(
                principal,
                request_id,
                grant,
                run_id=run.id,
                question=question,
                answers=answers,
                digest=bundle.digest,
            ),
        )
        earlier = _earlier(
            session, bundle.data, question, own_key=question.key, today=answers, run_id=run.id
        )
        catalog = bundle.catalog.entries
        names = Names.of(Translator(language_of(request)), bundle, session)
    return {
        "run": run,
        "question": question,
        "answers": answers,
        "earlier": earlier,
        "catalog": catalog,
        "names": names,
        "verdict": simulator.verdict(answers),
    }


@router.get("/helpdesk", response_class=HTMLResponse)
def simulator_page(
    *,
    request: Request,
    principal: PageUser,
    services: ServicesDep,
    request_id: RequestIdDep,
) -> HTMLResponse:
    """The simulator; with a question in the query string it runs it (the shareable link)."""
    require_any(
        services,
        request_id,
        principal,
        AuditTag.POLICY_SIMULATION_DENY,
        Permission.POLICY_SIMULATE,
        Permission.HELPDESK_ANSWER_READ,
    )
    raw = _question_fields(request.query_params)
    context: dict[str, object] = {
        "raw": raw,
        "run": None,
        "question": None,
        "answers": None,
        "earlier": [],
        "can_simulate": False,
    }
    context.update(_form_options(services))
    if Permission.POLICY_SIMULATE in principal.permissions:
        context["can_simulate"] = True
        if request.query_params.get("action"):
            context.update(_simulate(request, services, request_id, principal, raw))
    return render(request, "helpdesk.html", context, principal=principal)


@router.get("/helpdesk/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request,
    principal: CaseReader,
    services: ServicesDep,
    run_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
) -> HTMLResponse:
    with transaction(services.session_factory) as session:
        run, question, answers = simulator.load_run(session, run_id)
        bundle = live_bundle(services, session)
        earlier = _earlier(
            session, bundle.data, question, own_key=run.question_key, today=answers, run_id=run.id
        )
        catalog = bundle.catalog.entries
        names = Names.of(Translator(language_of(request)), bundle, session)
    return render(
        request,
        "helpdesk_run.html",
        {
            "run": run,
            "question": question,
            "answers": answers,
            "earlier": earlier,
            "catalog": catalog,
            "names": names,
            "verdict": run.verdict,
        },
        principal=principal,
    )


@router.get("/helpdesk/cases", response_class=HTMLResponse)
def cases_page(
    *,
    request: Request,
    principal: CaseReader,
    services: ServicesDep,
    q: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    if status and status not in {item.value for item in CaseStatus}:
        raise InvalidRequestError("must be open, answered or closed", field="status")
    with transaction(services.session_factory) as session:
        found = register.search_cases(session, q, status=status or None)
    return render(
        request,
        "helpdesk_cases.html",
        {
            "cases": found,
            "q": q,
            "status": status,
            "statuses": [s.value for s in CaseStatus],
            "reference": register.reference,
        },
        principal=principal,
    )


def _case_form_options(services: Services) -> dict[str, object]:
    with transaction(services.session_factory) as session:
        partners = list(session.scalars(select(Partner.id).order_by(Partner.id)))
        staff = list(
            session.scalars(
                select(ConsoleUser.username)
                .where(ConsoleUser.role == Role.HELPDESK.value)
                .order_by(ConsoleUser.username)
            )
        )
    return {
        "partners": partners,
        "staff": staff,
        "statuses": [s.value for s in CaseStatus],
        "reference": register.reference,
    }


@router.get("/helpdesk/cases/new", response_class=HTMLResponse)
def new_case_page(
    request: Request,
    principal: CaseWriter,
    services: ServicesDep,
    run: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> HTMLResponse:
    linked = []
    title = ""
    if run is not None:
        with transaction(services.session_factory) as session:
            record, question, _answers = simulator.load_run(session, run)
            linked = [record]
            who = question.partner or question.sector
            title = f"{question.action} / {question.purpose} ({who})"
    context: dict[str, object] = {
        "case": None,
        "runs": linked,
        "title": title,
        "assignee": principal.user,
        "saved": False,
        "can_write": True,
    }
    context.update(_case_form_options(services))
    return render(request, "helpdesk_case.html", context, principal=principal)


def _case_input(
    title: str, question: str, answer: str, *, asker_partner: str, status: str, assignee: str
) -> register.CaseInput:
    return register.CaseInput(
        title=title,
        question=question,
        answer=answer,
        asker_partner=asker_partner,
        status=status,
        assignee=assignee,
    )


def _problem(data: register.CaseInput) -> register.CaseInputError | None:
    try:
        data.checked()
    except register.CaseInputError as exc:
        return exc
    return None


def _form_again(
    request: Request,
    principal: Principal,
    *,
    services: Services,
    data: register.CaseInput,
    problem: register.CaseInputError,
    case_id: int | None,
    run_values: list[str],
) -> HTMLResponse:
    """The case form again with what was typed and the problem next to its field (422)."""
    wanted = {int(value) for value in run_values if value.strip().isdigit()}
    with transaction(services.session_factory) as session:
        case = register.get_case(session, case_id) if case_id is not None else None
        runs = [simulator.load_run(session, run_id)[0] for run_id in sorted(wanted)]
    context: dict[str, object] = {
        "case": case,
        "runs": runs,
        "title": data.title,
        "assignee": data.assignee,
        "form": data,
        "problem": problem,
        "saved": False,
        "can_write": True,
    }
    context.update(_case_form_options(services))
    return render(request, "helpdesk_case.html", context, principal=principal, status_code=422)


def _run_ids(values: list[str]) -> list[int]:
    ids = []
    for value in values:
        text = value.strip()
        if not text:
            continue
        if not text.isdigit():
            raise InvalidRequestError("must be the number of a simulator run", field="run")
        ids.append(int(text))
    return ids


def _case_event(
    principal: Principal, request_id: str, tag: AuditTag, case: HelpdeskCase, runs: int
) -> AuditEvent:
    return principal.actor(request_id).event(
        tag,
        policy_digest=case.policy_digest,
        counts={"case": case.id, "runs": runs},
        detail={
            "status": case.status,
            "assignee": case.assignee or "",
            "asker_partner": case.asker_partner or "",
        },
    )


@router.post("/helpdesk/cases")
def create_case(
    *,
    request: Request,
    principal: CaseWriter,
    services: ServicesDep,
    request_id: RequestIdDep,
    title: Annotated[str, Form(max_length=register.MAX_TITLE * 2)],
    question: Text,
    answer: Text = "",
    asker_partner: Annotated[str, Form(max_length=64)] = "",
    status: Annotated[str, Form(max_length=16)] = CaseStatus.OPEN.value,
    assignee: Annotated[str, Form(max_length=64)] = "",
    run: Annotated[list[str] | None, Form()] = None,
) -> Response:
    data = _case_input(
        title, question, answer, asker_partner=asker_partner, status=status, assignee=assignee
    )
    problem = _problem(data)
    if problem is not None:
        return _form_again(
            request,
            principal,
            services=services,
            data=data,
            problem=problem,
            case_id=None,
            run_values=run or [],
        )
    with transaction(services.session_factory) as session:
        case = register.create_case(
            session,
            data,
            run_ids=_run_ids(run or []),
            by=principal.user or "-",
            now=services.clock.now(),
        )
        runs = len(register.linked_runs(session, case.id))
        services.audit.record(
            session, _case_event(principal, request_id, AuditTag.HELPDESK_CASE_CREATE, case, runs)
        )
        case_id = case.id
    return RedirectResponse(f"{PREFIX}/helpdesk/cases/{case_id}?saved=1", status_code=303)


@router.get("/helpdesk/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request,
    principal: CaseReader,
    services: ServicesDep,
    case_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
) -> HTMLResponse:
    with transaction(services.session_factory) as session:
        case = register.get_case(session, case_id)
        runs = register.linked_runs(session, case_id)
        history = memory.case_history(session, case_id)
    context: dict[str, object] = {
        "case": case,
        "runs": runs,
        "history": history,
        "title": case.title,
        "assignee": case.assignee,
        "saved": request.query_params.get("saved") == "1",
        "can_write": Permission.HELPDESK_ANSWER_WRITE in principal.permissions,
    }
    context.update(_case_form_options(services))
    return render(request, "helpdesk_case.html", context, principal=principal)


@router.post("/helpdesk/cases/{case_id}")
def update_case(
    *,
    request: Request,
    principal: CaseWriter,
    services: ServicesDep,
    request_id: RequestIdDep,
    case_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    title: Annotated[str, Form(max_length=register.MAX_TITLE * 2)],
    question: Text,
    answer: Text = "",
    asker_partner: Annotated[str, Form(max_length=64)] = "",
    status: Annotated[str, Form(max_length=16)] = CaseStatus.OPEN.value,
    assignee: Annotated[str, Form(max_length=64)] = "",
    run: Annotated[list[str] | None, Form()] = None,
) -> Response:
    data = _case_input(
        title, question, answer, asker_partner=asker_partner, status=status, assignee=assignee
    )
    problem = _problem(data)
    if problem is not None:
        return _form_again(
            request,
            principal,
            services=services,
            data=data,
            problem=problem,
            case_id=case_id,
            run_values=run or [],
        )
    with transaction(services.session_factory) as session:
        case = register.update_case(
            session, case_id, data, run_ids=_run_ids(run or []), now=services.clock.now()
        )
        runs = len(register.linked_runs(session, case.id))
        services.audit.record(
            session, _case_event(principal, request_id, AuditTag.HELPDESK_CASE_UPDATE, case, runs)
        )
    return RedirectResponse(f"{PREFIX}/helpdesk/cases/{case_id}?saved=1", status_code=303)
