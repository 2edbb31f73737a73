//! The poster, as one A4 SVG (units are millimetres): a title band, the venue's name and address, the QR
//! code of its check-in link (error correction Q: a quarter of the code may be dirty or torn), and what to
//! do, in Vietnamese and English.
//!
//! Every text from the venue is XML-escaped; SVG does not wrap text, so lines are broken here by an
//! estimate of DejaVu Sans' widths (conservative: a line never runs off the page).

use std::fmt::Write as _;

#[cfg(doc)]
use openzone_core::checkin::CheckInLinks;
use openzone_core::checkin::{LocationType, Venue};
use qrcode::{Color, EcLevel, QrCode};

use crate::fonts::FAMILY;
use crate::PosterError;

/// A4, millimetres.
pub const PAGE_WIDTH_MM: f64 = 210.0;
/// A4, millimetres.
pub const PAGE_HEIGHT_MM: f64 = 297.0;

const MARGIN: f64 = 15.0;
const TEXT_WIDTH: f64 = PAGE_WIDTH_MM - 2.0 * MARGIN;
const QR_SIZE: f64 = 112.0;
const BAND: &str = "#0b5394";

/// Vietnam's offset from UTC (UTC+7, no daylight saving): the posters are for Vietnamese schools, whose
/// events are announced in local time.
const VIETNAM_UTC_OFFSET_SECS: u64 = 7 * 3600;

/// Average advance of DejaVu Sans per font size (em), a little above the real average so that lines stay
/// within the page; bold is wider.
const EM_REGULAR: f64 = 0.58;
const EM_BOLD: f64 = 0.66;

/// The poster of `venue`, whose QR code holds `link` (the venue's check-in link, as
/// [`CheckInLinks::link`] wrote it).
pub fn svg(venue: &Venue, link: &str) -> Result<String, PosterError> {
    let location = venue.location();
    let minutes = venue.stay_minutes(None)?;
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{PAGE_WIDTH_MM}mm" height="{PAGE_HEIGHT_MM}mm" viewBox="0 0 {PAGE_WIDTH_MM} {PAGE_HEIGHT_MM}" font-family="{FAMILY}">"#
    );
    let _ = write!(
        out,
        r#"<rect width="{PAGE_WIDTH_MM}" height="{PAGE_HEIGHT_MM}" fill="white"/><rect width="{PAGE_WIDTH_MM}" height="36" fill="{BAND}"/>"#
    );
    text(&mut out, 17.0, 10.0, true, "white", "QUÉT MÃ ĐỂ ĐIỂM DANH");
    text(&mut out, 28.5, 6.5, false, "white", "Scan to check in");

    let mut y = 50.0;
    let (name_size, name_lines) = fit(&location.description, &[10.0, 8.5, 7.0, 6.0], 3, EM_BOLD);
    for line in &name_lines {
        text(&mut out, y, name_size, true, "black", line);
        y += name_size * 1.2;
    }
    if location.address != location.description {
        for line in wrap(&location.address, 4.5, EM_REGULAR).iter().take(2) {
            text(&mut out, y, 4.5, false, "#444444", line);
            y += 5.6;
        }
    }
    if let (Some(start), Some(end)) = (location.start, location.end) {
        let when = format!(
            "{} – {} (giờ Việt Nam / Vietnam time)",
            local(start),
            local(end)
        );
        text(&mut out, y, 4.2, false, "#444444", &when);
        y += 5.6;
    }

    let qr_top = y.max(78.0) + 2.0;
    qr(&mut out, link, (PAGE_WIDTH_MM - QR_SIZE) / 2.0, qr_top)?;

    let stay_vi = duration(minutes, "giờ", "phút");
    let stay_en = duration(minutes, "hours", "minutes");
    let mut lines: Vec<(f64, bool, &str, String)> = vec![
        (4.6, true, "black", "Cách điểm danh".into()),
        (
            4.0,
            false,
            "black",
            "1. Mở ứng dụng OpenZone (hoặc Corona-Warn-App), chọn Điểm danh.".into(),
        ),
        (
            4.0,
            false,
            "black",
            format!("2. Quét mã này khi đến. Ứng dụng tự kết thúc sau {stay_vi}."),
        ),
        (
            4.0,
            false,
            "black",
            "3. Lịch sử chỉ lưu trên điện thoại của bạn, trong 14 ngày. Nếu một".into(),
        ),
        (
            4.0,
            false,
            "black",
            "   ca bệnh có mặt ở đây cùng lúc với bạn, ứng dụng sẽ báo cho bạn.".into(),
        ),
        (4.6, true, "#444444", "How to check in".into()),
        (
            4.0,
            false,
            "#444444",
            "1. Open OpenZone (or Corona-Warn-App) and tap Check in.".into(),
        ),
        (
            4.0,
            false,
            "#444444",
            format!("2. Scan this code when you arrive; you are checked out after {stay_en}."),
        ),
        (
            4.0,
            false,
            "#444444",
            "3. Your visits stay on your phone for 14 days. If a confirmed case was".into(),
        ),
        (
            4.0,
            false,
            "#444444",
            "   here at the same time as you, the app tells you.".into(),
        ),
    ];
    if location.visitor_log_key.is_some() {
        lines.push((
            4.0,
            true,
            BAND,
            "Nơi này đề nghị khách đăng ký: ứng dụng hỏi bạn trước khi gửi.".into(),
        ));
        lines.push((
            4.0,
            true,
            BAND,
            "This place asks visitors to register: the app asks you first.".into(),
        ));
    }
    let mut y = qr_top + QR_SIZE + 9.0;
    for (size, bold, color, line) in &lines {
        if *bold && y > qr_top + QR_SIZE + 10.0 {
            y += 1.5;
        }
        left_text(&mut out, y, *size, *bold, color, line);
        y += size * 1.45;
    }
    let kind = LocationType::from_number(location.location_type).map_or("", |t| t.name());
    let footer = format!("OpenZone · Corona-Warn-App · {kind}");
    text(
        &mut out,
        PAGE_HEIGHT_MM - 8.0,
        3.2,
        false,
        "#777777",
        &footer,
    );
    out.push_str("</svg>");
    Ok(out)
}

