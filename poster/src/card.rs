//! A student's printed card, 54 × 86 mm (an ID card upright): a band, the QR code the guard's device
//! scans (the card's text, [`StudentCard::to_text`]), the name and the class. Nothing else is printed or
//! encoded.

use openzone_core::visitorlog::StudentCard;

use crate::template::{centred_text, qr_sized};
use crate::PosterError;

const CARD_WIDTH_MM: f64 = 54.0;
const CARD_HEIGHT_MM: f64 = 86.0;
const QR_MM: f64 = 44.0;
const BAND: &str = "#0b5394";

/// The card as SVG text.
pub fn svg(card: &StudentCard) -> Result<String, PosterError> {
    let (w, h) = (CARD_WIDTH_MM, CARD_HEIGHT_MM);
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}mm" height="{h}mm" viewBox="0 0 {w} {h}" font-family="{}"><rect width="{w}" height="{h}" fill="white"/><rect width="{w}" height="14" fill="{BAND}"/>"#,
        crate::fonts::FAMILY
    );
    centred_text(&mut out, w / 2.0, 6.5, 4.2, true, "white", "THẺ HỌC SINH");
    centred_text(&mut out, w / 2.0, 11.5, 3.2, false, "white", "Student card");
    qr_sized(&mut out, &card.to_text(), (w - QR_MM) / 2.0, 17.0, QR_MM)?;
    centred_text(&mut out, w / 2.0, 70.0, 4.2, true, "black", &card.name);
    centred_text(
        &mut out,
        w / 2.0,
        77.0,
        3.8,
        false,
        "#444444",
        &format!("Lớp / Class {}", card.class),
    );
    out.push_str("</svg>");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_card_scans_back_to_its_name_and_class() {
        let card = StudentCard::new("Phạm Minh Châu", "5A").unwrap();
        let png = crate::render::png(&svg(&card).unwrap(), 640).unwrap();
        let texts = openzone_core::checkin::image::qr_texts(&png).unwrap();
        assert_eq!(texts.len(), 1);
        assert_eq!(StudentCard::from_text(&texts[0]).unwrap(), card);
    }
}
