"""Renewal's HTTP API: views only — load the body, call one capability function, render."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Blueprint, jsonify
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contractflow.auth import current_principal, require_roles
from contractflow.db import unit_of_work
from contractflow.events.outbox import Outbox
from contractflow.web import ProblemError, api_doc, load_json, load_query
from services.renewal import contract_view, deadlines, objections, supervision
from services.renewal.models import Evaluation, KpiReport, MaintenanceRecord, WatchedContract
from services.renewal.schemas import (
    ContractList,
    ContractQuery,
    ContractView,
    DeadlineList,
    DeadlineQuery,
    EvaluationBody,
    EvaluationList,
    EvaluationView,
    KpiReportBody,
    KpiReportView,
    MaintenanceBody,
    MaintenanceView,
    ObjectionBody,
    OwnerBody,
)

READ_ROLES = ("renewal-manager", "contract-viewer", "admin")
WRITE_ROLES = ("renewal-manager", "admin")


@contextmanager
def problems() -> Iterator[None]:
    """The capability modules' refusals as problem documents naming what was wrong."""
    try:
        yield
    except contract_view.ContractNotWatched as exc:
        raise ProblemError(404, "Contract not watched", str(exc)) from None
    except objections.ObjectionRefused as exc:
        raise ProblemError(409, "Objection refused", str(exc)) from None
    except supervision.SupervisionInvalid as exc:
        raise ProblemError(
            422, "Invalid report", str(exc), errors={exc.field: [exc.message]}
        ) from None