/// The QR code as one path, `QR_SIZE` millimetres wide at (`x`, `y`), quiet zone included.
fn qr(out: &mut String, link: &str, x: f64, y: f64) -> Result<(), PosterError> {
    qr_sized(out, link, x, y, QR_SIZE)
}

/// A QR code of `content` (error correction Q) `size` wide, its top left corner at (x, y).
pub(crate) fn qr_sized(
    out: &mut String,
    content: &str,
    x: f64,
    y: f64,
    size: f64,
) -> Result<(), PosterError> {
    let code = QrCode::with_error_correction_level(content.as_bytes(), EcLevel::Q)
        .map_err(|e| PosterError::Qr(e.to_string()))?;
    let n = code.width();
    let quiet = 4;
    let module = size / (n + 2 * quiet) as f64;
    let _ = write!(
        out,
        r#"<g transform="translate({x:.3} {y:.3}) scale({module:.5})"><rect width="{w}" height="{w}" fill="white"/><path fill="black" shape-rendering="crispEdges" d=""#,
        w = n + 2 * quiet
    );
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == Color::Dark {
            let _ = write!(out, "M{} {}h1v1h-1z", i % n + quiet, i / n + quiet);
        }
    }
    out.push_str(r#""/></g>"#);
    Ok(())
}

/// Centred text.
fn text(out: &mut String, y: f64, size: f64, bold: bool, color: &str, content: &str) {
    centred_text(out, PAGE_WIDTH_MM / 2.0, y, size, bold, color, content);
}

/// Text centred on `x`.
pub(crate) fn centred_text(
    out: &mut String,
    x: f64,
    y: f64,
    size: f64,
    bold: bool,
    color: &str,
    content: &str,
) {
    let weight = if bold { "bold" } else { "normal" };
    let _ = write!(
        out,
        r#"<text x="{x}" y="{y:.2}" font-size="{size}" font-weight="{weight}" fill="{color}" text-anchor="middle">{}</text>"#,
        escape(content)
    );
}

