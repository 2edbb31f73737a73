//! openzone-poster: printable check-in posters for OpenZone venues.
//!
//! One SVG template ([`template::svg`]) holds the venue's QR code (error correction Q), its name and
//! address, and short instructions in Vietnamese and English. It is rendered to PNG with resvg and to A4
//! PDF with svg2pdf ([`render`]), with the DejaVu Sans fonts compiled into the crate as the only fonts
//! ([`fonts`]). [`rooms`] reads a school's list of rooms from CSV for a batch of posters.
//!
//! The phone library does not depend on this crate: PDF and font code stays out of the apps.
//!
//! # Public API
//!
//! - [`template::svg`]: the poster of a venue, as SVG text; [`card::svg`]: a student's printed card.
//! - [`render::png`], [`render::pdf`]: SVG to PNG, SVGs to a PDF of one A4 page each.
//! - [`rooms::read_rooms`], [`rooms::Room`]: the CSV batch format, `name,address,type,minutes`.
//! - [`Format`]: the output format a file name asks for.
//! - [`PosterError`]: the one error type of this crate.

#![forbid(unsafe_code)]

pub mod card;
pub mod fonts;
pub mod render;
pub mod rooms;
pub mod template;

use thiserror::Error;

/// Everything that can go wrong making a poster.
#[derive(Debug, Error)]
pub enum PosterError {
    /// The venue or its link was refused by the core.
    #[error("{0}")]
    Core(#[from] openzone_core::Error),
    /// What phones and the key server share refused the input or failed (openzone-wire).
    #[error(transparent)]
    Wire(#[from] openzone_core::wire::Error),
    /// The check-in link does not fit in a QR code (it cannot happen for a valid venue).
    #[error("the check-in link cannot be drawn as a QR code: {0}")]
    Qr(String),
    /// The renderer refused the SVG (a bug in the template, or a hand-edited SVG).
    #[error("cannot render the poster: {0}")]
    Render(String),
    /// A row of the rooms CSV that cannot be used.
    #[error("rooms CSV, line {line}: {reason}")]
    Csv {
        /// The line number in the file (the header is line 1).
        line: u64,
        /// What is wrong and what to write instead.
        reason: String,
    },
}

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A4 PDF.
    Pdf,
    /// SVG, A4 sized.
    Svg,
    /// PNG, A4 proportions.
    Png,
}

impl Format {
    /// The format a file name's extension asks for (`.pdf`, `.svg`, `.png`, any case).
    pub fn of_path(path: &std::path::Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "pdf" => Some(Self::Pdf),
            "svg" => Some(Self::Svg),
            "png" => Some(Self::Png),
            _ => None,
        }
    }

    /// The extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Svg => "svg",
            Self::Png => "png",
        }
    }
}
