"""The aiohttp web application (health checks now; the dashboard later)."""
