"""Events between services: CloudEvents envelope, catalogue, outbox, inbox, Kafka plumbing."""
