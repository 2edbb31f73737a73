//! Presence tracing on the phone: checking in from a poster's link or photo, checking out (by hand or at
//! the planned time), editing a stay, the encrypted check-ins a positive report carries, and the
//! warnings found in published warning packages, told once each.
//!
//! The rules live in `crate::checkin` (venues, links, encryption, scoring); this module keeps the
//! phone's own log of stays in the store and applies the rules of time: nothing in the future, nothing
//! older than the retention period, a second scan of a venue during a stay extends it.

use std::collections::HashSet;

use ring::rand::SystemRandom;
use serde::Serialize;

use crate::checkin::image::venue_from_image;
use crate::checkin::package::{VerifiedWarningPackage, WarningPackage};
use crate::checkin::random;
use crate::checkin::report::{pad_with_fakes, transmission_risk_level};
use crate::checkin::scoring::{self, CheckIn, Matcher, RiskLevel};
use crate::checkin::venue::MAX_STAY_MINUTES;
use crate::checkin::{CheckInRecord, LocationId, ProtectedReport, Venue};
use crate::error::{CheckInError, Error};
use crate::store::{BatchFindings, StoredCheckIn};
use crate::units::{MAX_CHECKINS_PER_UPLOAD, MS_PER_DAY, SECS_PER_DAY};

use super::Phone;

/// How far ahead of the phone's clock a time may be and still count as now: the seconds between a
/// scan and its check-in, or a laptop's clock a little ahead of a phone's.
const CLOCK_SLACK_SECS: u64 = 60;

/// Where a check-in comes from.
#[derive(Debug, Clone, Copy)]
pub enum CheckInSource<'a> {
    /// The text of the poster's QR code: an OpenZone or Corona-Warn-App check-in link.
    Link(&'a str),
    /// A photo of the poster (PNG or JPEG); the core finds and reads its QR code.
    Image(&'a [u8]),
}

/// One stay as the user sees it. Times are UTC unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckInEntry {
    /// The check-in's id, for check-out and edits.
    pub id: u64,
    /// The venue's name.
    pub description: String,
    /// The venue's address.
    pub address: String,
    /// The venue's type (the protobuf's `TraceLocationType` number).
    pub location_type: i32,
    /// The venue's location id, lowercase hex.
    pub location_id: String,
    /// When the visitor arrived.
    pub arrival: u64,
    /// When the visitor left, or will be checked out automatically.
    pub departure: u64,
    /// Whether the departure was set by hand (a check-out or an edit).
    pub checked_out: bool,
    /// Whether the stay is in progress now.
    pub active: bool,
}

/// A published case's stay that overlapped one of the user's, on one UTC day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PresenceWarning {
    /// The check-in it concerns.
    pub check_in_id: u64,
    /// The venue's name (the user's own record, so it may be named).
    pub description: String,
    /// The venue's address.
    pub address: String,
    /// UTC day (days since 1970-01-01).
    pub day: u32,
    /// Start of the overlap, UTC unix seconds.
    pub start: u64,
    /// End of the overlap, UTC unix seconds.
    pub end: u64,
    /// Minutes of overlap.
    pub minutes: u64,
    /// Minutes weighted by the case's transmission risk.
    pub normalized_minutes: f64,
    /// The check-in's level on that day, if its weighted time falls in a range.
    pub risk: Option<RiskLevel>,
    /// Whether the user is told to act (that day, or this check-in, is high risk).
    pub at_risk: bool,
}

/// What checking a warning package did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PresenceCheckReport {
    /// The package was checked before; nothing was done.
    pub already_processed: bool,
    /// Encrypted check-ins in the package.
    pub reports: u64,
    /// Those at a venue this phone checked into that opened with its location id.
    pub matched: u64,
    /// Warnings that were new and told to the listener.
    pub new_warnings: Vec<PresenceWarning>,
}

