//! Check-in links: the text in a venue's QR code, `<base>?v=1#<payload in base64url, no padding>`.
//!
//! OpenZone's posters use a configurable base (`openzone://checkin` by default); Corona-Warn-App's posters
//! use `https://e.coronawarn.app?v=1#...`, with or without a `/` before the `?` (cwa-server,
//! `main-config/v2/presence-tracing-parameters.yaml`, `qr-code-descriptors`:
//! `https://e\.coronawarn\.app/?\?v=(\d+)\#(.+)`, base64 payload, matched case-insensitively). Both are
//! read. The payload sits in the fragment, which browsers never send to a server.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

use super::venue::{Venue, MAX_PAYLOAD_BYTES};
use crate::error::{CheckInError, Error};

/// The base of OpenZone's own posters unless configured otherwise.
pub const DEFAULT_BASE: &str = "openzone://checkin";

/// The base of Corona-Warn-App's posters.
pub const CWA_BASE: &str = "https://e.coronawarn.app";

/// The link version this app writes and reads (`?v=1`).
pub const LINK_VERSION: &str = "1";

/// base64url as CWA writes it (no padding); the reader strips padding first.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Writes links with one base and reads links of that base and of Corona-Warn-App.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInLinks {
    base: String,
}

impl Default for CheckInLinks {
    fn default() -> Self {
        Self {
            base: DEFAULT_BASE.to_owned(),
        }
    }
}

impl CheckInLinks {
    /// Links with this base, e.g. `https://school.example/checkin` (a trailing `/` is dropped).
    pub fn new(base: &str) -> Result<Self, Error> {
        let trimmed = base.trim().trim_end_matches('/');
        let scheme_ok = trimmed
            .split_once(':')
            .is_some_and(|(scheme, rest)| !scheme.is_empty() && !rest.is_empty());
        if !scheme_ok || trimmed.contains(['?', '#']) || trimmed.contains(char::is_whitespace) {
            return Err(Error::InvalidConfig(format!(
                "{base:?} cannot be a check-in link base: give a URL such as {DEFAULT_BASE} or https://school.example/checkin, without '?', '#' or spaces"
            )));
        }
        Ok(Self {
            base: trimmed.to_owned(),
        })
    }

    /// The base links are written with.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The venue's check-in link.
    pub fn link(&self, venue: &Venue) -> String {
        format!(
            "{}?v={LINK_VERSION}#{}",
            self.base,
            BASE64URL.encode(venue.payload())
        )
    }

    /// The venue in a link (of this base or CWA's); checks only that it is well formed.
    pub fn venue(&self, text: &str) -> Result<Venue, Error> {
        Venue::from_payload(self.payload(text)?)
    }

    /// The payload bytes in a link.
    pub fn payload(&self, text: &str) -> Result<Vec<u8>, Error> {
        let text = text.trim();
        let (head, fragment) = text.split_once('#').unwrap_or((text, ""));
        let (base, query) = head.split_once('?').unwrap_or((head, ""));
        let base = base.trim_end_matches('/');
        if ![self.base.as_str(), CWA_BASE]
            .iter()
            .any(|known| known.eq_ignore_ascii_case(base))
        {
            return Err(CheckInError::NotACheckInCode {
                found: text.chars().take(40).collect(),
            }
            .into());
        }
        let version = query
            .split('&')
            .find_map(|param| param.strip_prefix("v="))
            .ok_or_else(|| malformed("the link has no version (?v=1)"))?;
        if version != LINK_VERSION {
            return Err(CheckInError::UnsupportedVersion {
                version: version.chars().take(10).collect(),
            }
            .into());
        }
        if fragment.is_empty() {
            return Err(malformed("the link carries no venue after '#'"));
        }
        // Padding is optional (some encoders write it, CWA's do not).
        let fragment = fragment.trim_end_matches('=');
        // Refuse before decoding what cannot fit: 4 base64 characters per 3 bytes.
        let least_bytes = fragment.len() / 4 * 3;
        if least_bytes > MAX_PAYLOAD_BYTES {
            return Err(CheckInError::PayloadTooLarge {
                len: least_bytes,
                max: MAX_PAYLOAD_BYTES,
            }
            .into());
        }
        BASE64URL
            .decode(fragment)
            .map_err(|e| malformed(&format!("the venue after '#' is not base64url ({e})")))
    }
}

