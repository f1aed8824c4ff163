"""`python -m observatory.services.web`: the web service alone, configured by the environment."""

from __future__ import annotations

import asyncio

from observatory.services.web.server import serve
from observatory.services.web.settings import WebSettings


def main() -> None:
    """Run the web service until interrupted."""
    asyncio.run(serve(WebSettings()))


if __name__ == "__main__":
    main()
