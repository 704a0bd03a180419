"""Schemathesis hooks for Kursi (scripts/schemathesis/run): an admin's bearer
token from POST /api/token, renewed with its refresh token before it expires
(access tokens last 15 minutes; a run lasts longer). Renewing by refresh
rather than by signing in again keeps the run going when the fuzzer, having
read the admin's username from GET /api/users, locks the account with wrong
passwords, as it is meant to."""

import os

import requests
import schemathesis

EDGE = os.environ["KURSI_EDGE_URL"]
ADMIN = os.environ.get("KURSI_ADMIN_USERNAME", "admin")
PASSWORD = os.environ["KURSI_ADMIN_PASSWORD"]

_refresh_token = None


def _sign_in():
    reply = requests.post(
        f"{EDGE}/api/token",
        data={"username": ADMIN, "password": PASSWORD},
        timeout=10,
    )
    reply.raise_for_status()
    return reply.json()


def _refresh(token):
    reply = requests.post(
        f"{EDGE}/api/token/refresh", json={"refresh_token": token}, timeout=10
    )
    reply.raise_for_status()
    return reply.json()


@schemathesis.auth(refresh_interval=600)
class AdminToken:
    def get(self, case, ctx):
        global _refresh_token
        pair = None
        if _refresh_token is not None:
            try:
                pair = _refresh(_refresh_token)
            except requests.RequestException:
                pair = None
        if pair is None:
            pair = _sign_in()
        _refresh_token = pair["refresh_token"]
        return pair["access_token"]

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
