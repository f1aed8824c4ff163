"""The role each read-model route needs when tokens are configured (core/access_http.py).

Every route has a row: tests/unit/services/test_route_roles.py fails for a route without
one (and the middleware refuses it until it gets one). The Alertmanager webhook keeps its
own token (ODTO_API_TOKEN): Alertmanager holds no role.
"""

from __future__ import annotations

from observatory.core.access import Role
from observatory.core.access_http import RouteRoles

READS = (
    "/health",
    "/stats",
    "/stats/series",
    "/jobs/recent",
    "/jobs",
    "/jobs/{job_id}",
    "/events",
    "/dead-letters",
    "/audit",
    "/alerts",
    "/alerts/history",
    "/registry",
    "/stream",
)
ROUTE_ROLES: RouteRoles = {
    **{("GET", path): Role.VIEWER for path in READS},
    ("POST", "/webhook/alerts"): None,  # its own bearer token (routes.py)
}
