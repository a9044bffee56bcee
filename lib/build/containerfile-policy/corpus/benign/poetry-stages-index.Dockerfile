FROM python:3.12 AS deps
RUN pip install poetry==1.8.3
COPY pyproject.toml poetry.lock ./
RUN poetry export -f requirements.txt -o /requirements.txt

FROM deps AS test
RUN echo tests would run here

FROM python:3.12-slim@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
COPY --from=0 /requirements.txt /requirements.txt
COPY --from=DEPS /requirements.txt /r2.txt
COPY --from=docker.io/library/busybox:1.36 /bin/busybox /bin/busybox
RUN pip install -r /requirements.txt
ONBUILD COPY . /app
ONBUILD RUN pip install -r /app/requirements.txt
STOPSIGNAL SIGTERM
LABEL org.opencontainers.image.source="https://github.com/acme/app"
CMD python -m app
