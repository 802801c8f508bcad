"""Identity-data protection: tokens, masking, key handling and log redaction."""

import logging
import os

import pytest

from fengkong.events import pii


def test_tokens_are_keyed_deterministic_and_normalised():
    a, b = pii.Tokenizer(b"a" * 32), pii.Tokenizer(b"b" * 32)
    assert a.token("phone", "138 1234 5678") == a.token("phone", "+8613812345678")
    assert a.token("phone", "13812345678") != b.token("phone", "13812345678")
    assert a.token("phone", "13812345678") != a.token("card", "13812345678")
    assert "13812345678" not in a.token("phone", "13812345678")
    assert a.token("id", None) is None
    assert "key" not in repr(a) or "hidden" in repr(a)


def test_masks():
    assert pii.mask_id("110101199001011234") == "110***********1234"
    assert pii.mask_phone("13812345678") == "138****5678"
    assert pii.mask_card("6222021234567890123") == "6222***********0123"
    assert pii.mask_name("张三丰") == "张**"


def test_key_file_created_with_restrictive_mode(tmp_path, monkeypatch):
    monkeypatch.delenv(pii.KEY_ENV, raising=False)
    path = tmp_path / "k" / "pii.key"
    with pytest.raises(pii.PiiKeyError, match="no tokenisation key"):
        pii.load_key(key_file=path)
    key = pii.load_key(create=True, key_file=path)
    assert len(key) == 32 and os.stat(path).st_mode & 0o777 == 0o600
    assert pii.load_key(key_file=path) == key
    os.chmod(path, 0o644)
    with pytest.raises(pii.PiiKeyError, match="readable by others"):
        pii.load_key(key_file=path)


def test_log_redaction(caplog):
    logger = logging.getLogger("fengkong.test.redact")
    handler = logging.StreamHandler()
    logger.addHandler(handler)
    pii.install_log_redaction(logger)
    assert "110101199001011234" not in pii.redact("id 110101199001011234 phone 13812345678")
    assert "13812345678" not in pii.redact("call 13812345678 now")
    assert "6222021234567890123" not in pii.redact("card 6222021234567890123")
    rec = logging.LogRecord("x", logging.INFO, __file__, 1, "id=%s", ("110101199001011234",), None)
    handler.filters[0].filter(rec)
    assert rec.getMessage() == "id=110***********1234"