def make_blueprint(
    sessions: sessionmaker[Session], outbox: Outbox, clock: Callable[[], dt.datetime]
) -> Blueprint:
    api = Blueprint("renewal", __name__)

    @api.get("/contracts")
    @require_roles(*READ_ROLES)
    @api_doc("Watched contracts, soonest expiry first", query=ContractQuery, response=ContractList)
    def list_contracts():
        query = load_query(ContractQuery())
        statement = select(WatchedContract).order_by(
            WatchedContract.end_date, WatchedContract.contract_id
        )
        if "status" in query:
            statement = statement.where(WatchedContract.status == query["status"])
        if "expiring_before" in query:
            statement = statement.where(WatchedContract.end_date < query["expiring_before"])
        statement = statement.limit(query["limit"]).offset(query["offset"])
        with sessions() as session:
            now = clock()
            items = [contract_view.describe(session, c, now) for c in session.scalars(statement)]
            return jsonify(items=ContractView(many=True).dump(items))

    @api.get("/contracts/<contract_id>")
    @require_roles(*READ_ROLES)
    @api_doc(
        "One watched contract with its days to expiry and next deadline", response=ContractView
    )
    def get_contract(contract_id: str):
        with sessions() as session, problems():
            contract = contract_view.get_contract(session, contract_id)
            return jsonify(ContractView().dump(contract_view.describe(session, contract, clock())))

    @api.put("/contracts/<contract_id>/owner")
    @require_roles(*WRITE_ROLES)
    @api_doc("Name who receives the contract's reminders and tasks", body=OwnerBody)
    def put_owner(contract_id: str):
        body = load_json(OwnerBody())
        with unit_of_work(sessions) as session, problems():
            contract = objections.set_owner(session, contract_id, body, clock())
            return jsonify(ContractView().dump(contract_view.describe(session, contract, clock())))

    @api.post("/contracts/<contract_id>/objection")
    @require_roles(*WRITE_ROLES)
    @api_doc("Object to the contract's automatic renewal (before the deadline)", body=ObjectionBody)
    def post_objection(contract_id: str):
        body = load_json(ObjectionBody())
        user = current_principal().user_id
        with unit_of_work(sessions) as session, problems():
            contract = objections.record_objection(
                session, contract_id, by=user, reason=body["reason"], now=clock()
            )
            return jsonify(ContractView().dump(contract_view.describe(session, contract, clock())))

    @api.get("/deadlines")
    @require_roles(*READ_ROLES)
    @api_doc(
        "Deadlines due on one day or in one week (a calendar)",
        query=DeadlineQuery,
        response=DeadlineList,
    )
    def list_deadlines():
        query = load_query(DeadlineQuery())
        if "day" in query:
            first = last = query["day"]
        else:
            first = query["week"] - dt.timedelta(days=query["week"].weekday())
            last = first + dt.timedelta(days=6)
        with sessions() as session:
            calendar = deadlines.upcoming(session, first, last, query["limit"], query["offset"])
        return jsonify(
            DeadlineList().dump(
                {**calendar, "first_day": first, "last_day": last, "offset": query["offset"]}
            )
        )

    @api.post("/contracts/<contract_id>/kpi-reports")
    @require_roles(*WRITE_ROLES)
    @api_doc(
        "Report a period's measured service levels", body=KpiReportBody, response=KpiReportView
    )
    def post_kpis(contract_id: str):
        body = load_json(KpiReportBody())
        data = {**body, "contract_id": contract_id, "reported_by": current_principal().user_id}
        with unit_of_work(sessions) as session, problems():
            report = supervision.record_kpis(session, data, clock())
            return jsonify(KpiReportView().dump(report)), 201

    @api.get("/contracts/<contract_id>/kpi-reports")
    @require_roles(*READ_ROLES)
    def list_kpis(contract_id: str):
        with sessions() as session:
            rows = session.scalars(
                select(KpiReport)
                .where(KpiReport.contract_id == contract_id)
                .order_by(KpiReport.period_start)
            )
            return jsonify(items=KpiReportView(many=True).dump(rows))

    @api.post("/contracts/<contract_id>/maintenance")
    @require_roles(*WRITE_ROLES)
    @api_doc(
        "Evidence that a maintenance item was done in a period",
        body=MaintenanceBody,
        response=MaintenanceView,
    )
    def post_maintenance(contract_id: str):
        body = load_json(MaintenanceBody())
        data = {**body, "contract_id": contract_id, "reported_by": current_principal().user_id}
        with unit_of_work(sessions) as session, problems():
            record = supervision.record_maintenance(session, data, clock())
            return jsonify(MaintenanceView().dump(record)), 201

    @api.get("/contracts/<contract_id>/maintenance")
    @require_roles(*READ_ROLES)
    def list_maintenance(contract_id: str):
        with sessions() as session:
            rows = session.scalars(
                select(MaintenanceRecord)
                .where(MaintenanceRecord.contract_id == contract_id)
                .order_by(MaintenanceRecord.period_start, MaintenanceRecord.item)
            )
            return jsonify(items=MaintenanceView(many=True).dump(rows))

    @api.post("/contracts/<contract_id>/evaluations")
    @require_roles(*WRITE_ROLES)
    @api_doc(
        "Evaluate the provider over a period now (e.g. before a renewal decision)",
        body=EvaluationBody,
        response=EvaluationView,
    )
    def post_evaluation(contract_id: str):
        body = load_json(EvaluationBody())
        with unit_of_work(sessions) as session, problems():
            contract = contract_view.get_contract(session, contract_id)
            row = supervision.evaluate_contract(
                session, contract, body["period_start"], body["period_end"], clock(), outbox
            )
            return jsonify(EvaluationView().dump(row)), 201

    @api.get("/contracts/<contract_id>/evaluations")
    @require_roles(*READ_ROLES)
    @api_doc("The contract's evaluations with scores and explanations", response=EvaluationList)
    def list_evaluations(contract_id: str):
        with sessions() as session:
            rows = session.scalars(
                select(Evaluation)
                .where(Evaluation.contract_id == contract_id)
                .order_by(Evaluation.evaluated_at.desc())
            )
            return jsonify(items=EvaluationView(many=True).dump(rows))

    return api
