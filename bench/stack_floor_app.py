"""The app the e2e bench's stack floor runs under gunicorn (bench/e2e_floor.py): the least
an API call does on this project's stack, with none of the services' code.

- `GET /floor/items/<id>`: the caller's bearer token verified (TokenService, cached per token
  as the services' is), one row read by primary key through a SQLAlchemy ORM session, a
  JSON answer — what any authenticated read of a contract or its tasks costs before it
  reads anything else;
- `POST /floor/items/<id>`: the same, its JSON body loaded by a marshmallow schema, and the
  row written back with a state of the size a workflow step saves (5 KB of JSON) and
  committed — what any authenticated step costs before it runs anything.

    BENCH_STACK_DATABASE_URL, JWT_SECRET; gunicorn 'bench.stack_floor_app:create_app()'
"""

from __future__ import annotations

import json
import os
from typing import Any

from flask import Flask, abort, jsonify, request
from marshmallow import Schema, ValidationError, fields
from sqlalchemy import Integer, LargeBinary
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from contractflow.auth import TokenService
from contractflow.db import make_engine

STATE_BYTES = 5_000  # about what a workflow step saves (bench/workflow_bench.floor_commit)


class _Base(DeclarativeBase):
    pass


class FloorItem(_Base):
    __tablename__ = "stack_floor_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[bytes] = mapped_column(LargeBinary)


class StepForm(Schema):
    decision = fields.String(required=True)
    note = fields.String(load_default="")


def prepare(url: str, items: int) -> None:
    """The table and its rows, before gunicorn starts."""
    engine = make_engine(url)
    _Base.metadata.drop_all(engine)
    _Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(FloorItem(id=n, version=0, state=b"") for n in range(items))
        session.commit()
    engine.dispose()


def create_app() -> Flask:
    sessions = sessionmaker(make_engine(os.environ["BENCH_STACK_DATABASE_URL"]))
    tokens = TokenService(os.environ["JWT_SECRET"], "contractflow")
    form = StepForm()
    padding = "x" * STATE_BYTES
    app = Flask(__name__)

    def caller() -> str:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            abort(401)
        return tokens.verify(header.removeprefix("Bearer ")).user_id

    @app.get("/floor/items/<int:item_id>")
    def read(item_id: int) -> Any:
        caller()
        with sessions() as session:
            item = session.get(FloorItem, item_id) or abort(404)
            return jsonify(id=item.id, version=item.version)

    @app.post("/floor/items/<int:item_id>")
    def step(item_id: int) -> Any:
        who = caller()
        try:
            data = form.load(request.get_json())
        except ValidationError as exc:
            return jsonify(errors=exc.messages), 422
        with sessions() as session:
            item = session.get(FloorItem, item_id) or abort(404)
            item.version += 1
            item.state = json.dumps({"by": who, "data": data, "rest": padding}).encode()
            session.commit()
            return jsonify(id=item.id, version=item.version)

    return app
