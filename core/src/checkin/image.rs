//! Reading a venue's QR code from a photo of its poster (PNG or JPEG), in pure Rust: `image` decodes the
//! picture, `rqrr` finds and reads the QR codes. The command line's `--image` and the shells' photo picker
//! use this; live camera scanning stays in the shells.
//!
//! A photo is untrusted input: its size and dimensions are capped before decoding, and a panic inside
//! the QR reader (a third-party decoder fed hostile pixels) becomes an error instead of reaching the user.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, ImageReader, Limits};

use super::link::CheckInLinks;
use super::venue::Venue;
use crate::error::{CheckInError, Error};

/// The largest image file accepted (a phone camera's JPEG is 2-8 MB).
pub const MAX_IMAGE_BYTES: usize = 32 << 20;

/// The largest width or height accepted, pixels.
pub const MAX_IMAGE_SIDE: u32 = 12_000;

/// Photos are first searched at this size (long side, pixels): faster, and a poster's code is large.
const SEARCH_SIDE: u32 = 1_600;

fn image_error(reason: String) -> Error {
    CheckInError::Image(reason).into()
}

/// The text of every QR code found in a PNG or JPEG image, in the order found.
pub fn qr_texts(image_bytes: &[u8]) -> Result<Vec<String>, Error> {
    let gray = decode_gray(image_bytes)?;
    let long_side = gray.width().max(gray.height());
    if long_side > SEARCH_SIDE {
        let scale = f64::from(SEARCH_SIDE) / f64::from(long_side);
        let small = image::imageops::resize(
            &gray,
            ((f64::from(gray.width()) * scale) as u32).max(1),
            ((f64::from(gray.height()) * scale) as u32).max(1),
            image::imageops::FilterType::Triangle,
        );
        let found = read_codes(small)?;
        if !found.is_empty() {
            return Ok(found);
        }
    }
    read_codes(gray)
}

/// The venue whose check-in code is in a photo: the first QR code that is a check-in link (of `links`'
/// base or CWA's). An image with codes but no check-in code gives the first code's error.
pub fn venue_from_image(image_bytes: &[u8], links: &CheckInLinks) -> Result<Venue, Error> {
    let texts = qr_texts(image_bytes)?;
    let mut first_error = None;
    for text in &texts {
        match links.venue(text) {
            Ok(venue) => return Ok(venue),
            Err(e) => {
                first_error.get_or_insert(Error::from(e));
            }
        }
    }
    Err(first_error.unwrap_or_else(|| {
        image_error(
            "no QR code found in the image; photograph the poster's code straight on, so that it fills a \
             good part of the picture"
                .into(),
        )
    }))
}

fn decode_gray(image_bytes: &[u8]) -> Result<GrayImage, Error> {
    if image_bytes.len() > MAX_IMAGE_BYTES {
        return Err(image_error(format!(
            "the image is {} bytes, at most {MAX_IMAGE_BYTES} are accepted",
            image_bytes.len()
        )));
    }
    let mut reader = ImageReader::new(Cursor::new(image_bytes))
        .with_guessed_format()
        .map_err(|e| image_error(format!("the image cannot be read: {e}")))?;
    if reader.format().is_none() {
        return Err(image_error(
            "the file is not a PNG or JPEG image; give a photo of the poster".into(),
        ));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    reader.limits(limits);
    let image: DynamicImage = reader.decode().map_err(|e| {
        image_error(format!(
            "the image cannot be decoded ({e}); give a PNG or JPEG photo"
        ))
    })?;
    Ok(image.into_luma8())
}

fn read_codes(gray: GrayImage) -> Result<Vec<String>, Error> {
    std::panic::catch_unwind(move || {
        let mut prepared = rqrr::PreparedImage::prepare(gray);
        prepared
            .detect_grids()
            .into_iter()
            .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
            .collect()
    })
    .map_err(|_| image_error("the QR reader failed on this image; take another photo".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkin::venue::NewVenue;
    use crate::wire::Error as WireError;
    use image::{ImageFormat, Luma};

    /// A QR code (error correction Q, as posters use) drawn `scale` pixels per module with a quiet zone.
    fn qr_image(text: &str, scale: u32) -> GrayImage {
        let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::Q).unwrap();
        let n = code.width() as u32;
        let colors = code.to_colors();
        GrayImage::from_fn((n + 8) * scale, (n + 8) * scale, |x, y| {
            let (mx, my) = ((x / scale).wrapping_sub(4), (y / scale).wrapping_sub(4));
            let dark = mx < n && my < n && colors[(my * n + mx) as usize] == qrcode::Color::Dark;
            Luma([if dark { 20 } else { 235 }])
        })
    }

    fn encoded(img: &GrayImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn gate() -> Venue {
        NewVenue {
            address: Some("12 Lý Thường Kiệt, Hà Nội".into()),
            default_checkin_minutes: 480,
            visitor_log_key: Some([9; 32]),
            ..NewVenue::classroom("Cổng trường")
        }
        .create(1_780_000_000, &ring::rand::SystemRandom::new())
        .unwrap()
    }

    #[test]
    fn a_poster_code_is_read_from_png_and_jpeg() {
        let links = CheckInLinks::default();
        let venue = gate();
        let img = qr_image(&links.link(&venue), 6);
        for format in [ImageFormat::Png, ImageFormat::Jpeg] {
            assert_eq!(
                venue_from_image(&encoded(&img, format), &links).unwrap(),
                venue,
                "{format:?}"
            );
        }
        // A large photo is searched small first, and still found.
        let big = image::imageops::resize(&img, 2400, 2400, image::imageops::FilterType::Nearest);
        assert_eq!(
            venue_from_image(&encoded(&big, ImageFormat::Png), &links).unwrap(),
            venue
        );
    }

    #[test]
    fn another_apps_code_is_refused_as_such() {
        let img = qr_image("https://example.com/menu", 5);
        assert_eq!(
            qr_texts(&encoded(&img, ImageFormat::Png)).unwrap(),
            ["https://example.com/menu"]
        );
        assert!(matches!(
            venue_from_image(&encoded(&img, ImageFormat::Png), &CheckInLinks::default()),
            Err(Error::Wire(WireError::CheckIn(
                CheckInError::NotACheckInCode { .. }
            )))
        ));
    }

    #[test]
    fn garbage_and_non_images_are_clear_errors() {
        for bytes in [
            &b""[..],
            b"not an image",
            &[0x89, b'P', b'N', b'G', 0, 0, 0],
        ] {
            assert!(matches!(
                qr_texts(bytes),
                Err(Error::Wire(WireError::CheckIn(CheckInError::Image(_))))
            ));
        }
        let blank = encoded(
            &GrayImage::from_pixel(200, 100, Luma([255])),
            ImageFormat::Png,
        );
        assert_eq!(qr_texts(&blank).unwrap(), Vec::<String>::new());
        assert!(matches!(
            venue_from_image(&blank, &CheckInLinks::default()),
            Err(Error::Wire(WireError::CheckIn(CheckInError::Image(m)))) if m.contains("no QR code")
        ));
        let mut truncated = blank.clone();
        truncated.truncate(blank.len() / 2);
        assert!(qr_texts(&truncated).is_err());
        assert!(qr_texts(&vec![0u8; MAX_IMAGE_BYTES + 1]).is_err());
        // A PNG whose header claims 20,000 x 20,000 pixels is refused before decoding.
        let mut huge = blank.clone();
        huge[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        huge[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        assert!(matches!(
            qr_texts(&huge),
            Err(Error::Wire(WireError::CheckIn(CheckInError::Image(_))))
        ));
    }
}
