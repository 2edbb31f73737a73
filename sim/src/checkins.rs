//! The school's QR posters in the simulation: one at the door of every classroom. Students scan their own
//! classroom's poster when they first come in each morning and rely on its automatic check-out at the end
//! of the school day (they keep their seat all day); teachers scan the poster of each class they teach and
//! set the stay to the lesson. A share of people forget to scan on a day, drawn per person and day from the
//! seed. Every scan is a real `Phone::check_in` on the person's phone, so a case's check-ins go up sealed
//! with its keys, the key server publishes them in a warning package, and the other phones find the
//! overlap when they sync, as the apps do.
//!
//! There is no poster at the gate on purpose: a check-in there would last the school day for everyone, and
//! every person who scanned it the same day as a case would be warned (presence tracing at the scale of the
//! whole school).
//!
//! The scans are read from the school's positions and made on the phones when the cases report, with the
//! times they happened at (the phones take a scan time in the past): warnings depend only on the stays
//! before the report, and the ones after it cannot overlap a case who stays home.

use openzone_core::checkin::venue::MIN_STAY_MINUTES;
use openzone_core::checkin::{CheckInLinks, LocationType, NewVenue};
use openzone_core::phone::{CheckInSource, Phone};
use openzone_core::seeded::SplitMix64;
use ring::rand::SystemRandom;

use crate::school::{Room, School, DAY_MINUTES};
use crate::world::day_start_ms;
use crate::{Scenario, SimError};

/// The check-in links of the classrooms' posters, by class.
pub(crate) struct Posters {
    classrooms: Vec<String>,
}

impl Posters {
    /// Makes the venues at `now_s` (UTC unix seconds): a permanent educational institution whose
    /// check-ins last the school day unless the visitor sets the stay.
    pub(crate) fn new(school: &School, now_s: u64) -> Result<Self, SimError> {
        let links = CheckInLinks::default();
        let rng = SystemRandom::new();
        let classrooms = (0..school.classes())
            .map(|c| {
                NewVenue {
                    description: format!("Lớp {}", c + 1),
                    address: Some("Trường THCS mô phỏng".into()),
                    location_type: LocationType::EducationalInstitution,
                    default_checkin_minutes: DAY_MINUTES,
                    event: None,
                    visitor_log_key: None,
                }
                .create(now_s, &rng)
                .map(|v| links.link(&v))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { classrooms })
    }
}

/// One scan: the poster's link, the arrival (UTC unix seconds), and the stay in minutes the visitor set
/// (`None`: the poster's default).
type Scan<'p> = (&'p str, u64, Option<u32>);

/// The scans of `person` on 0-based `day` that happen before `until_minute`.
fn scans<'p>(
    posters: &'p Posters,
    school: &School,
    person: u32,
    day: u32,
    until_minute: u32,
) -> Vec<Scan<'p>> {
    let at = |minute: u32| (day_start_ms(day) + u64::from(minute) * 60_000) / 1000;
    let until = until_minute.min(DAY_MINUTES);
    if let Some(class) = school.class_of(person) {
        // A student: the first minute in the own classroom.
        let first = (0..until).find(|&m| school.place(person, day, m).room == Room::Class(class));
        return match (first, posters.classrooms.get(class as usize)) {
            (Some(minute), Some(link)) => vec![(link.as_str(), at(minute), None)],
            _ => Vec::new(),
        };
    }
    // A teacher: each run of minutes in one classroom is a lesson, scanned at its start for its length
    // (known from the timetable, so a lesson in progress at `until_minute` counts whole).
    let rooms: Vec<Room> = (0..DAY_MINUTES)
        .map(|m| school.place(person, day, m).room)
        .collect();
    let mut out = Vec::new();
    let mut minute = 0;
    while minute < until as usize {
        let Room::Class(class) = rooms[minute] else {
            minute += 1;
            continue;
        };
        let start = minute;
        while minute < rooms.len() && rooms[minute] == Room::Class(class) {
            minute += 1;
        }
        if let Some(link) = posters.classrooms.get(class as usize) {
            let length = ((minute - start) as u32).max(MIN_STAY_MINUTES);
            out.push((link.as_str(), at(start as u32), Some(length)));
        }
    }
    out
}

/// Everyone's scans from the first day to `until_minute` of 0-based `until_day`, made on their phones
/// (`phones[p]` is person `p`'s); returns how many were made.
pub(crate) fn check_in_everyone(
    scenario: &Scenario,
    school: &School,
    posters: &Posters,
    phones: &[&Phone],
    until_day: u32,
    until_minute: u32,
) -> Result<u64, SimError> {
    let mut made = 0;
    for (person, phone) in (0u32..).zip(phones) {
        for day in 0..=until_day {
            let mut draw = SplitMix64::new(
                scenario.seed ^ 0xC4EC_0000_0000 ^ (u64::from(person) << 24) ^ u64::from(day),
            );
            if draw.unit() < scenario.checkin_forget_share {
                continue;
            }
            let until = if day == until_day {
                until_minute
            } else {
                DAY_MINUTES
            };
            for (link, arrival, minutes) in scans(posters, school, person, day, until) {
                phone.check_in(CheckInSource::Link(link), Some(arrival), minutes)?;
                made += 1;
            }
        }
    }
    Ok(made)
}
