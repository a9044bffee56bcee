"""Serves wsgi.application with the standard library on $PORT, for hosts without a package index."""

import os
import signal
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

from wsgi import application


class QuietHandler(WSGIRequestHandler):
    """Logs requests to stdout (the platform collects it) instead of stderr's default format."""

    def log_message(self, format: str, *args: object) -> None:
        sys.stdout.write("%s - %s\n" % (self.address_string(), format % args))
        sys.stdout.flush()


def main() -> None:
    port = int(os.environ["PORT"])
    with make_server("0.0.0.0", port, application, handler_class=QuietHandler) as server:
        # The platform stops containers with SIGTERM; exit cleanly instead of dying mid-request.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        sys.stdout.write(f"listening on 0.0.0.0:{port}\n")
        sys.stdout.flush()
        server.serve_forever()


if __name__ == "__main__":
    main()
