//! A student's printed card: a QR code holding only the name and class, which a guard's device scans to
//! record entry and exit. Text format: `openzone-card:v1:` followed by JSON `{"name": .., "class": ..}`.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::wire::Error as WireError;

/// What every card's text starts with (and its version).
pub const CARD_PREFIX: &str = "openzone-card:v1:";

/// The longest card text accepted.
const MAX_CARD_BYTES: usize = 512;

/// The longest name or class on a card, in characters.
const MAX_FIELD_CHARS: usize = 100;

/// What a student's card says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudentCard {
    /// The student's name.
    pub name: String,
    /// The class.
    pub class: String,
}

impl StudentCard {
    /// A card, its fields checked: one line of 1 to 100 characters each.
    pub fn new(name: &str, class: &str) -> Result<Self, Error> {
        let card = Self {
            name: name.trim().to_owned(),
            class: class.trim().to_owned(),
        };
        card.check()?;
        Ok(card)
    }

    fn check(&self) -> Result<(), Error> {
        for (field, value) in [("name", &self.name), ("class", &self.class)] {
            if value.is_empty()
                || value.chars().count() > MAX_FIELD_CHARS
                || value.chars().any(char::is_control)
            {
                return Err(WireError::VisitorLog(format!(
                    "a card's {field} must be one line of 1 to {MAX_FIELD_CHARS} characters"
                ))
                .into());
            }
        }
        Ok(())
    }

    /// The text the card's QR code holds.
    pub fn to_text(&self) -> String {
        // Two strings always serialise.
        let json = serde_json::to_string(self).unwrap_or_default();
        format!("{CARD_PREFIX}{json}")
    }

    /// Reads a card's text (from its QR code); refuses other codes, damaged and oversized text.
    pub fn from_text(text: &str) -> Result<Self, Error> {
        if text.len() > MAX_CARD_BYTES {
            return Err(WireError::VisitorLog(format!(
                "a card holds at most {MAX_CARD_BYTES} bytes; this code holds {}",
                text.len()
            ))
            .into());
        }
        let json = text.trim().strip_prefix(CARD_PREFIX).ok_or_else(|| {
            WireError::VisitorLog(
                "this QR code is not an OpenZone student card; scan the card's code".into(),
            )
        })?;
        let card: Self = serde_json::from_str(json)
            .map_err(|e| WireError::VisitorLog(format!("the card's code is damaged ({e})")))?;
        card.check()?;
        Ok(card)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_round_trip_and_garbage_is_refused() {
        let card = StudentCard::new(" Phạm Minh Châu ", "5A").unwrap();
        assert_eq!(card.name, "Phạm Minh Châu");
        let text = card.to_text();
        assert_eq!(StudentCard::from_text(&text).unwrap(), card);
        for len in 0..text.len() {
            if let Some(prefix) = text.get(..len) {
                assert!(StudentCard::from_text(prefix).is_err(), "{prefix:?}");
            }
        }
        for bad in [
            "https://e.coronawarn.app?v=1#abc",
            "openzone-card:v1:{\"name\":\"A\"}",
            "openzone-card:v1:{\"name\":\"A\",\"class\":\"\"}",
            "openzone-card:v1:{\"name\":\"A\",\"class\":\"5A\",\"phone\":\"1\"}",
            "openzone-card:v2:{\"name\":\"A\",\"class\":\"5A\"}",
        ] {
            assert!(StudentCard::from_text(bad).is_err(), "{bad}");
        }
        assert!(StudentCard::from_text(&format!("{CARD_PREFIX}{}", " ".repeat(600))).is_err());
        assert!(StudentCard::new("", "5A").is_err());
        assert!(StudentCard::new("A", &"x".repeat(101)).is_err());
    }
}
