//! BLE payloads: advertisements and GATT values, encoded and decoded.
//!
//! What goes on air (legacy advertising, at most 31 bytes):
//!
//! ```text
//! en-v1        Flags 0x1A | Complete List of 16-bit Service UUIDs: 0x4E56 | Service Data 0x4E56: RPI(16) || AEM(4)
//! bluezone-v3  Flags 0x1A | Complete List of 16-bit Service UUIDs: 0x4E56 | Manufacturer Data 0x22B5: ID(12)
//! ```
//!
//! An iPhone in the background cannot put service data on air: it advertises only Apple's manufacturer data
//! (company 0x004C, type 0x01, the "overflow area"), and in the foreground only the 128-bit GATT service
//! UUID. Peers then read the payload from the GATT characteristic ([`GATT_CHARACTERISTIC_UUID`]), whose
//! value is the bare payload: RPI || AEM (20 bytes) or the Bluezone ID (12 bytes). The decoder reports such
//! advertisements as [`Decoded::NeedsGattRead`].
//!
//! Two inputs decode the same way: raw advertisement bytes (Android's `ScanRecord.getBytes()`, an HCI report)
//! are split into AD structures ([`AdvertisementData::parse`]) and then decoded like the structured maps that
//! btleplug and CoreBluetooth hand over ([`AdvertisementData::decode`]). Nothing in here panics on any input.

use uuid::Uuid;

use super::bluezone_v3::BluezoneId;
use super::en_v1::{Aem, Rpi};
use super::Payload;
use crate::error::{Error, PayloadError};

/// OpenZone's 16-bit service UUID, 0x4E56, as the exposure-notification-style service data carries it.
pub const SERVICE_UUID16: u16 = 0x4E56;

/// [`SERVICE_UUID16`] in its 128-bit form on the Bluetooth base UUID, as btleplug and CoreBluetooth key it.
pub const SERVICE_UUID: Uuid = Uuid::from_u128(0x0000_4E56_0000_1000_8000_0080_5F9B_34FB);

/// The primary GATT service peers read the payload from.
pub const GATT_SERVICE_UUID: Uuid = Uuid::from_u128(0x0000_4E56_73F5_4BC4_A12F_17D1_AD07_A667);

/// The read characteristic whose value is the current payload.
pub const GATT_CHARACTERISTIC_UUID: Uuid =
    Uuid::from_u128(0x0000_4E56_73F5_4BC4_A12F_17D1_AD07_A689);

/// The Bluetooth SIG company identifier Bluezone's Android app put its identifier under (on air: B5 22).
pub const BLUEZONE_COMPANY_ID: u16 = 0x22B5;

/// Apple's company identifier; with first byte [`APPLE_OVERFLOW_TYPE`] it marks a backgrounded iPhone app.
pub const APPLE_COMPANY_ID: u16 = 0x004C;

/// The type byte of Apple's "overflow area" manufacturer data.
pub const APPLE_OVERFLOW_TYPE: u8 = 0x01;

/// Flags value sent before the payload: LE General Discoverable, simultaneous LE and BR/EDR capable
/// (controller and host), as the exposure-notification Bluetooth specification shows it.
pub const FLAGS: u8 = 0x1A;

/// The longest advertisement accepted: an extended advertising report's 1,650 bytes. Legacy advertising
/// plus scan response (what Android reports) is 62.
pub const MAX_ADVERTISEMENT_LEN: usize = 1650;

/// Length of an en-v1 payload: RPI (16) followed by AEM (4).
pub const EN_V1_PAYLOAD_LEN: usize = Rpi::LEN + Aem::LEN;

/// AD types this codec reads or writes (Bluetooth Core Supplement, part A, section 1).
mod ad_type {
    pub const FLAGS: u8 = 0x01;
    pub const INCOMPLETE_UUID16: u8 = 0x02;
    pub const COMPLETE_UUID16: u8 = 0x03;
    pub const INCOMPLETE_UUID128: u8 = 0x06;
    pub const COMPLETE_UUID128: u8 = 0x07;
    pub const SERVICE_DATA_UUID16: u8 = 0x16;
    pub const SERVICE_DATA_UUID128: u8 = 0x21;
    pub const TX_POWER_LEVEL: u8 = 0x0A;
    pub const MANUFACTURER_DATA: u8 = 0xFF;
}

