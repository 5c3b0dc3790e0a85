# paperboy: the daily job on a schedule. Data and output live on volumes.
#   docker build -t paperboy .
#   docker run -d --name paperboy -v paperboy-data:/data -v paperboy-out:/out \
#     -e PAPERBOY_SMTP_URL=smtp://user@mail.example.org:587?starttls=true \
#     -e PAPERBOY_SMTP_PASSWORD=... paperboy
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PAPERBOY_DATABASE_URL=sqlite:////data/paperboy.db \
    PAPERBOY_OUTPUT_DIR=/out

WORKDIR /app
COPY pyproject.toml README.md ./
COPY pipeline/ pipeline/
COPY templates/ templates/
COPY config/ config/
RUN pip install . \
 && useradd --no-log-init --system --uid 10001 --home-dir /data paperboy \
 && mkdir -p /data /out \
 && chown paperboy /data /out

USER 10001
VOLUME ["/data", "/out"]
WORKDIR /data
# exec form: Python is PID 1 and gets SIGTERM (the scheduler finishes the running job, then exits)
ENTRYPOINT ["python", "-m", "pipeline"]
CMD ["schedule"]
