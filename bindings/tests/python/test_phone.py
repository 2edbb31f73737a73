"""The phone through the generated Python bindings: two phones on the simulated air exchange payloads, one
reports positive, a signed export is built, and the other finds the exposed day; plus error cases.

Run by scripts/test-bindings-python, which generates the bindings into OPENZONE_PY_BINDINGS.
"""

import asyncio
import gc
import json
import os
import sys
import tempfile
import threading
import time

import pytest

sys.path.insert(0, os.environ["OPENZONE_PY_BINDINGS"])
import openzone_ffi as oz  # noqa: E402


DAY_MS = 86_400_000


class ShiftedClock(oz.WallClock):
    """Real time plus an offset the test can move forward."""

    def __init__(self):
        self.offset_ms = 0

    def now_ms(self):
        return int(time.time() * 1000) + self.offset_ms


class Recorder(oz.PhoneListener):
    """Collects what the phone tells the UI, from the core's own threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.states = []
        self.errors = []
        self.days_at_risk = []
        self.presence_warnings = []

    def state_changed(self, state):
        with self.lock:
            self.states.append(state)

    def sightings_recorded(self, today):
        pass

    def day_at_risk(self, day):
        with self.lock:
            self.days_at_risk.append(day.date)

    def presence_warning(self, warning):
        with self.lock:
            self.presence_warnings.append(warning)

    def sync_progress(self, done, total):
        pass

    def error(self, message):
        with self.lock:
            self.errors.append(message)


def settings(directory, key=b"\x11" * 32, export_keys=()):
    return oz.PhoneSettings(
        data_dir=directory,
        data_key=key,
        scheme=oz.IdentifierScheme.EN_V1,
        device=oz.DeviceModel(manufacturer="samsung", device="beyond1", model="SM-G973F"),
        risk_config_json=None,
        key_server_url=None,
        export_keys=list(export_keys),
        upload_sealing_keys=[],
    )


@pytest.fixture
def tmp():
    with tempfile.TemporaryDirectory() as d:
        yield d


def test_two_phones_exchange_and_the_exposure_is_found(tmp):
    signing = oz.generate_signing_key()
    export_key = oz.ExportPublicKey(key_id="310", version="v1", pem=signing.public_pem)
    clock = ShiftedClock()
    # The lesson starts at 08:00 UTC today (virtual time), so that it never runs past midnight.
    now_ms = int(time.time() * 1000)
    clock.offset_ms = now_ms // DAY_MS * DAY_MS + 8 * 3600 * 1000 - now_ms
    air = oz.SimulatedAir(7)
    alice_radio = air.add_phone(0.0, 0.0, False)
    bob_radio = air.add_phone(1.0, 0.0, True)  # an iPhone in the background: read over GATT
    listener = Recorder()
    alice = oz.OpenZonePhone(settings(os.path.join(tmp, "alice")), alice_radio.platform(), listener, clock)
    bob_listener = Recorder()
    bob = oz.OpenZonePhone(settings(os.path.join(tmp, "bob"), export_keys=[export_key]), bob_radio.platform(), bob_listener, clock)
    air.connect(alice_radio, alice)
    air.connect(bob_radio, bob)
    for phone in (alice, bob):
        phone.set_qa_mode(True)
        phone.start()
    # A 50-minute lesson side by side: a few seconds of radio, then five minutes later, ten times.
    deadline = time.time() + 60
    for _ in range(10):
        heard = bob.counters().sightings
        while time.time() < deadline and bob.counters().sightings < heard + 2:
            air.step(1)
            time.sleep(0.02)
        clock.offset_ms += 5 * 60 * 1000
    while time.time() < deadline and alice.counters().gatt_reads_ok < 1:
        air.step(1)
        time.sleep(0.02)
    assert bob.counters().sightings >= 20, bob.counters()
    assert alice.counters().gatt_reads_ok >= 1, alice.counters()
    assert isinstance(alice.state(), oz.EngineState.RUNNING)
    assert alice.state().mode == oz.ScanModeKind.QA
    assert len(alice.current_gatt_value()) == 20
    assert any(isinstance(s, oz.EngineState.RUNNING) for s in listener.states)
    assert listener.errors == []
    duty = {d.mode: d for d in alice.radio_duty()}
    assert duty[oz.ScanModeKind.BACKGROUND].scanning < 0.02
    assert duty[oz.ScanModeKind.QA].scanning == 1.0

    # Alice tests positive: she consents, her keys are released and she rotates to a fresh key.
    before = alice.current_gatt_value()
    with pytest.raises(oz.OpenZoneError.ConsentRequired):
        alice.release_keys(False, None)
    keys = alice.release_keys(True, None)
    assert len(keys) == 1
    assert alice.current_gatt_value() != before
    zip_bytes = oz.build_signed_export(keys, signing.private_pem, "310", "v1")
    # Three hours later (released keys are published once they expired), Bob checks the export.
    clock.offset_ms += 3 * 3600 * 1000
    summary = asyncio.run(bob.process_export(zip_bytes))
    assert summary.keys_matched == 1
    assert len(summary.days) == 1
    today = time.strftime("%Y-%m-%d", time.gmtime(clock.now_ms() / 1000))
    assert summary.days[0].date == today
    assert summary.days[0].at_risk, summary.days[0]
    assert summary.newly_at_risk == [today]
    assert bob_listener.days_at_risk == [today], "the listener is told once"
    assert [d.date for d in bob.exposure_days()] == [today]
    again = asyncio.run(bob.process_export(zip_bytes))
    assert again.already_processed
    assert bob_listener.days_at_risk == [today], "and not again"
    # Alice never heard her own key: nothing for her.
    assert alice.exposure_days() == []
    for phone in (alice, bob):
        phone.stop()


def test_bad_inputs_are_clear_errors(tmp):
    air = oz.SimulatedAir(1)
    radio = air.add_phone(0.0, 0.0, False)
    with pytest.raises(oz.OpenZoneError.InvalidInput) as e:
        oz.OpenZonePhone(settings(os.path.join(tmp, "a"), key=b"short"), radio.platform(), None, None)
    assert "32 raw bytes" in str(e.value)
    phone = oz.OpenZonePhone(settings(os.path.join(tmp, "b")), radio.platform(), None, None)
    with pytest.raises(oz.OpenZoneError.UntrustedData):
        asyncio.run(phone.process_export(b"not a zip"))
    with pytest.raises(oz.OpenZoneError.UntrustedData):
        asyncio.run(phone.process_export(b""))
    other = oz.generate_signing_key()
    unknown = oz.build_signed_export([], other.private_pem, "999", "v1")
    with pytest.raises(oz.OpenZoneError.UntrustedData) as e:
        asyncio.run(phone.process_export(unknown))
    assert "signature" in str(e.value)
    with pytest.raises(oz.OpenZoneError.InvalidInput):
        phone.release_keys(True, "2026-13-40")
    with pytest.raises(oz.OpenZoneError.InvalidInput):
        oz.build_signed_export([oz.ReportKey(key_data="zz", rolling_start_interval=2_900_000, rolling_period=144, days_since_onset=None)], other.private_pem, "1", "v1")
    with pytest.raises(oz.OpenZoneError.InvalidInput):
        asyncio.run(phone.report_positive("12345678", None, True))
    phone.stop()


def test_a_wrong_data_key_is_refused_and_destroys_nothing(tmp):
    air = oz.SimulatedAir(1)
    radio = air.add_phone(0.0, 0.0, False)
    phone = oz.OpenZonePhone(settings(os.path.join(tmp, "d")), radio.platform(), None, None)
    assert phone.release_keys(True, None) == [], "no key was ever used"
    phone.start()
    deadline = time.time() + 5
    while phone.current_gatt_value() is None and time.time() < deadline:
        time.sleep(0.01)
    released = phone.release_keys(True, None)
    assert len(released) == 1
    phone.stop()
    # Dropping the last reference closes the store.
    del phone
    gc.collect()
    with pytest.raises(oz.OpenZoneError.WrongDataKey):
        oz.OpenZonePhone(settings(os.path.join(tmp, "d"), key=b"\x22" * 32), radio.platform(), None, None)
    reopened = oz.OpenZonePhone(settings(os.path.join(tmp, "d")), radio.platform(), None, None)
    assert reopened.release_keys(True, None)[0] == released[0], "the released key is still there"


def test_a_failing_platform_is_reported_not_fatal(tmp):
    class Broken(oz.BlePlatform):
        def start_advertising(self, plan):
            raise oz.RadioError.Refused("advertising is not supported on this phone")

        def stop_advertising(self):
            pass

        def start_scanning(self, filter):
            pass

        def stop_scanning(self):
            pass

        def read_gatt(self, peer):
            pass

    phone = oz.OpenZonePhone(settings(os.path.join(tmp, "c")), Broken(), None, None)
    phone.start()
    deadline = time.time() + 5
    while time.time() < deadline and not isinstance(phone.state(), oz.EngineState.FAILING):
        time.sleep(0.05)
    state = phone.state()
    assert isinstance(state, oz.EngineState.FAILING), state
    assert "not supported" in state.message
    phone.set_bluetooth_enabled(False)
    assert isinstance(phone.state(), oz.EngineState.BLUETOOTH_OFF)
    phone.stop()


def test_the_protocol_constants_come_from_the_core():
    c = oz.protocol_constants()
    assert (c.retention_days, c.code_digits, c.en_intervals_per_day) == (14, 8, 144)
    assert c.en_interval_secs * c.en_intervals_per_day == 86400
    assert c.rssi_unknown == 127


def test_deleting_the_data_seals_under_a_new_key(tmp):
    air = oz.SimulatedAir(1)
    radio = air.add_phone(0.0, 0.0, False)
    phone = oz.OpenZonePhone(settings(os.path.join(tmp, "e")), radio.platform(), None, None)
    phone.start()
    deadline = time.time() + 5
    while phone.current_gatt_value() is None and time.time() < deadline:
        time.sleep(0.01)
    assert phone.storage().own_keys == 1
    with pytest.raises(oz.OpenZoneError.InvalidInput):
        phone.delete_all_data(b"short")
    phone.delete_all_data(b"\x33" * 32)
    phone.stop()
    assert phone.storage().own_keys <= 1, "only the fresh key the rotation took"
    del phone
    gc.collect()
    with pytest.raises(oz.OpenZoneError.WrongDataKey):
        oz.OpenZonePhone(settings(os.path.join(tmp, "e")), radio.platform(), None, None)
    oz.OpenZonePhone(settings(os.path.join(tmp, "e"), key=b"\x33" * 32), radio.platform(), None, None)


# A gate poster that keeps a visitor log (made with `openzone venue create --visitor-log`).
GATE = (
    "openzone://checkin?v=1#CAESJggBEhBD4buVbmcgdHLGsOG7nW5nGhBD4buVbmcgdHLGsOG7nW5nGnYIARJggwLMzE153tQw"
    "AOf2MZoUXXfzWTdlSpfS99iZffmcmxOG9njSK4RTimFOFwDh6t0Tyw8XR01ugDYjtuKwjjuK49Oh83FWct6XpefPi9Skjxvvz53i"
    "9gaMmUEc96pbtoaAGhCouzKQphm2sGSzQehrluNpIisIARAHGC3CPiIKIORWSkq_PllCnunv5YunRH68wkI7RNZ3SqQyIeGMiy8-"
)


def test_a_family_declares_and_sees_what_a_registration_would_send(tmp):
    air = oz.SimulatedAir(1)
    radio = air.add_phone(0.0, 0.0, False)
    phone = oz.OpenZonePhone(settings(os.path.join(tmp, "family")), radio.platform(), None, None)
    assert phone.set_phone_number("0912 345 678") == "0912345678"
    phone.add_profile("Nguyễn Thị Lan", None, 1985)
    phone.add_profile("Trần Minh An", "3B", 2016)
    phone.add_profile("Trần Bảo Ngọc", "5A", None)
    assert [p.name for p in phone.profiles()] == ["Nguyễn Thị Lan", "Trần Bảo Ngọc", "Trần Minh An"]
    with pytest.raises(oz.OpenZoneError.InvalidInput) as e:
        phone.add_profile("Trần Minh An", None, None)
    assert "exists already" in str(e.value)

    schema = json.loads(phone.declaration_schema_json())
    assert schema["id"] == "vn-moh-2021"
    assert all(q["label"]["vi"] and q["label"]["en"] for q in schema["questions"])
    assert phone.declaration_missing_today("Trần Minh An")
    assert phone.declare_all_clear("Nguyễn Thị Lan").result == "clear"
    answers = {q["id"]: False for q in schema["questions"] if q["answer"]["type"] == "yes_no"}
    answers["fever"] = True
    declared = phone.declare("Trần Minh An", json.dumps(answers))
    assert (declared.result, declared.reasons) == ("symptoms", ["fever"])
    assert "school nurse" in declared.message
    assert not phone.declaration_missing_today("Trần Minh An")
    with pytest.raises(oz.OpenZoneError.InvalidInput) as e:
        phone.declare("Trần Bảo Ngọc", json.dumps({"fever": "maybe", "temperature": 50}))
    assert "temperature" in str(e.value) and "fever" in str(e.value)
    with pytest.raises(oz.OpenZoneError.InvalidInput):
        phone.declare("Trần Bảo Ngọc", "{not json")
    assert len(phone.declarations()) == 2

    entries = phone.visitor_registration(GATE, ["Nguyễn Thị Lan", "Trần Minh An", "Trần Bảo Ngọc"])
    assert [(e.name, e.declaration, e.phone) for e in entries] == [
        ("Nguyễn Thị Lan", "clear", "0912345678"),
        ("Trần Minh An", "symptoms", "0912345678"),
        ("Trần Bảo Ngọc", "none", "0912345678"),
    ]
    with pytest.raises(oz.OpenZoneError.ConsentRequired):
        asyncio.run(phone.register_visit(GATE, ["Trần Minh An"], False))
    with pytest.raises(oz.OpenZoneError.InvalidInput) as e:
        asyncio.run(phone.register_visit(GATE, ["Trần Minh An"], True))
    assert "key server" in str(e.value)
    with pytest.raises(oz.OpenZoneError.InvalidInput):
        phone.visitor_registration(GATE, ["Nobody"])
    phone.remove_profile("Trần Bảo Ngọc")
    assert len(phone.profiles()) == 2
    phone.stop()


def test_check_in_out_and_a_presence_warning(tmp):
    air = oz.SimulatedAir(1)
    radio = air.add_phone(0.0, 0.0, False)
    signing = oz.generate_signing_key()
    export_key = oz.ExportPublicKey(key_id="310", version="v1", pem=signing.public_pem)
    listener = Recorder()
    phone = oz.OpenZonePhone(settings(os.path.join(tmp, "c"), export_keys=[export_key]), radio.platform(), listener, None)
    now = int(time.time())
    link = oz.make_classroom_link("Lớp 9A", now)
    entry = phone.check_in_link(link, now - 1800, None)
    assert entry.description == "Lớp 9A" and entry.active
    assert entry.departure == now - 1800 + 45 * 60
    # Scanned again during the stay: the same stay, extended.
    again = phone.check_in_link(link, None, 60)
    assert again.id == entry.id and again.departure == now + 3600
    for bad in ("", "https://zalo.me/g/x", "openzone://checkin?v=2#CAE", link[:-10]):
        with pytest.raises(oz.OpenZoneError.InvalidInput):
            phone.check_in_link(bad, None, None)
    with pytest.raises(oz.OpenZoneError.InvalidInput):
        phone.check_in_link(link, now + 3600, None)
    with pytest.raises(oz.OpenZoneError.InvalidInput):
        phone.check_in_image(b"not an image", None, None)
    out = phone.check_out(None, None)
    assert [e.id for e in out] == [entry.id] and out[0].checked_out
    # Yesterday 10:00 to 10:45 UTC, away from midnight.
    lesson = now - now % 86400 - 86400 + 10 * 3600
    edited = phone.edit_check_in(entry.id, lesson, lesson + 2700)
    assert (edited.arrival, edited.departure) == (lesson, lesson + 2700)
    assert [e.id for e in phone.check_ins()] == [entry.id]
    # A case was there for the last 40 minutes of the lesson: one warning, told once.
    package = oz.build_warning_package(link, lesson + 300, lesson + 3600, signing.private_pem, "310", "v1")
    found = phone.process_warning_package(package)
    assert [w.description for w in found] == ["Lớp 9A"]
    assert found[0].at_risk and found[0].minutes >= 30
    assert phone.process_warning_package(package) == []
    assert [w.check_in_id for w in listener.presence_warnings] == [entry.id]
    assert len(phone.presence_warnings()) == 1
    with pytest.raises(oz.OpenZoneError.UntrustedData):
        phone.process_warning_package(b"not a zip")
    phone.stop()
