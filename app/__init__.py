"""Everything that runs in the data centre: bus, writer, hub, HTTP API, CLI."""
