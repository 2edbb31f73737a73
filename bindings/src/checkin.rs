//! Presence tracing for the shells: check in from a scanned link or a photo of a poster, check out, edit,
//! list, and the warnings found. Each method is one line into [`openzone_core::phone::Phone`].

use openzone_core::checkin::package::WarningPackage;
use openzone_core::phone::{self as core_phone, CheckInEntry, CheckInSource};
use openzone_core::time::format_day;

use crate::{OpenZoneError, OpenZonePhone};

/// One stay at a venue, the core's record as it is (see `openzone_core::phone::CheckInEntry`).
#[uniffi::remote(Record)]
pub struct CheckInEntry {
    id: u64,
    description: String,
    address: String,
    location_type: i32,
    location_id: String,
    arrival: u64,
    departure: u64,
    checked_out: bool,
    active: bool,
}

/// A confirmed case was at a venue at the same time as the user, on one day.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PresenceWarningInfo {
    /// The check-in it concerns.
    pub check_in_id: u64,
    /// The venue's name (the user's own record).
    pub description: String,
    /// The venue's address.
    pub address: String,
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    /// Start of the overlap, UTC unix seconds.
    pub start: u64,
    /// End of the overlap, UTC unix seconds.
    pub end: u64,
    /// Minutes of overlap.
    pub minutes: u64,
    /// The user should act (high risk that day or at that venue).
    pub at_risk: bool,
}

impl From<&core_phone::PresenceWarning> for PresenceWarningInfo {
    fn from(w: &core_phone::PresenceWarning) -> Self {
        Self {
            check_in_id: w.check_in_id,
            description: w.description.clone(),
            address: w.address.clone(),
            date: format_day(w.day),
            start: w.start,
            end: w.end,
            minutes: w.minutes,
            at_risk: w.at_risk,
        }
    }
}

/// Exports a check-in from one kind of poster reading: the argument becomes that [`CheckInSource`], the
/// rest is the same for every kind.
macro_rules! check_in_from {
    ($(#[doc = $doc:literal])* $name:ident($arg:ident: $ty:ty) => $source:ident) => {
        #[uniffi::export]
        impl OpenZonePhone {
            $(#[doc = $doc])*
            pub fn $name(
                &self,
                $arg: $ty,
                at: Option<u64>,
                minutes: Option<u32>,
            ) -> Result<CheckInEntry, OpenZoneError> {
                self.core()
                    .check_in(CheckInSource::$source(&$arg), at, minutes)
                    .map_err(Into::into)
            }
        }
    };
}

check_in_from! {
    /// Checks in from the text of a poster's QR code at `at` (default now) for `minutes` (default the
    /// venue's); a second scan during a stay extends it.
    check_in_link(link: String) => Link
}

check_in_from! {
    /// Checks in from a photo of a poster (PNG or JPEG).
    check_in_image(image: Vec<u8>) => Image
}

#[uniffi::export]
impl OpenZonePhone {
    /// Checks out at `at` (default now) of check-in `id`, or of every stay in progress.
    pub fn check_out(
        &self,
        id: Option<u64>,
        at: Option<u64>,
    ) -> Result<Vec<CheckInEntry>, OpenZoneError> {
        self.core().check_out(id, at).map_err(Into::into)
    }

    /// Changes the times of check-in `id`.
    pub fn edit_check_in(
        &self,
        id: u64,
        arrival: u64,
        departure: u64,
    ) -> Result<CheckInEntry, OpenZoneError> {
        Ok(self.core().edit_check_in(id, arrival, departure)?)
    }

    /// Every stay kept (14 days), by arrival.
    pub fn check_ins(&self) -> Result<Vec<CheckInEntry>, OpenZoneError> {
        self.core().check_ins().map_err(Into::into)
    }

    /// Checks a downloaded warning package (a zip, verified against the pinned export keys) against the
    /// check-ins; returns the new warnings (the listener heard of each).
    pub fn process_warning_package(
        &self,
        zip: Vec<u8>,
    ) -> Result<Vec<PresenceWarningInfo>, OpenZoneError> {
        let package = WarningPackage::from_zip_bytes(&zip)?;
        let checked = self.core().process_warning_package(package)?;
        Ok(checked.new_warnings.iter().map(Into::into).collect())
    }

    /// Every overlap with a confirmed case found so far.
    pub fn presence_warnings(&self) -> Result<Vec<PresenceWarningInfo>, OpenZoneError> {
        Ok(self
            .core()
            .presence_warnings()?
            .iter()
            .map(Into::into)
            .collect())
    }
}
