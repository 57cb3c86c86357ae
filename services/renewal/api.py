"""Renewal's HTTP API: translate requests, read the watch list, render."""

from __future__ import annotations

from flask import Blueprint, jsonify
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contractflow.auth import require_roles
from contractflow.web import ProblemError, api_doc, load_query
from services.renewal.models import WatchedContract

READ_ROLES = ("renewal-manager", "contract-viewer", "admin")


class WatchedContractSchema(Schema):
    contract_id = fields.String()
    title = fields.String()
    provider_id = fields.String()
    provider_name = fields.String()
    start_date = fields.Date()
    end_date = fields.Date()
    auto_renew = fields.Boolean()
    notice_period_days = fields.Integer()
    total_amount = fields.Decimal(as_string=True)
    currency = fields.String()
    status = fields.String()


class WatchedContractList(Schema):
    items = fields.List(fields.Nested(WatchedContractSchema))


class WatchQuery(Schema):
    status = fields.String(validate=validate.OneOf(("active", "expired", "terminated")))
    expiring_before = fields.Date()
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


def make_blueprint(sessions: sessionmaker[Session]) -> Blueprint:
    api = Blueprint("renewal", __name__)

    @api.get("/contracts")
    @require_roles(*READ_ROLES)
    @api_doc(
        "List watched contracts, soonest expiry first",
        query=WatchQuery,
        response=WatchedContractList,
    )
    def list_contracts():
        query = load_query(WatchQuery())
        statement = select(WatchedContract).order_by(WatchedContract.end_date).limit(query["limit"])
        if "status" in query:
            statement = statement.where(WatchedContract.status == query["status"])
        if "expiring_before" in query:
            statement = statement.where(WatchedContract.end_date < query["expiring_before"])
        with sessions() as session:
            items = session.scalars(statement).all()
            return jsonify(items=WatchedContractSchema(many=True).dump(items))

    @api.get("/contracts/<contract_id>")
    @require_roles(*READ_ROLES)
    @api_doc("One watched contract", response=WatchedContractSchema)
    def get_contract(contract_id: str):
        with sessions() as session:
            contract = session.get(WatchedContract, contract_id)
            if contract is None:
                raise ProblemError(
                    404, "Contract not watched", f"no watched contract {contract_id!r}"
                )
            return jsonify(WatchedContractSchema().dump(contract))

    return api
