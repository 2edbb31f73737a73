//! The fonts posters are drawn with, compiled in (`poster/fonts/`, provenance and licence in its README):
//! DejaVu Sans and DejaVu Sans Bold, which cover Vietnamese. The renderers get a font database holding
//! these two only; system fonts are never looked up, so a poster looks the same everywhere.

use std::sync::Arc;

use resvg::usvg;

/// The family name the template uses.
pub const FAMILY: &str = "DejaVu Sans";

const REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// SVG parsing options whose only fonts are the embedded ones.
pub fn svg_options() -> usvg::Options<'static> {
    let mut db = usvg::fontdb::Database::new();
    db.load_font_data(REGULAR.to_vec());
    db.load_font_data(BOLD.to_vec());
    db.set_sans_serif_family(FAMILY);
    usvg::Options {
        font_family: FAMILY.to_owned(),
        fontdb: Arc::new(db),
        ..usvg::Options::default()
    }
}