/// Left-aligned text at the margin (spaces kept, for the hanging indent of numbered lines).
fn left_text(out: &mut String, y: f64, size: f64, bold: bool, color: &str, content: &str) {
    let weight = if bold { "bold" } else { "normal" };
    let _ = write!(
        out,
        r#"<text x="{MARGIN}" y="{y:.2}" font-size="{size}" font-weight="{weight}" fill="{color}" xml:space="preserve">{}</text>"#,
        escape(content)
    );
}

/// The characters XML text and attribute values must not hold as they are, and their entities.
const ENTITIES: [(char, &str); 5] = [
    ('&', "&amp;"),
    ('<', "&lt;"),
    ('>', "&gt;"),
    ('"', "&quot;"),
    ('\'', "&apos;"),
];

/// XML-escapes text content and attribute values. Control characters, which XML 1.0 does not allow and
/// a venue's text never needs, become spaces.
pub fn escape(text: &str) -> String {
    text.chars()
        .fold(String::with_capacity(text.len()), |mut out, c| {
            match ENTITIES.iter().find(|(special, _)| *special == c) {
                Some((_, entity)) => out.push_str(entity),
                None if c.is_control() => out.push(' '),
                None => out.push(c),
            }
            out
        })
}

/// The largest of `sizes` at which `text` fits in `max_lines`, with its lines (the smallest size, cut to
/// `max_lines` with an ellipsis, if none fits).
fn fit(text: &str, sizes: &[f64], max_lines: usize, em: f64) -> (f64, Vec<String>) {
    let mut last = (0.0, Vec::new());
    for &size in sizes {
        let lines = wrap(text, size, em);
        if lines.len() <= max_lines {
            return (size, lines);
        }
        last = (size, lines);
    }
    let (size, mut lines) = last;
    lines.truncate(max_lines);
    if let Some(l) = lines.last_mut() {
        l.push('…');
    }
    (size, lines)
}

/// Greedy word wrap to the text width at `size`; a word longer than a line is cut.
fn wrap(text: &str, size: f64, em: f64) -> Vec<String> {
    let max = ((TEXT_WIDTH / (size * em)) as usize).max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > max {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(word.drain(..max).collect());
        }
        let word: String = word.into_iter().collect();
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > max {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// "8 giờ" / "45 phút".
fn duration(minutes: u32, hours_word: &str, minutes_word: &str) -> String {
    if minutes.is_multiple_of(60) {
        format!("{} {hours_word}", minutes / 60)
    } else {
        format!("{minutes} {minutes_word}")
    }
}

/// `DD/MM/YYYY HH:MM` in Vietnam's time.
fn local(unix: u64) -> String {
    let t = unix.saturating_add(VIETNAM_UTC_OFFSET_SECS);
    let day = u32::try_from(t / 86_400).unwrap_or(u32::MAX);
    let (y, m, d) = openzone_core::time::civil_from_days(day);
    let secs = t % 86_400;
    format!(
        "{d:02}/{m:02}/{y} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_markup_out() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
        assert_eq!(escape("Lớp 6A\u{0}\u{7}"), "Lớp 6A  ");
    }

    #[test]
    fn wrapping_fits_the_width() {
        let name = "Phòng thí nghiệm Hoá học và Sinh học của trường Trung học phổ thông Chu Văn An, Hà Nội";
        let (size, lines) = fit(name, &[10.0, 8.5, 7.0, 6.0], 3, EM_BOLD);
        assert!(lines.len() <= 3 && size < 10.0, "{size} {lines:?}");
        assert_eq!(lines.join(" "), name);
        let long_word = "x".repeat(100);
        let (_, lines) = fit(&long_word, &[10.0], 3, EM_BOLD);
        assert_eq!(lines.len(), 3);
        assert!(lines[2].ends_with('…'));
        assert_eq!(wrap("", 5.0, EM_REGULAR), Vec::<String>::new());
    }

    #[test]
    fn durations_and_local_times() {
        assert_eq!(duration(480, "giờ", "phút"), "8 giờ");
        assert_eq!(duration(45, "giờ", "phút"), "45 phút");
        // 2026-05-29 00:00 UTC is 07:00 in Hanoi.
        assert_eq!(local(1_780_012_800), "29/05/2026 07:00");
    }
}