/// The parts of an advertisement that matter here, keyed as the platforms key them.
///
/// Built from raw bytes by [`parse`](Self::parse), from a platform's maps by filling the fields, or for our
/// own payload by [`for_payload`](Self::for_payload).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdvertisementData {
    /// Advertised service UUIDs (16-bit ones widened onto the base UUID).
    pub service_uuids: Vec<Uuid>,
    /// Service data by service UUID (16-bit ones widened onto the base UUID).
    pub service_data: Vec<(Uuid, Vec<u8>)>,
    /// Manufacturer-specific data by company identifier, without the two identifier bytes.
    pub manufacturer_data: Vec<(u16, Vec<u8>)>,
    /// The TX power level field, if the advertisement carried one.
    pub tx_power: Option<i8>,
}

/// What an advertisement or GATT value holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decoded {
    /// A payload, ready to record.
    Payload(Payload),
    /// An OpenZone peer whose payload is not on air (an iPhone in the background or foreground): read
    /// the GATT characteristic to get it.
    NeedsGattRead,
}

/// Widens a 16-bit UUID onto the Bluetooth base UUID `0000xxxx-0000-1000-8000-00805F9B34FB`.
pub const fn uuid_from_u16(short: u16) -> Uuid {
    Uuid::from_u128(((short as u128) << 96) | 0x0000_0000_0000_1000_8000_0080_5F9B_34FB)
}

fn malformed(offset: usize, reason: PayloadError) -> Error {
    Error::Advertisement { offset, reason }
}

/// What the AD-structure walker hands over, field by field. The walker checks the structures; sinks only
/// keep what they need, so decoding raw bytes can skip building an [`AdvertisementData`] (a scanner hears
/// far more foreign advertisements than ours).
trait FieldSink<'a> {
    fn service_uuid(&mut self, uuid: Uuid);
    fn service_data(&mut self, uuid: Uuid, value: &'a [u8]);
    fn manufacturer_data(&mut self, company: u16, value: &'a [u8]);
    fn tx_power(&mut self, level: i8);
}

/// Walks the AD structures of `bytes` (`length, type, data`), checking each, and hands the fields that
/// matter to `sink`.
///
/// A zero length ends the significant part; everything after it must be zero padding (Android pads its
/// 62-byte scan record that way). Fields this codec does not use are skipped.
fn walk<'a>(bytes: &'a [u8], sink: &mut impl FieldSink<'a>) -> Result<(), Error> {
    if bytes.len() > MAX_ADVERTISEMENT_LEN {
        return Err(malformed(
            MAX_ADVERTISEMENT_LEN,
            PayloadError::TooLong { len: bytes.len() },
        ));
    }
    let mut offset = 0;
    let mut tx_seen = false;
    while let Some(&len) = bytes.get(offset) {
        let len = usize::from(len);
        if len == 0 {
            if let Some(pos) = bytes[offset..].iter().position(|&b| b != 0) {
                return Err(malformed(offset + pos, PayloadError::DataAfterEnd));
            }
            break;
        }
        let field = bytes
            .get(offset + 1..offset + 1 + len)
            .ok_or_else(|| malformed(offset, PayloadError::Truncated { len }))?;
        walk_field(field[0], &field[1..], &mut tx_seen, sink)
            .map_err(|reason| malformed(offset, reason))?;
        offset += 1 + len;
    }
    Ok(())
}

