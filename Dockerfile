# One image that runs any fleetlink role: `docker run IMAGE writer`, `... hub`,
# `... web`, `... simulate --trucks 20`, `... db upgrade`, or the embedded demo
# (the default command). compose.yaml wires the roles to RabbitMQ, MariaDB and
# memcached.
FROM python:3.11-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc make libc6-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/fleetlink
COPY pyproject.toml README.md ./
COPY app app
COPY edge edge
COPY dashboard dashboard
COPY db db
COPY native native
RUN pip install --no-cache-dir '.[fast]'

ENV PYTHONUNBUFFERED=1
EXPOSE 8000 8001 8050
ENTRYPOINT ["fleetlink"]
CMD ["demo", "--host", "0.0.0.0", "--port", "8000"]
