"""The role each gateway route needs when tokens are configured (core/access_http.py).

Every route of the gateway has a row: tests/unit/services/test_route_roles.py fails for a
route without one (and the middleware refuses it until it gets one).
"""

from __future__ import annotations

from observatory.core.access import Role
from observatory.core.access_http import RouteRoles

ROUTE_ROLES: RouteRoles = {
    ("POST", "/jobs"): Role.OPERATOR,
    ("POST", "/jobs/{job_id}/retry"): Role.OPERATOR,
    ("POST", "/jobs/retry"): Role.OPERATOR,
    ("POST", "/jobs/{job_id}/cancel"): Role.OPERATOR,
    ("POST", "/dead-letters/replay"): Role.OPERATOR,
    ("POST", "/dead-letters/{letter_id}/replay"): Role.OPERATOR,
    ("GET", "/proxy/alerts"): Role.VIEWER,
    ("GET", "/proxy/targets"): Role.VIEWER,
}
SUBMIT = ROUTE_ROLES[("POST", "/jobs")] or Role.OPERATOR
"""What the plain-ASGI lane (lane.py) checks for POST /jobs."""
