import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from guardian.shortcuts import assign_perm

from advisories.webhooks import services as webhook_services
from config.celery import app
from core.levels import AccessLevel


@pytest.fixture(autouse=True)
def eager_tasks_retry_like_a_worker():
    """Eager tasks that propagate their exceptions (the test settings) raise Celery's Retry instead of retrying; a
    worker retries. Here the eager task retries at once (the backoff delay is skipped), as a worker would later."""
    propagates = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = propagates


class Receiver:
    """A real HTTP receiver on 127.0.0.1: records every request (headers and body) and answers with the next
    status code planned (204 once the plan is used up)."""

    def __init__(self):
        self.requests = []
        self.plan = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(SimpleNamespace(path=self.path, headers=dict(self.headers), body=body))
                status = receiver.plan.pop(0) if receiver.plan else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/forewarn"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def org(make_partner, member_of):
    """An active early partner with an admin and an analyst."""
    partner = make_partner(level=AccessLevel.EARLY, legal_name="Kestrel IDS Ltd")
    return SimpleNamespace(
        partner=partner,
        admin=member_of(partner, role="admin", user__email="admin@kestrel.test"),
        analyst=member_of(partner, user__email="analyst@kestrel.test"),
    )


@pytest.fixture
def other_org(make_partner, member_of):
    partner = make_partner(level=AccessLevel.EARLY, legal_name="Osprey Security GmbH")
    return SimpleNamespace(partner=partner, admin=member_of(partner, role="admin", user__email="admin@osprey.test"))


@pytest.fixture
def endpoint(org, receiver, django_capture_on_commit_callbacks):
    """The organisation's endpoint on the test receiver, with its secret."""
    with django_capture_on_commit_callbacks(execute=True):
        endpoint, secret = webhook_services.create_webhook_endpoint(
            actor=org.admin, url=receiver.url, description="SOAR"
        )
    return SimpleNamespace(endpoint=endpoint, secret=secret)


@pytest.fixture
def assigned_manager(manager, advisory):
    assign_perm("advisories.edit_advisory", manager, advisory)
    return manager
