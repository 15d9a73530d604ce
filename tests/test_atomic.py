"""Atomic writes: whole files with ordinary permissions, or nothing at all."""

import os
import stat

import pytest

from declare.atomic import atomic_path


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_written_file_gets_the_permissions_open_would_give(tmp_path, umask_022):
    target = tmp_path / "out.txt"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        tmp.write_text("done")
    assert target.read_text() == "done"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # not mkstemp's 0600
    assert list(tmp_path.iterdir()) == [target]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize("hard_links", [True, False])
def test_no_replace_keeps_a_file_that_appeared_and_leaves_no_part(tmp_path, monkeypatch, hard_links):
    import os

    from declare.atomic import atomic_path

    if not hard_links:  # a file system without them: the exclusive-create fallback
        def no_link(*a):
            raise PermissionError("hard links not supported")
        monkeypatch.setattr(os, "link", no_link)
    target = tmp_path / "x.jpg"
    with atomic_path(target, replace=False) as tmp:
        tmp.write_bytes(b"first")
    assert target.read_bytes() == b"first"
    with pytest.raises(FileExistsError):
        with atomic_path(target, replace=False) as tmp:
            tmp.write_bytes(b"second")
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["x.jpg"]