fn walk_field<'a>(
    kind: u8,
    value: &'a [u8],
    tx_seen: &mut bool,
    sink: &mut impl FieldSink<'a>,
) -> Result<(), PayloadError> {
    match kind {
        ad_type::INCOMPLETE_UUID16 | ad_type::COMPLETE_UUID16 => {
            let chunks = value.chunks_exact(2);
            if !chunks.remainder().is_empty() {
                return Err(PayloadError::BadUuidList { kind });
            }
            chunks.for_each(|c| sink.service_uuid(uuid_from_u16(u16::from_le_bytes([c[0], c[1]]))));
        }
        ad_type::INCOMPLETE_UUID128 | ad_type::COMPLETE_UUID128 => {
            let chunks = value.chunks_exact(16);
            if !chunks.remainder().is_empty() {
                return Err(PayloadError::BadUuidList { kind });
            }
            chunks.for_each(|c| sink.service_uuid(uuid_from_le_bytes(c)));
        }
        ad_type::SERVICE_DATA_UUID16 => {
            let (uuid, rest) = value
                .split_first_chunk::<2>()
                .ok_or(PayloadError::ShortField { kind })?;
            sink.service_data(uuid_from_u16(u16::from_le_bytes(*uuid)), rest);
        }
        ad_type::SERVICE_DATA_UUID128 => {
            if value.len() < 16 {
                return Err(PayloadError::ShortField { kind });
            }
            let (uuid, rest) = value.split_at(16);
            sink.service_data(uuid_from_le_bytes(uuid), rest);
        }
        ad_type::MANUFACTURER_DATA => {
            let (company, rest) = value
                .split_first_chunk::<2>()
                .ok_or(PayloadError::ShortField { kind })?;
            sink.manufacturer_data(u16::from_le_bytes(*company), rest);
        }
        ad_type::TX_POWER_LEVEL => {
            let [level] = value else {
                return Err(PayloadError::ShortField { kind });
            };
            if std::mem::replace(tx_seen, true) {
                return Err(PayloadError::Duplicate {
                    what: "TX power level",
                });
            }
            sink.tx_power(*level as i8);
        }
        // Flags, names, appearance and the rest say nothing about the payload.
        _ => {}
    }
    Ok(())
}

impl<'a> FieldSink<'a> for AdvertisementData {
    fn service_uuid(&mut self, uuid: Uuid) {
        self.service_uuids.push(uuid);
    }
    fn service_data(&mut self, uuid: Uuid, value: &'a [u8]) {
        self.service_data.push((uuid, value.to_vec()));
    }
    fn manufacturer_data(&mut self, company: u16, value: &'a [u8]) {
        self.manufacturer_data.push((company, value.to_vec()));
    }
    fn tx_power(&mut self, level: i8) {
        self.tx_power = Some(level);
    }
}

/// One field that must have a single value: the first seen, and whether another value contradicted it.
#[derive(Default)]
struct Single<'a> {
    value: Option<&'a [u8]>,
    conflict: bool,
}

impl<'a> Single<'a> {
    fn add(&mut self, value: &'a [u8]) {
        match self.value {
            None => self.value = Some(value),
            Some(first) => self.conflict |= first != value,
        }
    }

    /// The value, or `Duplicate` if two different ones were given.
    fn get(&self, what: &'static str) -> Result<Option<&'a [u8]>, Error> {
        if self.conflict {
            return Err(Error::Payload(PayloadError::Duplicate { what }));
        }
        Ok(self.value)
    }
}

/// Only what decoding needs, borrowed from the raw bytes.
#[derive(Default)]
struct Digest<'a> {
    ours: Single<'a>,
    bluezone: Single<'a>,
    apple_overflow: bool,
    gatt_service: bool,
}

impl<'a> FieldSink<'a> for Digest<'a> {
    fn service_uuid(&mut self, uuid: Uuid) {
        self.gatt_service |= uuid == GATT_SERVICE_UUID;
    }
    fn service_data(&mut self, uuid: Uuid, value: &'a [u8]) {
        if uuid == SERVICE_UUID {
            self.ours.add(value);
        }
    }
    fn manufacturer_data(&mut self, company: u16, value: &'a [u8]) {
        if company == BLUEZONE_COMPANY_ID {
            self.bluezone.add(value);
        }
        self.apple_overflow |=
            company == APPLE_COMPANY_ID && value.first() == Some(&APPLE_OVERFLOW_TYPE);
    }
    fn tx_power(&mut self, _level: i8) {}
}

impl Digest<'_> {
    /// The one decision, for raw bytes and structured maps alike.
    fn decode(&self) -> Result<Decoded, Error> {
        if let Some(value) = self.ours.get("service data for 0x4E56")? {
            return decode_en_v1(value, "service data for 0x4E56").map(Decoded::Payload);
        }
        if let Some(value) = self.bluezone.get("Bluezone manufacturer data")? {
            let id = BluezoneId::from_slice(value).map_err(|_| {
                Error::Payload(PayloadError::WrongSize {
                    what: "Bluezone manufacturer data",
                    expected: BluezoneId::LEN,
                    found: value.len(),
                })
            })?;
            return Ok(Decoded::Payload(Payload::BluezoneV3 { id }));
        }
        if self.apple_overflow || self.gatt_service {
            return Ok(Decoded::NeedsGattRead);
        }
        Err(Error::Payload(PayloadError::NotOpenZone))
    }
}

