"""Sign in to a fresh demo as admin (changing the one-time password) and print an API token that
may do everything the admin may, for the checks that follow. Arguments: base URL, the file with
the one-time password."""
import json
import sys
import urllib.request

base, pw = sys.argv[1], open(sys.argv[2]).read().strip()


def call(path, body=None, token=None):
    req = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})},
    )
    return json.load(urllib.request.urlopen(req))


t = call("/api/v1/auth/login", {"username": "admin", "password": pw})["token"]
call("/api/v1/auth/password", {"old_password": pw, "new_password": "Demo-Check-2026!"}, t)
t = call("/api/v1/auth/login", {"username": "admin", "password": "Demo-Check-2026!"})["token"]
issued = call("/api/v1/tokens", {"name": "ci-checks", "scopes": ["*:*:*"], "days": 1}, t)
print(issued["token"])
