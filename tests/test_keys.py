"""The key file and the sealing of single values, without a database: where the keys come from,
how the file is written, what each kind of broken key material says, and that sealing round-
trips any text yet refuses a value moved to another field or person."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest
from conftest import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from gbv_risk.errors import KeyMaterialError, RecordError
from gbv_risk.protect import keys as K
from gbv_risk.protect.identity import key_id_of, match_hash, normalise_national_id, seal, unseal


@pytest.fixture
def keyenv(tmp_path, monkeypatch):
    """A key-file location of its own (nothing there yet); no keys from the environment."""
    path = tmp_path / "conf" / "keys.json"
    monkeypatch.setenv("GBV_RISK_KEY_FILE", str(path))
    monkeypatch.delenv("GBV_RISK_KEYS", raising=False)
    return path


@pytest.fixture(scope="module")
def ring():
    key = K.new_key()
    return K.Keyring({key.id: key}, key.id, "a test ring")


# --- where the keys come from --------------------------------------------------------------

def test_key_file_location_follows_env_then_xdg_then_home(tmp_path, monkeypatch):
    monkeypatch.delenv("GBV_RISK_KEY_FILE", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert K.key_file_path() == tmp_path / "home" / ".config" / "gbv-risk" / "keys.json"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert K.key_file_path() == tmp_path / "xdg" / "gbv-risk" / "keys.json"
    monkeypatch.setenv("GBV_RISK_KEY_FILE", str(tmp_path / "named.json"))
    assert K.key_file_path() == tmp_path / "named.json"
    assert K.key_file_path(tmp_path / "explicit.json") == tmp_path / "explicit.json"


def test_init_writes_a_0600_file_with_two_32_byte_keys_and_refuses_to_overwrite(keyenv):
    r = run_cli("keys", "init")
    assert r.returncode == 0, r.stderr
    assert str(keyenv) in r.stdout and "back this file up" in r.stderr
    assert stat.S_IMODE(keyenv.stat().st_mode) == 0o600
    data = json.loads(keyenv.read_text())
    assert (data["format"], data["version"]) == ("gbv-risk-keys", 1)
    (entry,) = data["keys"]
    assert data["current"] == entry["id"] and entry["created"]
    assert len(base64.b64decode(entry["data_key"])) == 32
    assert len(base64.b64decode(entry["match_key"])) == 32
    assert entry["data_key"] != entry["match_key"]
    before = keyenv.read_bytes()

    again = run_cli("keys", "init")
    assert again.returncode == 10
    assert "already exists" in again.stderr and str(keyenv) in again.stderr
    assert "Traceback" not in again.stderr
    assert keyenv.read_bytes() == before            # untouched

    forced = run_cli("keys", "init", "--force")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(keyenv.read_text())["current"] != data["current"]


def test_init_with_file_option_writes_there(tmp_path, keyenv):
    other = tmp_path / "elsewhere" / "team.json"
    r = run_cli("keys", "init", "--file", str(other))
    assert r.returncode == 0, r.stderr
    assert other.exists() and not keyenv.exists()
    assert K.load_keyring(other).current_id in r.stdout


def test_keys_can_come_whole_from_the_environment(keyenv, monkeypatch):
    ring = K.init_keyfile()
    text = keyenv.read_text()
    keyenv.unlink()
    monkeypatch.setenv("GBV_RISK_KEYS", text)
    from_env = K.load_keyring()
    assert from_env.current_id == ring.current_id
    assert from_env.current.data == ring.current.data and "GBV_RISK_KEYS" in from_env.source
    monkeypatch.setenv("GBV_RISK_KEYS", "{not json")
    with pytest.raises(KeyMaterialError, match="GBV_RISK_KEYS is not a usable"):
        K.load_keyring()


# --- what broken key material says -----------------------------------------------------------

def test_missing_key_file_names_it_and_says_run_keys_init(keyenv):
    with pytest.raises(KeyMaterialError) as err:
        K.load_keyring()
    assert str(keyenv) in str(err.value) and "gbv-risk keys init" in str(err.value)
    r = run_cli("keys", "status")
    assert r.returncode == 10 and "no key file at" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: "{ this is not json", "not a usable gbv-risk key file"),
    (lambda d: json.dumps({**d, "current": "k-other"}), "current key 'k-other' is not among"),
    (lambda d: json.dumps({**d, "keys": [{**d["keys"][0], "data_key": "c2hvcnQ="}]}),
     "decodes to 5 bytes, not 32"),
    (lambda d: json.dumps({**d, "keys": [{**d["keys"][0], "match_key": "%%%"}]}), "not base64"),
    (lambda d: json.dumps({**d, "version": 7}), "version"),
    (lambda d: json.dumps({**d, "keys": d["keys"] * 2}), "appears twice"),
])
def test_corrupt_key_file_is_named_with_what_is_wrong_and_what_to_do(keyenv, mutate, expected):
    K.init_keyfile()
    keyenv.write_text(mutate(json.loads(keyenv.read_text())))
    with pytest.raises(KeyMaterialError, match=expected) as err:
        K.load_keyring()
    assert str(keyenv) in str(err.value) and "backup" in str(err.value)
    r = run_cli("keys", "status")
    assert r.returncode == 10 and str(keyenv) in r.stderr and "Traceback" not in r.stderr


def test_unreadable_key_file_says_so(keyenv):
    keyenv.mkdir(parents=True)           # a folder where the file should be: cannot be read
    with pytest.raises(KeyMaterialError, match="cannot read the key file") as err:
        K.load_keyring()
    assert str(keyenv) in str(err.value)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(keyenv, monkeypatch):
    ring = K.init_keyfile()
    before = keyenv.read_bytes()

    def boom(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyMaterialError, match=r"No space left.*nothing was changed"):
        K.write_keyfile(keyenv, K.with_new_current(ring))
    assert keyenv.read_bytes() == before
    assert sorted(p.name for p in keyenv.parent.iterdir()) == ["keys.json"]


# --- sealing ---------------------------------------------------------------------------------

KARAKALPAK = "ÁáǴǵÍıŃńÓóÚúÝý"
texts = st.text(alphabet=st.one_of(st.characters(blacklist_categories=("Cs",)),
                                   st.sampled_from(KARAKALPAK),
                                   st.characters(min_codepoint=0x400, max_codepoint=0x4FF)),
                max_size=300)


@settings(max_examples=200, deadline=None)
@given(value=texts, subject_id=st.integers(1, 2**31 - 1),
       field=st.sampled_from(["full_name", "phone", "address", "national_id", "birth_date"]))
def test_seal_then_unseal_gives_back_any_text(ring, value, subject_id, field):
    """Any text that can be text (lone surrogates cannot: see the next test)."""
    blob = seal(ring, field, subject_id, value)
    assert key_id_of(blob) == ring.current_id
    assert unseal(ring, field, subject_id, blob, "x") == value
    if len(value.encode()) >= 8:                      # the sealed part never shows the text
        assert value.encode() not in blob[2 + blob[1]:]


def test_each_sealing_uses_a_fresh_nonce(ring):
    a, b = (seal(ring, "full_name", 1, "Ájiniyaz Sintetikov") for _ in range(2))
    assert a != b


def test_a_value_moved_to_another_subject_or_field_fails_authentication(ring):
    blob = seal(ring, "full_name", 7, "Гулнара Синтетова")
    with pytest.raises(KeyMaterialError, match="failed authentication"):
        unseal(ring, "full_name", 8, blob, "the identity of subject S-8")
    with pytest.raises(KeyMaterialError, match="failed authentication"):
        unseal(ring, "address", 7, blob, "the identity of subject S-7")
    with pytest.raises(KeyMaterialError, match="failed authentication"):
        unseal(ring, "full_name", 7, blob, "x", table="other_table")


def test_a_flipped_bit_or_truncation_is_refused(ring):
    blob = bytearray(seal(ring, "phone", 3, "+998 00 000 00 00"))
    blob[-1] ^= 1
    with pytest.raises(KeyMaterialError, match="failed authentication"):
        unseal(ring, "phone", 3, bytes(blob), "x")
    with pytest.raises(KeyMaterialError, match="altered or truncated"):
        unseal(ring, "phone", 3, bytes(blob[:10]), "x")


def test_a_value_under_a_key_the_ring_lacks_names_the_key_and_the_source(ring):
    other_key = K.new_key()
    other = K.Keyring({other_key.id: other_key}, other_key.id, "the key file /x/keys.json")
    blob = seal(other, "full_name", 1, "Synthetic")
    with pytest.raises(KeyMaterialError) as err:
        unseal(ring, "full_name", 1, blob, "the identity of subject S-1")
    msg = str(err.value)
    assert other_key.id in msg and "a test ring" in msg and "restore" in msg


# --- matching ----------------------------------------------------------------------------------

def test_national_ids_match_however_they_are_spelt_and_only_under_the_same_key(ring):
    spellings = ["AB 123-45-67", "ab1234567", " ab–123 45 67 ", "Ab-1234567"]
    assert {normalise_national_id(s) for s in spellings} == {"AB1234567"}
    hashes = {match_hash(ring, s) for s in spellings}
    assert len(hashes) == 1
    (h,) = hashes
    assert len(h) == 64 and "1234567" not in h
    assert match_hash(ring, "AB1234568") != h
    other_key = K.new_key()
    other = K.Keyring({other_key.id: other_key}, other_key.id, "other")
    assert match_hash(other, "AB1234567") != h
    with pytest.raises(RecordError, match="at least one letter or digit"):
        match_hash(ring, " -- ")


@given(value=st.text(alphabet=st.characters(categories=("Cs",)), min_size=1, max_size=5))
def test_a_value_that_is_not_text_is_refused_clearly(ring, value):
    """A command-line argument holding bytes that are not UTF-8 arrives with lone surrogates."""
    from gbv_risk.errors import RecordError

    with pytest.raises(RecordError, match="not valid text"):
        seal(ring, "full_name", 1, "Ali" + value)
