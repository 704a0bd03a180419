"""Schemathesis hooks for Kursi (scripts/schemathesis/run): an admin's bearer
token from POST /api/token, fetched again before it expires (access tokens
last 15 minutes; a run lasts longer)."""

import os

import requests
import schemathesis

EDGE = os.environ["KURSI_EDGE_URL"]
ADMIN = os.environ.get("KURSI_ADMIN_USERNAME", "admin")
PASSWORD = os.environ["KURSI_ADMIN_PASSWORD"]


@schemathesis.auth(refresh_interval=600)
class AdminToken:
    def get(self, case, ctx):
        reply = requests.post(
            f"{EDGE}/api/token",
            data={"username": ADMIN, "password": PASSWORD},
            timeout=10,
        )
        reply.raise_for_status()
        return reply.json()["access_token"]

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
