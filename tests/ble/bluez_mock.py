#!/usr/bin/env python3
"""Drives python-dbusmock's bluez5 template for the BLE tests (tests/tests/ble_*.rs).

Each call does one thing on the mock that answers as org.bluez on the bus in DBUS_SYSTEM_BUS_ADDRESS
(a private dbus-daemon the test started) and prints its result as JSON:

    bluez_mock.py wait                                  until org.bluez answers (10 s at most)
    bluez_mock.py add-adapter hci0                      an adapter, with GATT registration added
    bluez_mock.py add-device hci0 AA:BB:CC:DD:EE:01     a device as BlueZ adds one it discovered
    bluez_mock.py update hci0 AA:BB:CC:DD:EE:01 --rssi -60 --tx-power -7 \\
        --service-data 00004e56-0000-1000-8000-00805f9b34fb=HEX --manufacturer-data 0x22B5=HEX
                                                        an advertisement heard: the properties change
    bluez_mock.py set-powered hci0 false                the adapter switched off or on
    bluez_mock.py calls hci0 METHOD                     how often METHOD was called on the adapter
    bluez_mock.py advertisement hci0 PID                what process PID registered as its advertisement

The template lacks GattManager1 (RegisterApplication), so add-adapter adds it as methods that accept
anything: the tests check that the application is registered, not what BlueZ would do with it.
"""

import argparse
import json
import sys
import time

import dbus

BLUEZ = "org.bluez"
MOCK_IFACE = "org.bluez.Mock"
DBUSMOCK_IFACE = "org.freedesktop.DBus.Mock"
DEVICE_IFACE = "org.bluez.Device1"
ADAPTER_IFACE = "org.bluez.Adapter1"
GATT_MANAGER_IFACE = "org.bluez.GattManager1"
ADVERTISEMENT_IFACE = "org.bluez.LEAdvertisement1"


def bus():
    return dbus.SystemBus()


def device_path(adapter, address):
    return f"/org/bluez/{adapter}/dev_{address.replace(':', '_').upper()}"


def wait(_args):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            bus().get_object(BLUEZ, "/org/bluez").Introspect(dbus_interface="org.freedesktop.DBus.Introspectable")
            return {"ready": True}
        except dbus.exceptions.DBusException:
            time.sleep(0.05)
    raise SystemExit("org.bluez did not appear on the bus within 10 s")


def add_adapter(args):
    root = bus().get_object(BLUEZ, "/")
    path = root.AddAdapter(args.adapter, "openzone-test", dbus_interface=MOCK_IFACE)
    adapter = bus().get_object(BLUEZ, path)
    adapter.AddMethods(
        GATT_MANAGER_IFACE,
        [("RegisterApplication", "oa{sv}", "", ""), ("UnregisterApplication", "o", "", "")],
        dbus_interface=DBUSMOCK_IFACE,
    )
    return {"path": str(path)}


def add_device(args):
    root = bus().get_object(BLUEZ, "/")
    path = root.AddDevice(args.adapter, args.address, "", dbus_interface=MOCK_IFACE)
    return {"path": str(path)}


def update(args):
    props = {}
    if args.rssi is not None:
        props["RSSI"] = dbus.Int16(args.rssi)
    if args.tx_power is not None:
        props["TxPower"] = dbus.Int16(args.tx_power)
    if args.service_data:
        props["ServiceData"] = dbus.Dictionary(
            {uuid: dbus.Array(bytes.fromhex(value), signature="y") for uuid, value in map(split, args.service_data)},
            signature="sv",
        )
    if args.manufacturer_data:
        props["ManufacturerData"] = dbus.Dictionary(
            {
                dbus.UInt16(int(company, 0)): dbus.Array(bytes.fromhex(value), signature="y")
                for company, value in map(split, args.manufacturer_data)
            },
            signature="qv",
        )
    device = bus().get_object(BLUEZ, device_path(args.adapter, args.address))
    # UpdateProperties stores the values and emits PropertiesChanged, as BlueZ does for an advertisement.
    device.UpdateProperties(DEVICE_IFACE, props, dbus_interface=DBUSMOCK_IFACE)
    return {"updated": sorted(props)}