impl AdvertisementData {
    /// Splits raw advertisement bytes into AD structures (`length, type, data`).
    ///
    /// A zero length ends the significant part; everything after it must be zero padding (Android pads
    /// its 62-byte scan record that way). Fields this codec does not use are skipped.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let mut data = AdvertisementData::default();
        walk(bytes, &mut data)?;
        Ok(data)
    }

    /// What this advertisement holds for OpenZone.
    ///
    /// Errors: [`PayloadError::NotOpenZone`] for advertisements of other services (the common case while
    /// scanning), and a typed reason for OpenZone fields of the wrong size or given twice with different
    /// values.
    pub fn decode(&self) -> Result<Decoded, Error> {
        let mut digest = Digest::default();
        for uuid in &self.service_uuids {
            digest.service_uuid(*uuid);
        }
        for (uuid, value) in &self.service_data {
            digest.service_data(*uuid, value);
        }
        for (company, value) in &self.manufacturer_data {
            digest.manufacturer_data(*company, value);
        }
        digest.decode()
    }

    /// What an iPhone app in the background advertises: only Apple's manufacturer data with the
    /// "overflow area" type and its 16-byte bitmask (all zero here: the bits are Apple's hashes of the
    /// service UUIDs, which the decoder does not need).
    pub fn ios_background() -> Self {
        let mut overflow = vec![APPLE_OVERFLOW_TYPE];
        overflow.extend_from_slice(&[0; 16]);
        AdvertisementData {
            manufacturer_data: vec![(APPLE_COMPANY_ID, overflow)],
            ..Default::default()
        }
    }

    /// The advertisement a phone sends for `payload`, in structured form (what Android's `AdvertiseData`
    /// and BlueZ's `LEAdvertisement1` take).
    pub fn for_payload(payload: &Payload) -> Self {
        let mut data = AdvertisementData {
            service_uuids: vec![SERVICE_UUID],
            ..Default::default()
        };
        match payload {
            Payload::EnV1 { .. } => data.service_data.push((SERVICE_UUID, gatt_value(payload))),
            Payload::BluezoneV3 { .. } => data
                .manufacturer_data
                .push((BLUEZONE_COMPANY_ID, gatt_value(payload))),
        }
        data
    }
}

fn uuid_from_le_bytes(bytes: &[u8]) -> Uuid {
    let mut be = [0u8; 16];
    for (dst, src) in be.iter_mut().zip(bytes.iter().rev()) {
        *dst = *src;
    }
    Uuid::from_bytes(be)
}

fn decode_en_v1(value: &[u8], what: &'static str) -> Result<Payload, Error> {
    let (rpi, aem) = value
        .split_first_chunk::<{ Rpi::LEN }>()
        .and_then(|(rpi, rest)| Some((rpi, <[u8; Aem::LEN]>::try_from(rest).ok()?)))
        .ok_or(Error::Payload(PayloadError::WrongSize {
            what,
            expected: EN_V1_PAYLOAD_LEN,
            found: value.len(),
        }))?;
    Ok(Payload::EnV1 {
        rpi: Rpi(*rpi),
        aem: Aem(aem),
    })
}

/// Decodes raw advertisement bytes: the same result as [`AdvertisementData::parse`] then
/// [`AdvertisementData::decode`], without allocating.
pub fn decode_advertisement(bytes: &[u8]) -> Result<Decoded, Error> {
    let mut digest = Digest::default();
    walk(bytes, &mut digest)?;
    digest.decode()
}

/// Decodes a GATT characteristic value: 20 bytes are an en-v1 payload, 12 bytes a Bluezone ID.
pub fn decode_gatt_value(value: &[u8]) -> Result<Payload, Error> {
    match value.len() {
        EN_V1_PAYLOAD_LEN => decode_en_v1(value, "GATT value"),
        BluezoneId::LEN => Ok(Payload::BluezoneV3 {
            id: BluezoneId::from_slice(value)?,
        }),
        found => Err(Error::Payload(PayloadError::WrongGattValue { found })),
    }
}

/// The GATT characteristic value for `payload` (also the service or manufacturer data on air).
pub fn gatt_value(payload: &Payload) -> Vec<u8> {
    match payload {
        Payload::EnV1 { rpi, aem } => [rpi.as_bytes().as_slice(), aem.as_bytes()].concat(),
        Payload::BluezoneV3 { id } => id.as_bytes().to_vec(),
    }
}

