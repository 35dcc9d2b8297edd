"""The CLI itself, as scripts use it."""


def test_version(ckpt):
    assert ckpt("--version").stdout.strip() == "0.1.0"


def test_unknown_file_is_an_error(ckpt, tmp_path):
    bad = tmp_path / "x.bin"
    bad.write_bytes(b"not a checkpoint at all")
    result = ckpt("inspect", bad, check=False)
    assert result.returncode == 1
    assert str(bad) in result.stderr