impl Phone {
    /// Checks in at the venue of `source` at `at` (default now) for `minutes` (default: the venue's
    /// stay). A second scan of a venue during a stay there extends that stay. Refused, changing nothing:
    /// another app's code, a damaged or oversized one, an unknown version, an event not begun or over,
    /// a time in the future or older than the retention period.
    pub fn check_in(
        &self,
        source: CheckInSource<'_>,
        at: Option<u64>,
        minutes: Option<u32>,
    ) -> Result<CheckInEntry, Error> {
        let venue = match source {
            CheckInSource::Link(text) => self.inner.check_in_links.venue(text)?,
            CheckInSource::Image(bytes) => venue_from_image(bytes, &self.inner.check_in_links)?,
        };
        let now = self.now_s();
        let arrival = self.past_time(at.unwrap_or(now))?;
        venue.check_in_rules(arrival)?;
        let mut departure = arrival + u64::from(venue.stay_minutes(minutes)?) * 60;
        if let Some(end) = venue.location().end {
            departure = departure.min(end);
        }
        let store = &self.inner.store;
        let ongoing = store.check_ins()?.into_iter().find(|c| {
            !c.checked_out
                && c.payload == venue.payload()
                && c.arrival <= arrival
                && arrival < c.departure
        });
        let stored = match ongoing {
            Some(mut stay) => {
                stay.departure = stay.departure.max(departure);
                stay
            }
            None => StoredCheckIn {
                id: u64::from_be_bytes(random::bytes::<8>(&SystemRandom::new())?),
                payload: venue.payload().to_vec(),
                arrival,
                departure,
                checked_out: false,
                reported: false,
            },
        };
        store.put_check_in(&stored)?;
        self.entry(&stored, &venue, now)
    }

    /// Checks out at `at` (default now): of check-in `id`, or of every stay in progress then.
    pub fn check_out(&self, id: Option<u64>, at: Option<u64>) -> Result<Vec<CheckInEntry>, Error> {
        let now = self.now_s();
        let at = self.past_time(at.unwrap_or(now))?;
        let all = self.inner.store.check_ins()?;
        let chosen: Vec<StoredCheckIn> = match id {
            Some(id) => vec![all
                .into_iter()
                .find(|c| c.id == id)
                .ok_or(CheckInError::NoSuchCheckIn { id })?],
            None => all
                .into_iter()
                .filter(|c| !c.checked_out && c.arrival <= at && at < c.departure)
                .collect(),
        };
        if chosen.is_empty() {
            return Err(CheckInError::NotCheckedIn { at }.into());
        }
        // Every stay is checked before any is written, so that a refusal changes nothing.
        for c in &chosen {
            check_stay(c.arrival, at)?;
        }
        chosen
            .into_iter()
            .map(|mut c| {
                c.departure = at;
                c.checked_out = true;
                self.inner.store.put_check_in(&c)?;
                self.entry_of(&c, now)
            })
            .collect()
    }

    /// Changes the times of check-in `id`; warnings are scored again (and any new one told).
    pub fn edit_check_in(
        &self,
        id: u64,
        arrival: u64,
        departure: u64,
    ) -> Result<CheckInEntry, Error> {
        let now = self.now_s();
        self.past_time(arrival)?;
        check_stay(arrival, departure)?;
        let mut stay = self
            .inner
            .store
            .check_ins()?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(CheckInError::NoSuchCheckIn { id })?;
        stay.arrival = arrival;
        stay.departure = departure;
        stay.checked_out = true;
        self.inner.store.put_check_in(&stay)?;
        self.tell_new_warnings()?;
        self.entry_of(&stay, now)
    }

    /// Every stay kept, by arrival.
    pub fn check_ins(&self) -> Result<Vec<CheckInEntry>, Error> {
        let now = self.now_s();
        self.inner
            .store
            .check_ins()?
            .iter()
            .map(|c| self.entry_of(c, now))
            .collect()
    }

    /// Every overlap with a published case found so far, by day.
    pub fn presence_warnings(&self) -> Result<Vec<PresenceWarning>, Error> {
        // The stays a positive report of this phone uploaded are the case's own: no warning for them.
        let stays: Vec<StoredCheckIn> = self
            .inner
            .store
            .check_ins()?
            .into_iter()
            .filter(|c| !c.reported)
            .collect();
        let checkins = scoring_check_ins(&stays)?;
        let reports = self
            .inner
            .store
            .presence_reports()?
            .iter()
            .map(|bytes| ProtectedReport::decode(bytes))
            .collect::<Result<Vec<_>, _>>()?;
        let outcome = Matcher::new(&checkins).match_reports(reports.into_iter().map(Ok));
        let days = scoring::score(&checkins, &outcome.overlaps, &self.inner.presence);
        Ok(days
            .into_iter()
            .flat_map(|day| {
                let stays = &stays;
                day.visits.into_iter().map(move |v| PresenceWarning {
                    check_in_id: stays[v.checkin].id,
                    description: v.description,
                    address: v.address,
                    day: day.day,
                    start: v.start,
                    end: v.end,
                    minutes: v.minutes,
                    normalized_minutes: v.normalized_minutes,
                    risk: v.risk,
                    at_risk: day.at_risk,
                })
            })
            .collect())
    }

