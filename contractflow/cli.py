"""`contractflow` command: development tokens, migrations, topics, dead letters, signed
definition deployments."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence

from contractflow.config import Settings

SERVICES = ("negotiation", "approval", "renewal")
# Every process that consumes events, so has a dead-letter topic of its own.
CONSUMERS = (*SERVICES, "erp_connector")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="contractflow", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    token = commands.add_parser("token", help="mint a development JWT")
    token.add_argument("--user", required=True, help="user id (the token's subject)")
    token.add_argument("--roles", default="", help="comma-separated roles, e.g. admin,legal")
    token.add_argument("--hours", type=float, default=8.0, help="lifetime in hours")

    migrate = commands.add_parser("migrate", help="create or upgrade a service's database")
    migrate.add_argument("service", choices=(*SERVICES, "admin", "erp_connector", "all"))

    topics = commands.add_parser("topics", help="create the Kafka topics that are missing")
    topics.add_argument("action", choices=("ensure",))

    dlq = commands.add_parser("dlq", help="list or replay a service's dead-lettered messages")
    dlq.add_argument("action", choices=("list", "replay"))
    dlq.add_argument("service", choices=CONSUMERS)
    dlq.add_argument(
        "--message",
        action="append",
        default=[],
        metavar="PARTITION:OFFSET",
        help="with replay: a dead letter to send back to its original topic (repeatable)",
    )

    definitions = commands.add_parser(
        "definitions", help="deploy a BPMN/DMN file to a running service (signed event)"
    )
    definitions.add_argument("action", choices=("publish",))
    definitions.add_argument("service", choices=SERVICES)
    definitions.add_argument("path", help="the .bpmn or .dmn file")
    definitions.add_argument(
        "--file-name", help="name as stored (default <folder>/<file>, e.g. approval/approval.bpmn)"
    )
    definitions.add_argument("--by", required=True, help="who deploys (recorded on the version)")
    definitions.add_argument("--process", help="the process or decision id (default: the first)")

    args = parser.parse_args(argv)
    handler = {
        "token": _token,
        "migrate": _migrate,
        "topics": _topics,
        "dlq": _dlq,
        "definitions": _definitions,
    }[args.command]
    return handler(args)


def _definitions(args: argparse.Namespace) -> int:
    """Publish a signed workflow.definition.published event: the service validates and
    deploys it, or dead-letters it with every problem (`contractflow dlq list <service>`)."""
    from pathlib import Path

    from contractflow.events.envelope import CONTENT_TYPE
    from contractflow.events.kafka_bus import KafkaEventProducer
    from contractflow.events.outbox import Outbox
    from contractflow.events.schemas import default_catalogue
    from contractflow.workflow.definition_events import published_event

    settings = Settings.from_env(args.service)
    path = Path(args.path)
    try:
        content = path.read_bytes().decode("utf-8")
        event = published_event(
            settings.deploy_secret,
            service=args.service,
            file_name=args.file_name or f"{path.parent.name}/{path.name}",
            content=content,
            published_by=args.by,
            source="/cli/definitions",
            process_id=args.process,
        )
        catalogue = default_catalogue()
        catalogue.load(event)  # the consumer's own check, before anything is sent
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"{path}: cannot publish: {exc}", file=sys.stderr)
        return 2
    topic = Outbox(catalogue, settings.topic_prefix).topic_for(event.type)
    producer = KafkaEventProducer(settings.kafka_bootstrap_servers, "contractflow-definitions")
    try:
        headers = [("content-type", CONTENT_TYPE.encode())]
        producer.publish([(topic, event.subject.encode(), event.to_json(), headers)])
    finally:
        producer.close()
    print(f"published {event.data['file_name']} ({event.data['content_hash'][:12]}) as {event.id}")
    return 0


def _token(args: argparse.Namespace) -> int:
    from contractflow.auth import TokenService

    settings = Settings.from_env("negotiation")
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    tokens = TokenService(settings.jwt_secret, settings.jwt_issuer)
    print(tokens.mint(args.user, roles, dt.timedelta(hours=args.hours)))
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from contractflow.db import make_engine
    from contractflow.migrate import upgrade

    for service in (*SERVICES, "admin") if args.service == "all" else (args.service,):
        settings = Settings.from_env(service)
        engine = make_engine(settings.database_url)
        upgrade(engine, service)
        engine.dispose()
        print(f"{service}: database at head")
    return 0


def _topics(args: argparse.Namespace) -> int:
    from contractflow.events.deadletter import dead_letter_topic
    from contractflow.events.kafka_bus import TopicsNotCreated, ensure_topics
    from contractflow.events.schemas import default_catalogue

    settings = Settings.from_env("negotiation")
    prefix = settings.topic_prefix
    wanted = {prefix + t for t in default_catalogue().topics()}
    wanted |= {dead_letter_topic(prefix, s) for s in CONSUMERS}
    try:
        created = ensure_topics(settings.kafka_bootstrap_servers, wanted, settings.topic_partitions)
    except TopicsNotCreated as exc:  # each topic and the broker's reason; no traceback
        print(f"Kafka at {settings.kafka_bootstrap_servers}: {exc}", file=sys.stderr)
        return 1
    print(f"{len(wanted)} topics present ({len(created)} created)")
    return 0


def _dlq(args: argparse.Namespace) -> int:
    from kafka.errors import KafkaError

    from contractflow.events.deadletter import dead_letter_topic, describe, replay_message
    from contractflow.events.kafka_bus import KafkaEventProducer
    from contractflow.events.topic_reader import read_topic

    settings = Settings.from_env(args.service)
    topic = dead_letter_topic(settings.topic_prefix, args.service)
    try:
        letters = read_topic(settings.kafka_bootstrap_servers, topic)
    except KafkaError as exc:  # broker down or too slow to answer: say so, no traceback
        print(
            f"cannot read {topic} from Kafka at {settings.kafka_bootstrap_servers}: {exc}",
            file=sys.stderr,
        )
        return 1
    if args.action == "list":
        for letter in letters:
            print(json.dumps(describe(letter), ensure_ascii=False))
        print(f"{len(letters)} dead letters in {topic}", file=sys.stderr)
        return 0
    if not args.message:
        print("replay needs at least one --message PARTITION:OFFSET", file=sys.stderr)
        return 2
    by_position = {f"{r.partition}:{r.offset}": r for r in letters}
    unknown = [m for m in args.message if m not in by_position]
    if unknown:
        print(f"no dead letter at {', '.join(unknown)} in {topic}", file=sys.stderr)
        return 2
    try:
        messages = [replay_message(by_position[m]) for m in args.message]
    except ValueError as exc:  # e.g. an unmatched workflow message: no original to resend
        print(f"cannot replay: {exc}; nothing was sent", file=sys.stderr)
        return 2
    producer = KafkaEventProducer(settings.kafka_bootstrap_servers, "contractflow-dlq-replay")
    try:
        producer.publish(messages)
    finally:
        producer.close()
    print(f"replayed {len(args.message)} message(s) to their original topics")
    return 0


if __name__ == "__main__":
    sys.exit(main())
