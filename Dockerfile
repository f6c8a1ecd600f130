# The care training passport as a container image: the wheel (with its migrations and NHS.UK assets)
# installed into a clean Python environment. Build: docker build -t care-passport .
# See docs/deploy.md, "Containers". One image runs the web app, the job worker and one-off commands.

# 1. NHS.UK frontend assets from the npm registry (the same steps as scripts/fetch-assets.sh)
FROM docker.io/library/node:20-bookworm-slim AS assets
ARG NHSUK_VERSION=10.6.1
WORKDIR /src
COPY scripts/fetch-assets.sh scripts/
RUN bash scripts/fetch-assets.sh "$NHSUK_VERSION"

# 2. The wheel
FROM docker.io/library/python:3.11-slim-bookworm AS build
WORKDIR /src
COPY . .
COPY --from=assets /src/passport/static/nhsuk passport/static/nhsuk
RUN pip install --no-cache-dir build && python -m build --wheel --outdir /dist

# 3. The service: no checkout, no compiler
FROM docker.io/library/python:3.11-slim-bookworm
RUN useradd --system --create-home --home-dir /srv/passport passport
COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-cache-dir "$(ls /tmp/*.whl)[postgres,redis]" && rm /tmp/*.whl
USER passport
WORKDIR /srv/passport
ENV PASSPORT_ENV_NAME=production \
    PASSPORT_KEY_DIR=/srv/passport/keys \
    PASSPORT_PROXY_COUNT=1
EXPOSE 8000
# The web app; the worker runs the same image with: passport worker --workers 4
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "passport:create_app()"]