    /// Checks a warning package (read with [`WarningPackage::from_zip_bytes`] or `from_zip_file`),
    /// verified against the pinned export keys, against this phone's check-ins; keeps what concerns
    /// them and tells the listener of each new warning.
    pub fn process_warning_package(
        &self,
        package: WarningPackage,
    ) -> Result<PresenceCheckReport, Error> {
        self.check_warning_package(&package.verify(&self.inner.export_keys)?)
    }

    /// Checks a verified warning package (see [`process_warning_package`](Self::process_warning_package)).
    pub(crate) fn check_warning_package(
        &self,
        verified: &VerifiedWarningPackage,
    ) -> Result<PresenceCheckReport, Error> {
        // One check at a time, as for exports: the warnings told are read and written back.
        let _one_at_a_time = self
            .inner
            .checking
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let store = &self.inner.store;
        let digest = verified.package().digest();
        let mut report = PresenceCheckReport {
            reports: verified.package().header().report_count as u64,
            ..PresenceCheckReport::default()
        };
        if store.batch_processed(&digest)? {
            report.already_processed = true;
            return Ok(report);
        }
        let checkins = scoring_check_ins(&store.check_ins()?)?;
        let by_hash: std::collections::HashMap<_, LocationId> = checkins
            .iter()
            .map(|c| (c.location_id.hash(), c.location_id))
            .collect();
        let mut kept = Vec::new();
        for published in verified.reports().filter_map(Result::ok) {
            let Some(location_id) = by_hash.get(&published.location_id_hash) else {
                continue;
            };
            // A report that does not open (forged, or a hash collision) is of no use to keep.
            if let Ok(record) = published.open(location_id) {
                kept.push((record.end(), published.encode()));
            }
        }
        report.matched = kept.len() as u64;
        store.record_batch(
            BatchFindings::PresenceReports(&kept),
            &digest,
            self.now_ms(),
        )?;
        report.new_warnings = self.tell_new_warnings_locked()?;
        Ok(report)
    }

