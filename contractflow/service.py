"""The parts every service is built from, wired once per process by its bootstrap.

A service's `bootstrap.py` calls `build_kernel` and adds its handlers, blueprints and
workflows: that is its single composition root. Tests pass their own settings (a temp
database, a unique topic prefix) and get a fully wired service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import Blueprint
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from contractflow.auth import TokenService
from contractflow.config import Settings
from contractflow.db import is_reachable, make_engine, make_session_factory
from contractflow.events.asyncapi import build_asyncapi
from contractflow.events.batching import EventHandler
from contractflow.events.catalogue import Catalogue
from contractflow.events.deadletter import dead_letter_topic
from contractflow.events.kafka_bus import broker_reachable
from contractflow.events.outbox import Outbox
from contractflow.events.schemas import default_catalogue
from contractflow.web import ServiceWeb

if TYPE_CHECKING:
    from contractflow.events.transport import Producer
    from contractflow.worker import PeriodicJob

    JobFactory = Callable[[Producer], PeriodicJob]


@dataclass
class ServiceKernel:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    catalogue: Catalogue
    outbox: Outbox
    tokens: TokenService
    registry: CollectorRegistry
    handlers: dict[str, EventHandler] = field(default_factory=dict)
    blueprints: list[Blueprint] = field(default_factory=list)
    extensions: dict[str, object] = field(default_factory=dict)
    # Periodic work of the worker process, built there because it needs the producer.
    jobs: list[JobFactory] = field(default_factory=list)

    @property
    def service(self) -> str:
        return self.settings.service

    @property
    def consumer_group(self) -> str:
        return f"{self.settings.topic_prefix}{self.service}"

    @property
    def dead_letter_topic(self) -> str:
        return dead_letter_topic(self.settings.topic_prefix, self.service)

    def subscribed_topics(self) -> set[str]:
        """The topics carrying the event types this service handles."""
        return {self.outbox.topic_for(event_type) for event_type in self.handlers}

    def all_topics(self) -> set[str]:
        prefix = self.settings.topic_prefix
        return {prefix + topic for topic in self.catalogue.topics()} | {self.dead_letter_topic}

    def readiness(self, *, kafka: bool) -> dict[str, Callable[[], bool]]:
        """What a process needs to do its work. A web answers from its database alone (its
        events wait in the outbox), so a broker outage must not take it out of its Service;
        the worker, which moves the events, needs Kafka too."""
        checks: dict[str, Callable[[], bool]] = {"database": lambda: is_reachable(self.engine)}
        if kafka:
            bootstrap = self.settings.kafka_bootstrap_servers
            checks["kafka"] = lambda: broker_reachable(bootstrap)
        return checks

    def web(self) -> ServiceWeb:
        return ServiceWeb(
            service=self.service,
            tokens=self.tokens,
            blueprints=self.blueprints,
            readiness=self.readiness(kafka=False),
            registry=self.registry,
            extensions=self.extensions,
            event_catalogue_document=lambda: build_asyncapi(
                self.catalogue, self.settings.topic_prefix
            ),
        )

    def close(self) -> None:
        self.engine.dispose()


def build_kernel(settings: Settings, catalogue: Catalogue | None = None) -> ServiceKernel:
    engine = make_engine(settings.database_url)
    catalogue = catalogue or default_catalogue()
    return ServiceKernel(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        catalogue=catalogue,
        outbox=Outbox(catalogue, settings.topic_prefix),
        tokens=TokenService(settings.jwt_secret, settings.jwt_issuer),
        registry=CollectorRegistry(),
    )
