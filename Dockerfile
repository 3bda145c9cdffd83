# The Backoffice image: the web app (gunicorn), the Celery worker and beat all run from it
# (docker-compose.yml picks the command). Configuration comes from the environment (.env).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # The code runs from /app (templates/ and static/ live beside the packages).
    PYTHONPATH=/app

WORKDIR /app
# Exactly the pinned releases, each checked against its hash (requirements.lock, made by
# `make lock`); the code itself runs from /app (PYTHONPATH), it needs no install.
COPY requirements.lock .
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY . .

# The static files with their hashed names, as the production settings serve them. The
# values below exist only for this build step (the settings refuse DEBUG off without them);
# they are not in the image's environment and never used at run time.
RUN DEBUG=0 \
    SECRET_KEY=build-only-collectstatic-key-not-used-at-run-time-0123456789 \
    FIELD_ENCRYPTION_KEY=YnVpbGQtb25seS1ub3QtYS1yZWFsLXNlY3JldC0wMDA= \
    VAR_DIR=/tmp/build-var \
    python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-var

RUN useradd --system --no-create-home --home-dir /app backoffice \
    && mkdir -p /app/var && chown backoffice /app/var
USER backoffice

EXPOSE 8000
CMD ["gunicorn", "backoffice.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
