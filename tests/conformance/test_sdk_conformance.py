"""sprite-sim driven by the official Python SDK (sprites-py). Every failure here is a sim bug."""
import io
import json
import os
import threading
import time
import urllib.request

import pytest
import sprites
from sprites.exceptions import ExecError, NotFoundError, SpriteError

from conftest import control_mode


def sim_control():
    """The sim's control-channel counters (GET /_sim/control: upgrades, open, operations)."""
    with urllib.request.urlopen(os.environ["SPRITES_API_URL"] + "/_sim/control", timeout=10) as r:
        return json.load(r)


def test_create_get_list_destroy(client):
    name = "conf-crud-" + str(int(time.time() * 1000))[-6:]
    created = client.create_sprite(name)
    assert created.name == name
    got = client.get_sprite(name)
    assert got.name == name
    assert got.status in ("cold", "warm", "running")
    names = [s.name for s in client.list_all_sprites(prefix="conf-crud-")]
    assert name in names
    page = client.list_sprites()
    assert any(s.name == name for s in page.sprites)
    client.delete_sprite(name)
    with pytest.raises((NotFoundError, SpriteError)):
        client.get_sprite(name)


def test_stdout_and_exit_zero(sprite):
    assert sprite.command("echo", "hello", "world").output() == b"hello world\n"


def test_stderr_and_nonzero_exit(sprite):
    with pytest.raises(ExecError) as err:
        sprite.run("sh", "-c", "printf 'command failed\\n' >&2; exit 7", capture_output=True, check=True)
    assert err.value.exit_code() == 7
    assert err.value.stderr == b"command failed\n"


def test_exit_42(sprite):
    r = sprite.run("sh", "-c", "exit 42", capture_output=True)
    assert r.returncode == 42


def test_stdin_to_cat(sprite):
    data = b"line one\nline two\n" * 1000
    out = sprite.command("cat", stdin=io.BytesIO(data)).output()
    assert out == data


def test_env_and_dir(sprite):
    home = sprite.command("sh", "-c", "echo $HOME").output().decode().strip()
    sprite.command("mkdir", "-p", "work").output()
    out = sprite.command("sh", "-c", "echo $FOO; pwd", env={"FOO": "bar baz", "PATH": "/usr/bin:/bin"},
                         cwd=home + "/work").output()
    assert out.decode() == f"bar baz\n{home}/work\n"


def test_pwd_is_home(sprite):
    home = sprite.command("sh", "-c", "echo $HOME").output().decode().strip()
    assert sprite.command("pwd").output().decode().strip() == home


def test_non_tty_has_no_tty(sprite):
    r = sprite.run("tty", capture_output=True)
    assert r.returncode == 1
    assert b"not a tty" in r.stdout


def test_tty_stty_size(sprite):
    assert sprite.command("stty", "size", tty=True).output().strip() == b"24 80"
    assert sprite.command("stty", "size", tty=True, tty_rows=40, tty_cols=120).output().strip() == b"40 120"


def test_list_sessions_and_attach(sprite):
    result = {}

    def run_long():
        result["out"] = sprite.command("sh", "-c", "echo ready; sleep 2; echo done", tty=True).output()

    t = threading.Thread(target=run_long)
    t.start()
    session = None
    for _ in range(50):
        sessions = sprite.list_sessions()
        session = next((s for s in sessions if "sleep 2" in s.command), None)
        if session:
            break
        time.sleep(0.05)
    assert session is not None, "running session not listed"
    assert session.tty is True
    attached = sprite.attach_session(str(session.id)).output()
    t.join(10)
    assert b"ready" in attached, "scrollback replayed on attach"
    assert b"done" in attached
    assert b"done" in result["out"]


def test_checkpoint_and_restore(sprite):
    fs = sprite.filesystem("/home/sprite")
    (fs / "state.txt").write_text("before")
    msgs = list(sprite.create_checkpoint("conformance"))
    assert msgs and msgs[-1].type == "complete"
    cps = sprite.list_checkpoints()
    cp = next(c for c in cps if c.comment == "conformance")
    assert cp.id.startswith("v")
    assert sprite.get_checkpoint(cp.id).id == cp.id
    (fs / "state.txt").write_text("after")
    msgs = list(sprite.restore_checkpoint(cp.id))
    assert msgs[-1].type == "complete"
    assert (fs / "state.txt").read_text() == "before"


def test_filesystem_write_read_list(sprite):
    fs = sprite.filesystem("/home/sprite")
    (fs / "dir" / "a.txt").write_text("alpha")
    (fs / "dir" / "b.bin").write_bytes(b"\x00\x01\x02")
    assert (fs / "dir" / "a.txt").read_text() == "alpha"
    assert (fs / "dir" / "b.bin").read_bytes() == b"\x00\x01\x02"
    assert sorted((fs / "dir").listdir()) == ["a.txt", "b.bin"]
    # stat() of a file returns the file itself (a file path lists as its only entry). The SDK's
    # stat() of a folder reads the folder's first child (§7 defines no self-entry), so not asserted.
    assert (fs / "dir" / "a.txt").is_file()
    assert not (fs / "dir" / "missing").exists()
    assert (fs / "dir" / "a.txt").stat().size == 5
    # The command sees what the filesystem API wrote.
    assert sprite.command("cat", "dir/a.txt").output() == b"alpha"


def test_wrong_token_is_rejected(client):
    bad = sprites.SpritesClient(token="wrong", base_url=client.base_url)
    with pytest.raises(SpriteError):
        bad.list_sprites()


def test_commands_take_the_transport_of_the_mode(sprite):
    """Control mode: the commands share one control WebSocket. Otherwise: none touches /control."""
    before = sim_control()
    for i in range(5):
        assert sprite.command("sh", "-c", f"echo {i}").output() == f"{i}\n".encode()
    after = sim_control()
    if control_mode():
        assert after["operations"] - before["operations"] == 5
        assert after["upgrades"] - before["upgrades"] <= 1, "one connection, reused"
        assert sprite.has_control_connection()
    else:
        assert after["operations"] == before["operations"]
        assert after["upgrades"] == before["upgrades"]
