# One image for every vigie process of the stack: exam server, supervision dashboard,
# Locust master and workers (see docker-compose.yml and docs/sre.md).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Dependencies first (pinned in pyproject.toml): a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p vigie && touch vigie/__init__.py \
    && URLLIB3_NO_OVERRIDE=1 pip install --no-binary urllib3-future . \
    && pip uninstall -y vigie \
    && rm -rf vigie build *.egg-info
COPY . .
# Editable: the mixin's JSON/YAML and simulator/locustfile.py are read from /app as they are.
RUN pip install --no-deps -e . \
    && useradd --create-home --uid 10001 vigie \
    && mkdir -p /data && chown vigie /data
USER vigie
VOLUME ["/data"]

# 8080 exam server, 8050 supervision dashboard, 8089 Locust UI, 5557 Locust master, 9646 fleet metrics
EXPOSE 8080 8050 8089 5557 9646
CMD ["vigie", "--help"]
