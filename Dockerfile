# One image for every contractflow process: each service's web (gunicorn), each worker and
# the `contractflow` CLI (migrations, topics). Runs as the unprivileged user 10001, with a
# read-only root filesystem in Kubernetes (writes go to /tmp, an emptyDir there).
#
#   docker build -t contractflow:dev .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    CONTRACTFLOW_RUN_DIR=/tmp/contractflow

RUN groupadd --system --gid 10001 contractflow \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp contractflow \
    && python -m venv /opt/venv

WORKDIR /app
# Dependencies first, so a code change does not reinstall them; at the versions in
# constraints.txt (`make lock`), the ones the test suite ran with.
COPY pyproject.toml constraints.txt ./
RUN mkdir -p contractflow services \
    && pip install -c constraints.txt . \
    && pip uninstall -y contractflow
COPY contractflow ./contractflow
COPY services ./services
# Installed in place (-e): the code finds its non-Python files (Alembic templates, service
# migrations) beside itself in /app, the way it does in a checkout; a wheel would carry
# only what the packaging metadata lists.
RUN pip install --no-deps -e . \
    && python -c 'import contractflow, services'

USER 10001:10001
EXPOSE 8001 8002 8003 8004
CMD ["contractflow", "--help"]
