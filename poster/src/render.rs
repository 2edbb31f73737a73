//! Rendering the SVG template: to PNG with resvg, and to PDF with svg2pdf, one A4 page per poster.

use std::collections::HashMap;

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref};
use resvg::{tiny_skia, usvg};

use crate::fonts::svg_options;
use crate::template::{PAGE_HEIGHT_MM, PAGE_WIDTH_MM};
use crate::PosterError;

/// PDF points per millimetre.
const POINTS_PER_MM: f32 = 72.0 / 25.4;

/// The widest PNG made, pixels (A4 at 300 dpi is 2480).
pub const MAX_PNG_WIDTH: u32 = 4_000;

fn parse(svg: &str, options: &usvg::Options<'_>) -> Result<usvg::Tree, PosterError> {
    usvg::Tree::from_str(svg, options).map_err(|e| PosterError::Render(e.to_string()))
}

/// The poster as a PNG `width` pixels wide (A4 proportions; 1240 is A4 at 150 dpi).
pub fn png(svg: &str, width: u32) -> Result<Vec<u8>, PosterError> {
    if !(1..=MAX_PNG_WIDTH).contains(&width) {
        return Err(PosterError::Render(format!(
            "a PNG is 1 to {MAX_PNG_WIDTH} pixels wide, not {width}"
        )));
    }
    let tree = parse(svg, &svg_options())?;
    let scale = width as f32 / tree.size().width();
    let height = (tree.size().height() * scale).ceil() as u32;
    let mut pixmap = tiny_skia::Pixmap::new(width, height)
        .ok_or_else(|| PosterError::Render(format!("cannot allocate {width}x{height} pixels")))?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| PosterError::Render(format!("cannot encode the PNG: {e}")))
}

/// A PDF with one A4 page per poster, in order.
pub fn pdf(svgs: &[String]) -> Result<Vec<u8>, PosterError> {
    let options = svg_options();
    let mut alloc = Ref::new(1);
    let catalog = alloc.bump();
    let page_tree = alloc.bump();
    let mut pdf = Pdf::new();
    let mut pages = Vec::with_capacity(svgs.len());
    let (w, h) = (
        PAGE_WIDTH_MM as f32 * POINTS_PER_MM,
        PAGE_HEIGHT_MM as f32 * POINTS_PER_MM,
    );
    for svg in svgs {
        let tree = parse(svg, &options)?;
        let (chunk, svg_ref) = svg2pdf::to_chunk(&tree, svg2pdf::ConversionOptions::default())
            .map_err(|e| PosterError::Render(format!("cannot convert to PDF: {e}")))?;
        let mut map = HashMap::new();
        let chunk = chunk.renumber(|old| *map.entry(old).or_insert_with(|| alloc.bump()));
        let svg_ref = map
            .get(&svg_ref)
            .copied()
            .ok_or_else(|| PosterError::Render("the converted SVG lost its root object".into()))?;
        let page = alloc.bump();
        let content = alloc.bump();
        let mut page_writer = pdf.page(page);
        page_writer.media_box(Rect::new(0.0, 0.0, w, h));
        page_writer.parent(page_tree);
        page_writer.contents(content);
        page_writer
            .resources()
            .x_objects()
            .pair(Name(b"P"), svg_ref);
        page_writer.finish();
        // The chunk's XObject is one point square: scale it to the page.
        let mut stream = Content::new();
        stream
            .transform([w, 0.0, 0.0, h, 0.0, 0.0])
            .x_object(Name(b"P"));
        pdf.stream(content, &stream.finish());
        pdf.extend(&chunk);
        pages.push(page);
    }
    pdf.catalog(catalog).pages(page_tree);
    pdf.pages(page_tree)
        .kids(pages.iter().copied())
        .count(pages.len() as i32);
    Ok(pdf.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::svg;
    use openzone_core::checkin::image::venue_from_image;
    use openzone_core::checkin::{CheckInLinks, NewVenue, Venue};

    fn venue(name: &str) -> Venue {
        NewVenue {
            address: Some("12 Lý Thường Kiệt, Hà Nội".into()),
            ..NewVenue::classroom(name)
        }
        .create(1_780_000_000, &ring::rand::SystemRandom::new())
        .unwrap()
    }

    #[test]
    fn the_png_poster_scans_back_to_its_venue() {
        let links = CheckInLinks::new("https://school.example/checkin").unwrap();
        let venue = venue("Lớp 6A <script>&</script>");
        let poster = svg(&venue, &links.link(&venue)).unwrap();
        assert!(poster.contains("Lớp 6A &lt;script&gt;&amp;&lt;/script&gt;"));
        let png = png(&poster, 900).unwrap();
        assert_eq!(venue_from_image(&png, &links).unwrap(), venue);
        assert!(super::png(&poster, 0).is_err());
        assert!(super::png(&poster, MAX_PNG_WIDTH + 1).is_err());
    }

    #[test]
    fn a_pdf_has_one_a4_page_per_poster() {
        let links = CheckInLinks::default();
        let posters: Vec<String> = ["Lớp 6A", "Lớp 6B", "Cổng trường"]
            .iter()
            .map(|n| {
                let venue = venue(n);
                svg(&venue, &links.link(&venue)).unwrap()
            })
            .collect();
        let pdf = pdf(&posters).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert_eq!(text.matches("/Type /Page\n").count(), 3, "three pages");
        assert!(text.contains("/Count 3"));
        assert_eq!(
            text.matches("/MediaBox [0 0 595.27563 841.8898]").count(),
            3,
            "A4"
        );
    }

    #[test]
    fn a_broken_svg_is_an_error() {
        assert!(matches!(png("<svg", 100), Err(PosterError::Render(_))));
        assert!(matches!(
            pdf(&["not svg".into()]),
            Err(PosterError::Render(_))
        ));
    }
}
