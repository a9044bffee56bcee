"""A dependency-free WSGI application (PEP 3333)."""

from collections.abc import Callable, Iterable

StartResponse = Callable[[str, list[tuple[str, str]]], object]


def application(environ: dict[str, object], start_response: StartResponse) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "/")
    if path == "/healthz":
        status, body = "200 OK", b"ok\n"
    elif path == "/":
        status, body = "200 OK", b"Hello from a standard-library WSGI app on Tussilago!\n"
    else:
        status, body = "404 Not Found", b"not found\n"
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]
