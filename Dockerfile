# booking-gateway: slim, non-root. Build: docker build -t booking-gateway .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY booking_gateway ./booking_gateway
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/venv/bin/pip install --no-cache-dir -c constraints.txt .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin booking
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    BOOKING_ENV=production \
    BOOKING_HOST=0.0.0.0 \
    BOOKING_PORT=8000
USER booking
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
# migrate is idempotent: a new container brings the schema up to date before serving
CMD ["sh", "-c", "booking-gateway migrate && exec booking-gateway serve --workers ${BOOKING_WORKERS:-2}"]