/// The raw legacy advertisement for `payload`: Flags, the 16-bit UUID list, then the service data (en-v1)
/// or Bluezone's manufacturer data (bluezone-v3). 31 bytes for en-v1, 23 for bluezone-v3.
pub fn encode_advertisement(payload: &Payload) -> Vec<u8> {
    let uuid = SERVICE_UUID16.to_le_bytes();
    let mut out = vec![
        2,
        ad_type::FLAGS,
        FLAGS,
        3,
        ad_type::COMPLETE_UUID16,
        uuid[0],
        uuid[1],
    ];
    let value = gatt_value(payload);
    let (kind, prefix) = match payload {
        Payload::EnV1 { .. } => (ad_type::SERVICE_DATA_UUID16, uuid),
        Payload::BluezoneV3 { .. } => (
            ad_type::MANUFACTURER_DATA,
            BLUEZONE_COMPANY_ID.to_le_bytes(),
        ),
    };
    // 1 type byte + 2 prefix bytes + at most 20 payload bytes: always fits the length byte.
    out.push((1 + prefix.len() + value.len()) as u8);
    out.push(kind);
    out.extend_from_slice(&prefix);
    out.extend_from_slice(&value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::bluezone_v3::BluezoneV3;
    use crate::protocol::en_v1::{EnV1, ExposureKey, TemporaryExposureKey};
    use crate::protocol::Scheme;
    use proptest::prelude::*;

    fn en_payload() -> Payload {
        let key =
            ExposureKey::new(TemporaryExposureKey::from_bytes([3; 16]), 2_642_976, 144).unwrap();
        EnV1::new(-25).payload(&key, 5)
    }

    fn bz_payload() -> Payload {
        Payload::BluezoneV3 {
            id: BluezoneId([0xA5; 12]),
        }
    }

    #[test]
    fn uuid_constants_are_the_documented_ones() {
        assert_eq!(
            SERVICE_UUID.to_string(),
            "00004e56-0000-1000-8000-00805f9b34fb"
        );
        assert_eq!(uuid_from_u16(SERVICE_UUID16), SERVICE_UUID);
        assert_eq!(
            GATT_SERVICE_UUID.to_string().to_uppercase(),
            "00004E56-73F5-4BC4-A12F-17D1AD07A667"
        );
        assert_eq!(
            GATT_CHARACTERISTIC_UUID.to_string().to_uppercase(),
            "00004E56-73F5-4BC4-A12F-17D1AD07A689"
        );
    }

    #[test]
    fn en_v1_advertisement_is_31_bytes_and_round_trips() {
        let p = en_payload();
        let bytes = encode_advertisement(&p);
        assert_eq!(bytes.len(), 31);
        assert_eq!(&bytes[..7], &[0x02, 0x01, 0x1A, 0x03, 0x03, 0x56, 0x4E]);
        assert_eq!(&bytes[7..11], &[0x17, 0x16, 0x56, 0x4E]);
        assert_eq!(decode_advertisement(&bytes).unwrap(), Decoded::Payload(p));
        assert_eq!(
            AdvertisementData::for_payload(&p),
            AdvertisementData::parse(&bytes).unwrap()
        );
    }

    #[test]
    fn bluezone_advertisement_uses_company_22b5() {
        let p = bz_payload();
        let bytes = encode_advertisement(&p);
        assert_eq!(bytes.len(), 23);
        assert_eq!(&bytes[7..11], &[0x0F, 0xFF, 0xB5, 0x22]);
        assert_eq!(decode_advertisement(&bytes).unwrap(), Decoded::Payload(p));
    }

    #[test]
    fn android_scan_record_padding_is_accepted() {
        let mut bytes = encode_advertisement(&en_payload());
        bytes.resize(62, 0);
        assert_eq!(
            decode_advertisement(&bytes).unwrap(),
            Decoded::Payload(en_payload())
        );
        bytes[50] = 1;
        assert!(matches!(
            decode_advertisement(&bytes),
            Err(Error::Advertisement {
                offset: 50,
                reason: PayloadError::DataAfterEnd
            })
        ));
    }

    #[test]
    fn ios_background_needs_a_gatt_read() {
        // What a backgrounded iPhone app advertises: Apple's overflow area with a 16-byte bitmask.
        let mut bytes = vec![0x02, 0x01, 0x06, 0x14, 0xFF, 0x4C, 0x00, 0x01];
        bytes.extend_from_slice(&[0; 16]);
        assert_eq!(
            decode_advertisement(&bytes).unwrap(),
            Decoded::NeedsGattRead
        );
        // Other Apple data (an iBeacon, type 0x02) is not ours.
        bytes[7] = 0x02;
        assert!(matches!(
            decode_advertisement(&bytes),
            Err(Error::Payload(PayloadError::NotOpenZone))
        ));
    }

    #[test]
    fn ios_foreground_service_uuid_needs_a_gatt_read() {
        let mut bytes = vec![0x11, 0x07];
        bytes.extend(GATT_SERVICE_UUID.as_bytes().iter().rev());
        assert_eq!(
            decode_advertisement(&bytes).unwrap(),
            Decoded::NeedsGattRead
        );
    }

    #[test]
    fn structured_maps_decode_like_raw_bytes() {
        let p = en_payload();
        let data = AdvertisementData {
            service_data: vec![
                (uuid_from_u16(0x180F), vec![1]),
                (SERVICE_UUID, gatt_value(&p)),
            ],
            ..Default::default()
        };
        assert_eq!(data.decode().unwrap(), Decoded::Payload(p));
    }

    #[test]
    fn service_data_128_bit_form_is_read() {
        let p = en_payload();
        let mut bytes = vec![0x25, 0x21];
        bytes.extend(SERVICE_UUID.as_bytes().iter().rev());
        bytes.extend(gatt_value(&p));
        assert_eq!(decode_advertisement(&bytes).unwrap(), Decoded::Payload(p));
    }

    #[test]
    fn gatt_values_round_trip() {
        for p in [en_payload(), bz_payload()] {
            assert_eq!(decode_gatt_value(&gatt_value(&p)).unwrap(), p);
        }
        assert!(matches!(
            decode_gatt_value(&[0; 19]),
            Err(Error::Payload(PayloadError::WrongGattValue { found: 19 }))
        ));
        assert!(decode_gatt_value(&[]).is_err());
    }

    #[test]
    fn truncated_field_is_an_error() {
        let bytes = encode_advertisement(&en_payload());
        let err = decode_advertisement(&bytes[..30]).unwrap_err();
        assert!(matches!(
            err,
            Error::Advertisement {
                offset: 7,
                reason: PayloadError::Truncated { len: 23 }
            }
        ));
        assert!(err.to_string().contains("offset 7"), "{err}");
    }

    #[test]
    fn wrong_payload_sizes_are_errors() {
        let mut bytes = encode_advertisement(&en_payload());
        bytes[7] -= 1;
        bytes.pop();
        assert!(matches!(
            decode_advertisement(&bytes),
            Err(Error::Payload(PayloadError::WrongSize {
                expected: 20,
                found: 19,
                ..
            }))
        ));
        let mut bz = encode_advertisement(&bz_payload());
        bz[7] += 1;
        bz.push(0);
        assert!(matches!(
            decode_advertisement(&bz),
            Err(Error::Payload(PayloadError::WrongSize {
                expected: 12,
                found: 13,
                ..
            }))
        ));
    }

    #[test]
    fn duplicated_fields_with_different_values_are_errors() {
        let a = encode_advertisement(&en_payload());
        let other = Payload::EnV1 {
            rpi: Rpi([9; 16]),
            aem: Aem([9; 4]),
        };
        let b = encode_advertisement(&other);
        let twice_same = [&a[..], &a[7..]].concat();
        assert_eq!(
            decode_advertisement(&twice_same).unwrap(),
            Decoded::Payload(en_payload())
        );
        let twice_different = [&a[..], &b[7..]].concat();
        assert!(matches!(
            decode_advertisement(&twice_different),
            Err(Error::Payload(PayloadError::Duplicate { .. }))
        ));
        let tx_twice = [0x02, 0x0A, 0x01, 0x02, 0x0A, 0x01];
        assert!(matches!(
            AdvertisementData::parse(&tx_twice),
            Err(Error::Advertisement { offset: 3, .. })
        ));
    }

    #[test]
    fn tx_power_level_is_read() {
        let mut bytes = encode_advertisement(&en_payload());
        bytes.extend_from_slice(&[0x02, 0x0A, 0xF6]);
        assert_eq!(
            AdvertisementData::parse(&bytes).unwrap().tx_power,
            Some(-10)
        );
    }

    #[test]
    fn unknown_services_are_not_openzone() {
        let bytes = [0x03, 0x03, 0x6F, 0xFD, 0x05, 0x16, 0x6F, 0xFD, 1, 2];
        assert!(matches!(
            decode_advertisement(&bytes),
            Err(Error::Payload(PayloadError::NotOpenZone))
        ));
        assert!(matches!(
            decode_advertisement(&[]),
            Err(Error::Payload(PayloadError::NotOpenZone))
        ));
    }

    #[test]
    fn malformed_uuid_lists_and_short_fields_are_errors() {
        for bytes in [
            &[0x02, 0x03, 0x56][..],
            &[0x04, 0x07, 1, 2, 3][..],
            &[0x02, 0x16, 0x56][..],
            &[0x02, 0xFF, 0x4C][..],
            &[0x01, 0x0A][..],
            &[0x05, 0x21, 1, 2, 3, 4][..],
        ] {
            assert!(
                matches!(
                    AdvertisementData::parse(bytes),
                    Err(Error::Advertisement { offset: 0, .. })
                ),
                "{bytes:02x?}"
            );
        }
    }

    #[test]
    fn oversized_input_is_refused() {
        let bytes = vec![0u8; MAX_ADVERTISEMENT_LEN + 1];
        assert!(matches!(
            decode_advertisement(&bytes),
            Err(Error::Advertisement {
                reason: PayloadError::TooLong { .. },
                ..
            })
        ));
    }

    /// The fast decoder and parse-then-decode make the same of `bytes` (errors compared as text).
    fn decoders_agree(bytes: &[u8]) -> Result<(), TestCaseError> {
        let fast = decode_advertisement(bytes).map_err(|e| e.to_string());
        let slow = AdvertisementData::parse(bytes)
            .and_then(|d| d.decode())
            .map_err(|e| e.to_string());
        prop_assert_eq!(fast, slow);
        Ok(())
    }

    fn arb_payload() -> impl Strategy<Value = Payload> {
        prop_oneof![
            (any::<[u8; 16]>(), any::<[u8; 4]>()).prop_map(|(r, a)| Payload::EnV1 {
                rpi: Rpi(r),
                aem: Aem(a)
            }),
            any::<[u8; 12]>().prop_map(|id| Payload::BluezoneV3 { id: BluezoneId(id) }),
        ]
    }

    proptest! {
        #[test]
        fn advertisements_round_trip(p in arb_payload()) {
            let bytes = encode_advertisement(&p);
            prop_assert!(bytes.len() <= 31);
            prop_assert_eq!(decode_advertisement(&bytes).unwrap(), Decoded::Payload(p));
            prop_assert_eq!(AdvertisementData::for_payload(&p).decode().unwrap(), Decoded::Payload(p));
        }

        #[test]
        fn gatt_values_round_trip_for_any_payload(p in arb_payload()) {
            prop_assert_eq!(decode_gatt_value(&gatt_value(&p)).unwrap(), p);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = decode_advertisement(&bytes);
            let _ = decode_gatt_value(&bytes);
        }

        #[test]
        fn the_fast_decoder_agrees_with_parse_then_decode(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            decoders_agree(&bytes)?;
        }

        #[test]
        fn the_decoders_agree_on_advertisements_with_our_fields(
            p in arb_payload(),
            extra in proptest::collection::vec(any::<u8>(), 0..24),
        ) {
            let mut bytes = encode_advertisement(&p);
            bytes.extend(&extra);
            decoders_agree(&bytes)?;
        }

        #[test]
        fn our_payload_survives_foreign_fields(
            p in arb_payload(),
            name in proptest::collection::vec(any::<u8>(), 0..20),
        ) {
            // A complete local name (0x09) before our fields changes nothing.
            let mut bytes = vec![name.len() as u8 + 1, 0x09];
            bytes.extend(&name);
            bytes.extend(encode_advertisement(&p));
            prop_assert_eq!(decode_advertisement(&bytes).unwrap(), Decoded::Payload(p));
        }
    }

    #[test]
    fn bluezone_scheme_payload_encodes() {
        let key = crate::protocol::bluezone_v3::DailyKey::new([1; 32], 18_000, 96).unwrap();
        let p = BluezoneV3.payload(&key, 3);
        assert_eq!(decode_gatt_value(&gatt_value(&p)).unwrap(), p);
    }
}
