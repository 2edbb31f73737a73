//! BLE payloads: advertisements and GATT values, encoded and decoded.
