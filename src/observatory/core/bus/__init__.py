"""The message bus port, its topology, and its adapters (RabbitMQ, embedded SQLite)."""