def set_powered(args):
    adapter = bus().get_object(BLUEZ, f"/org/bluez/{args.adapter}")
    adapter.UpdateProperties(ADAPTER_IFACE, {"Powered": dbus.Boolean(args.on == "true")}, dbus_interface=DBUSMOCK_IFACE)
    return {"powered": args.on == "true"}


def calls(args):
    adapter = bus().get_object(BLUEZ, f"/org/bluez/{args.adapter}")
    log = adapter.GetMethodCalls(args.method, dbus_interface=DBUSMOCK_IFACE)
    return {"count": len(log), "args": [[to_json(a) for a in call_args] for _, call_args in log]}


def advertisement(args):
    """The properties of the advertisement that process PID registered, read back from that process."""
    adapter = bus().get_object(BLUEZ, f"/org/bluez/{args.adapter}")
    paths = [str(call_args[0]) for _, call_args in adapter.GetMethodCalls("RegisterAdvertisement", dbus_interface=DBUSMOCK_IFACE)]
    daemon = bus().get_object("org.freedesktop.DBus", "/org/freedesktop/DBus")
    names = [n for n in daemon.ListNames(dbus_interface="org.freedesktop.DBus") if n.startswith(":")]
    owner = None
    for name in names:
        try:
            if daemon.GetConnectionUnixProcessID(name, dbus_interface="org.freedesktop.DBus") == args.pid:
                owner = name
        except dbus.exceptions.DBusException:
            continue
    if owner is None:
        raise SystemExit(f"no bus connection belongs to process {args.pid}")
    registered = []
    # The newest registration that the process still serves is the one on air.
    for path in reversed(paths):
        try:
            obj = bus().get_object(owner, path, introspect=False)
            props = obj.GetAll(ADVERTISEMENT_IFACE, dbus_interface="org.freedesktop.DBus.Properties")
        except dbus.exceptions.DBusException:
            continue
        registered.append({"path": path, **{k: to_json(v) for k, v in props.items()}})
    return {"owner": owner, "registrations": len(paths), "live": registered}


def split(pair):
    key, _, value = pair.partition("=")
    return key, value


def to_json(value):
    """D-Bus values as JSON: byte arrays become hex, dictionary keys strings."""
    if isinstance(value, dbus.Array) and value.signature == "y":
        return bytes(value).hex()
    if isinstance(value, (dbus.Array, list)):
        return [to_json(v) for v in value]
    if isinstance(value, (dbus.Dictionary, dict)):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, dbus.Boolean):
        return bool(value)
    if isinstance(value, (dbus.Byte, dbus.Int16, dbus.UInt16, dbus.Int32, dbus.UInt32, dbus.Int64, dbus.UInt64)):
        return int(value)
    return str(value)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name, run, *positionals):
        """A subcommand that calls `run` with the named (text) positional arguments."""
        p = sub.add_parser(name)
        for positional in positionals:
            p.add_argument(positional)
        p.set_defaults(run=run)
        return p

    command("wait", wait)
    command("add-adapter", add_adapter, "adapter")
    command("add-device", add_device, "adapter", "address")
    p = command("update", update, "adapter", "address")
    p.add_argument("--rssi", type=int)
    p.add_argument("--tx-power", type=int)
    p.add_argument("--service-data", action="append", metavar="UUID=HEX")
    p.add_argument("--manufacturer-data", action="append", metavar="ID=HEX")
    command("set-powered", set_powered, "adapter").add_argument("on", choices=["true", "false"])
    command("calls", calls, "adapter", "method")
    command("advertisement", advertisement, "adapter").add_argument("pid", type=int)

    args = parser.parse_args()
    json.dump(args.run(args), sys.stdout)
    print()


if __name__ == "__main__":
    main()
