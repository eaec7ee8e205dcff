# syntax=docker/dockerfile:1
# Build: the locked dependencies and the package into a virtualenv.
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY src ./src
RUN uv sync --locked --no-dev --no-editable

# Run: only the virtualenv, as an unprivileged user.
FROM python:3.11-slim AS runtime
RUN useradd --system --uid 10001 --home-dir /app booklnk
WORKDIR /app
COPY --from=build --chown=booklnk:booklnk /app/.venv /app/.venv
ENV PATH="/app/.venv/bin:$PATH" BOOKLNK_ENVIRONMENT=production PYTHONUNBUFFERED=1
USER booklnk
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["booklnk", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
