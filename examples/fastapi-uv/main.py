"""Minimal FastAPI app: the platform finds `app` below and serves it with uvicorn on $PORT."""

from fastapi import FastAPI

app = FastAPI(title="fastapi-uv example")


@app.get("/")
def index() -> dict[str, str]:
    return {"message": "Hello from FastAPI on Tussilago!"}


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
