"""The telemetry fanout: AMQP in production, in-process when embedded."""
