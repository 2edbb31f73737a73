//! The batch format: a CSV of rooms, one poster each, with the header `name,address,type,minutes`.
//!
//! `address` may be empty (the name is used), `type` is a protobuf number or a name
//! (`educational-institution` when empty), `minutes` the default stay (45, a lesson, when empty).

use std::io::Read;

use openzone_core::checkin::{LocationType, NewVenue};
use serde::Deserialize;

use crate::PosterError;

/// The stay of a room whose `minutes` is empty: a 45-minute lesson.
pub const DEFAULT_ROOM_MINUTES: u32 = 45;

/// The most rooms one batch takes.
pub const MAX_ROOMS: usize = 1_000;

/// One room of the CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    /// The CSV line it came from.
    pub line: u64,
    /// The venue it becomes.
    pub venue: NewVenue,
}

#[derive(Deserialize)]
struct Row {
    name: String,
    #[serde(default)]
    address: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    minutes: String,
}

/// Reads the rooms; every error names its line.
pub fn read_rooms(input: impl Read) -> Result<Vec<Room>, PosterError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| PosterError::Csv {
            line: 1,
            reason: e.to_string(),
        })?
        .clone();
    if !headers.iter().any(|h| h == "name") {
        return Err(PosterError::Csv {
            line: 1,
            reason: "the first line must be the header name,address,type,minutes".into(),
        });
    }
    let mut rooms = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| PosterError::Csv {
            line: e.position().map_or(0, |p| p.line()),
            reason: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if rooms.len() == MAX_ROOMS {
            return Err(PosterError::Csv {
                line,
                reason: format!("at most {MAX_ROOMS} rooms per batch"),
            });
        }
        let row: Row = record
            .deserialize(Some(&headers))
            .map_err(|e| PosterError::Csv {
                line,
                reason: e.to_string(),
            })?;
        let bad = |reason: String| PosterError::Csv { line, reason };
        let location_type = if row.kind.is_empty() {
            LocationType::EducationalInstitution
        } else {
            LocationType::parse(&row.kind).map_err(|e| bad(e.to_string()))?
        };
        let minutes = if row.minutes.is_empty() {
            DEFAULT_ROOM_MINUTES
        } else {
            row.minutes
                .parse()
                .map_err(|_| bad(format!("minutes {:?} is not a whole number", row.minutes)))?
        };
        rooms.push(Room {
            line,
            venue: NewVenue {
                description: row.name,
                address: Some(row.address).filter(|a| !a.is_empty()),
                location_type,
                default_checkin_minutes: minutes,
                event: None,
                visitor_log_key: None,
            },
        });
    }
    Ok(rooms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_are_read_with_defaults() {
        let csv = "name,address,type,minutes\n\
                   Lớp 6A,Tầng 2,7,45\n\
                   \"Phòng thí nghiệm, tầng 3\",,educational-institution,\n\
                   Cổng trường,12 Lý Thường Kiệt,,480\n";
        let rooms = read_rooms(csv.as_bytes()).unwrap();
        assert_eq!(rooms.len(), 3);
        assert_eq!(rooms[0].venue.description, "Lớp 6A");
        assert_eq!(rooms[1].venue.description, "Phòng thí nghiệm, tầng 3");
        assert_eq!(rooms[1].venue.address, None);
        assert_eq!(rooms[1].venue.default_checkin_minutes, DEFAULT_ROOM_MINUTES);
        assert_eq!(
            rooms[2].venue.location_type,
            LocationType::EducationalInstitution
        );
        assert_eq!(rooms[2].line, 4);
    }

    #[test]
    fn bad_rows_name_their_line() {
        for (csv, line) in [
            ("name,address,type,minutes\nA,,7,45\nB,,school,45\n", 3),
            ("name,address,type,minutes\nA,,7,forty\n", 2),
            ("name,address,type,minutes\nA,,7,45,extra\n", 2),
            ("room,where\nA,B\n", 1),
            ("", 1),
        ] {
            match read_rooms(csv.as_bytes()) {
                Err(PosterError::Csv { line: got, .. }) => assert_eq!(got, line, "{csv}"),
                other => panic!("{csv}: {other:?}"),
            }
        }
        let many = format!("name\n{}", "Room\n".repeat(MAX_ROOMS + 1));
        assert!(read_rooms(many.as_bytes()).is_err());
        assert!(read_rooms(&[0xff, 0xfe, b'\n', 0xff][..]).is_err());
    }
}
