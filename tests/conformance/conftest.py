"""Fixtures: a client for the running sprite-sim (SPRITES_API_URL, SPRITES_TOKEN) and a fresh sprite.

SPRITES_CONTROL_MODE=1 makes the client run its commands over the control channel
(sprites-py's `control_mode=True`: one WebSocket per sprite at /v1/sprites/{name}/control);
run.sh runs the suite both ways."""
import os
import uuid

import pytest
import sprites


@pytest.fixture(scope="session")
def client():
    url = os.environ.get("SPRITES_API_URL")
    token = os.environ.get("SPRITES_TOKEN")
    if not url or not token:
        pytest.exit("run through tests/conformance/run.sh (SPRITES_API_URL and SPRITES_TOKEN must be set)", 2)
    c = sprites.SpritesClient(token=token, base_url=url, control_mode=control_mode())
    yield c
    c.close()


def control_mode():
    return os.environ.get("SPRITES_CONTROL_MODE") == "1"


@pytest.fixture
def sprite(client):
    name = "conf-" + uuid.uuid4().hex[:8]
    s = client.create_sprite(name)
    yield s
    try:
        client.delete_sprite(name)
    except Exception:
        pass
