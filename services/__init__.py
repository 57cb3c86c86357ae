"""The product's services; each owns its database and talks to the others through Kafka."""