fn malformed(reason: &str) -> Error {
    CheckInError::Malformed(reason.to_owned()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cwa_vector_payload() -> Vec<u8> {
        let vectors = crate::checkin::tests::cwa();
        crate::checkin::tests::b64(vectors.location_ids[1].payload_base64.as_deref().unwrap())
    }

    #[test]
    fn cwa_links_are_read_with_or_without_slash_and_padding() {
        let links = CheckInLinks::default();
        let payload = cwa_vector_payload();
        let encoded = BASE64URL.encode(&payload);
        for text in [
            format!("https://e.coronawarn.app?v=1#{encoded}"),
            format!("https://e.coronawarn.app/?v=1#{encoded}"),
            format!("HTTPS://E.CORONAWARN.APP/?v=1#{encoded}=="),
            format!("  https://e.coronawarn.app?v=1#{encoded}\n"),
        ] {
            assert_eq!(links.payload(&text).unwrap(), payload, "{text}");
        }
    }

    #[test]
    fn own_base_round_trips_and_other_bases_are_refused() {
        let school = CheckInLinks::new("https://school.example/checkin/").unwrap();
        assert_eq!(school.base(), "https://school.example/checkin");
        let venue = Venue::from_payload(cwa_vector_payload()).unwrap();
        let link = school.link(&venue);
        assert!(link.starts_with("https://school.example/checkin?v=1#"));
        assert!(!link.ends_with('='));
        assert_eq!(school.venue(&link).unwrap(), venue);
        // The default reader does not know the school's base: another app's link to it.
        assert!(matches!(
            CheckInLinks::default().payload(&link),
            Err(Error::CheckIn(CheckInError::NotACheckInCode { .. }))
        ));
        for bad in [
            "",
            "nope",
            "https://evil.example?v=1#AAAA",
            "WIFI:S:school;;",
        ] {
            assert!(
                matches!(
                    school.payload(bad),
                    Err(Error::CheckIn(CheckInError::NotACheckInCode { .. }))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn versions_fragments_and_sizes_are_checked() {
        let links = CheckInLinks::default();
        let kind = |e: &Error| match e {
            Error::CheckIn(CheckInError::UnsupportedVersion { .. }) => "version",
            Error::CheckIn(CheckInError::Malformed(_)) => "malformed",
            _ => "other",
        };
        for (text, expected) in [
            ("openzone://checkin?v=2#CAE", "version"),
            ("openzone://checkin#CAE", "malformed"),
            ("openzone://checkin?v=1", "malformed"),
            ("openzone://checkin?v=1#", "malformed"),
            ("openzone://checkin?v=1#not*base64", "malformed"),
            ("openzone://checkin?v=1#CAESLAgB", "malformed"),
        ] {
            let err = links.venue(text).unwrap_err();
            assert_eq!(kind(&err), expected, "{text}: {err}");
        }
        let huge = format!("openzone://checkin?v=1#{}", "A".repeat(1400));
        assert!(matches!(
            links.payload(&huge),
            Err(Error::CheckIn(CheckInError::PayloadTooLarge { .. }))
        ));
        let just_over = BASE64URL.encode(vec![0u8; MAX_PAYLOAD_BYTES + 1]);
        assert!(matches!(
            links.venue(&format!("openzone://checkin?v=1#{just_over}")),
            Err(Error::CheckIn(CheckInError::PayloadTooLarge { .. }))
        ));
    }

    #[test]
    fn bad_bases_are_refused() {
        for bad in ["", "checkin", "a b://c", "https://x?y", "https://x#y", ":x"] {
            assert!(
                matches!(CheckInLinks::new(bad), Err(Error::InvalidConfig(_))),
                "{bad}"
            );
        }
    }
}