    /// The encrypted check-ins a positive report carries: every stay that overlaps UTC days
    /// `first_day` to today (up to now), each at the transmission risk level of its day relative to
    /// `reference_day` (the onset of symptoms, or the test), the newest [`MAX_CHECKINS_PER_UPLOAD`] at
    /// most, padded with fakes to that count and in an order that tells nothing; and the ids of the
    /// real ones.
    pub(crate) fn checkin_reports(
        &self,
        first_day: u32,
        reference_day: u32,
    ) -> Result<(Vec<u64>, Vec<ProtectedReport>), Error> {
        let now = self.now_s();
        let from = u64::from(first_day) * SECS_PER_DAY;
        let mut stays: Vec<StoredCheckIn> = self
            .inner
            .store
            .check_ins()?
            .into_iter()
            .filter(|c| c.departure.min(now) > from.max(c.arrival))
            .collect();
        stays.sort_by_key(|c| std::cmp::Reverse(c.arrival));
        stays.truncate(MAX_CHECKINS_PER_UPLOAD);
        let rng = SystemRandom::new();
        let real = stays
            .iter()
            .map(|c| {
                let day = (c.arrival / SECS_PER_DAY) as i64;
                let since = i32::try_from(day - i64::from(reference_day)).unwrap_or(i32::MIN);
                let record = CheckInRecord::covering(
                    c.arrival,
                    c.departure.min(now),
                    transmission_risk_level(since),
                )?;
                ProtectedReport::seal(&LocationId::of_payload(&c.payload), &record, &rng)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let ids = stays.iter().map(|c| c.id).collect();
        Ok((ids, pad_with_fakes(real, MAX_CHECKINS_PER_UPLOAD, &rng)?))
    }

    /// Marks the check-ins `ids` as uploaded by a positive report of this phone.
    pub(crate) fn mark_reported(&self, ids: &[u64]) -> Result<(), Error> {
        for mut stay in self.inner.store.check_ins()? {
            if ids.contains(&stay.id) {
                stay.reported = true;
                self.inner.store.put_check_in(&stay)?;
            }
        }
        Ok(())
    }

    /// Scores the warnings again and tells the listener of those at risk it was not told of.
    fn tell_new_warnings(&self) -> Result<Vec<PresenceWarning>, Error> {
        let _one_at_a_time = self
            .inner
            .checking
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        self.tell_new_warnings_locked()
    }

    /// The notification policy of presence warnings: each (check-in, day) at risk is told once, and
    /// remembered in the store so that a restart or a later package does not repeat it. The caller
    /// holds the check lock.
    fn tell_new_warnings_locked(&self) -> Result<Vec<PresenceWarning>, Error> {
        let store = &self.inner.store;
        let told = store.presence_told()?;
        let known: HashSet<(u64, u32)> = told.iter().copied().collect();
        let fresh: Vec<PresenceWarning> = self
            .presence_warnings()?
            .into_iter()
            .filter(|w| w.at_risk && !known.contains(&(w.check_in_id, w.day)))
            .collect();
        if fresh.is_empty() {
            return Ok(fresh);
        }
        let oldest_day = (self.now_ms() / MS_PER_DAY)
            .saturating_sub(u64::from(store.config().retention_days))
            as u32;
        let mut remembered: Vec<(u64, u32)> = told
            .into_iter()
            .filter(|(_, day)| *day >= oldest_day)
            .chain(fresh.iter().map(|w| (w.check_in_id, w.day)))
            .collect();
        remembered.sort_unstable();
        remembered.dedup();
        // Told before remembered: a crash in between repeats a warning rather than losing one.
        if let Some(listener) = &self.inner.listener {
            for warning in &fresh {
                listener.presence_warning(warning);
            }
        }
        store.set_presence_told(&remembered)?;
        Ok(fresh)
    }

    /// `at` if it is not in the future nor older than the retention period.
    fn past_time(&self, at: u64) -> Result<u64, Error> {
        let now = self.now_s();
        if at > now + CLOCK_SLACK_SECS {
            return Err(CheckInError::InTheFuture { at, now }.into());
        }
        let days = self.inner.store.config().retention_days;
        if at + u64::from(days) * SECS_PER_DAY < now {
            return Err(CheckInError::TooOld { at, days }.into());
        }
        Ok(at)
    }

    fn now_s(&self) -> u64 {
        self.now_ms() / 1000
    }

    fn entry_of(&self, stay: &StoredCheckIn, now: u64) -> Result<CheckInEntry, Error> {
        self.entry(stay, &Venue::from_payload(stay.payload.clone())?, now)
    }

    fn entry(&self, stay: &StoredCheckIn, venue: &Venue, now: u64) -> Result<CheckInEntry, Error> {
        let location = venue.location();
        Ok(CheckInEntry {
            id: stay.id,
            description: location.description.clone(),
            address: location.address.clone(),
            location_type: location.location_type,
            location_id: hex::encode(venue.location_id().0),
            arrival: stay.arrival,
            departure: stay.departure,
            checked_out: stay.checked_out,
            active: !stay.checked_out && stay.arrival <= now && now < stay.departure,
        })
    }
}

/// A stay must end after it begins and last at most the longest stay.
fn check_stay(arrival: u64, departure: u64) -> Result<(), Error> {
    let reason = if departure <= arrival {
        "ends before it begins"
    } else if departure - arrival > u64::from(MAX_STAY_MINUTES) * 60 {
        "lasts more than 24 hours"
    } else {
        return Ok(());
    };
    Err(CheckInError::BadStay {
        arrival,
        departure,
        reason,
    }
    .into())
}

/// The stays as scoring needs them, in the same order.
fn scoring_check_ins(stays: &[StoredCheckIn]) -> Result<Vec<CheckIn>, Error> {
    stays
        .iter()
        .map(|c| {
            let venue = Venue::from_payload(c.payload.clone())?;
            Ok(CheckIn {
                location_id: venue.location_id(),
                description: venue.location().description.clone(),
                address: venue.location().address.clone(),
                arrival: c.arrival,
                departure: c.departure,
            })
        })
        .collect()
}
