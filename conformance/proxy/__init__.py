"""The validation proxy: a real backend's traffic with a real client, forwarded
unchanged and recorded as a trace (:mod:`conformance.mock.trace`'s format) for
``verify-client`` (the client's clauses) and ``verify-trace`` (the server's, judged on
what was observed).

- :mod:`conformance.proxy.upstream` — the backend, from its URL;
- :mod:`conformance.proxy.app` — forwarding and recording (an ASGI app);
- :mod:`conformance.proxy.server` — serving it with uvicorn, in a thread or in the
  foreground.
"""

from __future__ import annotations

from conformance.proxy.app import HOP_BY_HOP, ProxyApp
from conformance.proxy.server import RunningProxy, serve_proxy, start_proxy
from conformance.proxy.upstream import Upstream

__all__ = ["HOP_BY_HOP", "ProxyApp", "RunningProxy", "Upstream", "serve_proxy", "start_proxy"]
