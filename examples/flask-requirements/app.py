"""Minimal Flask app: the platform finds `app` below and serves it with gunicorn on $PORT."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return "Hello from Flask on Tussilago!\n"


@app.get("/healthz")
def healthz() -> tuple[str, int]:
    return "ok\n", 200
