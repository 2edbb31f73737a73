//! Posters and photos of posters.
//!
//! `cargo bench -p openzone-poster --bench posters`. Cases, in one run:
//! - `qr_photo/decode_1000x1000`: reading the venue from a 1,000 x 1,000 photo-like JPEG of a poster
//!   (rendered, scaled to 75 %, rotated by 8 degrees, lit unevenly, with noise), as `venue inspect IMAGE`
//!   and the shells' photo picker do;
//! - `batch_30_rooms/pdf`: a CSV of 30 rooms to one 30-page PDF (venues, SVGs, PDF);
//! - `batch_30_rooms/png`: the same 30 posters as PNGs of 1,240 pixels (A4 at 150 dpi).
#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::io::Cursor;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use image::{GrayImage, ImageFormat, Luma};
use openzone_core::checkin::image::venue_from_image;
use openzone_core::checkin::{CheckInLinks, NewVenue, Venue};
use openzone_core::seeded::SplitMix64;
use openzone_poster::{render, rooms, template};
use ring::rand::SystemRandom;

fn venue() -> Venue {
    NewVenue {
        address: Some("12 Lý Thường Kiệt, Hoàn Kiếm, Hà Nội".into()),
        ..NewVenue::classroom("Lớp 6A – Trường THCS Nguyễn Du")
    }
    .create(1_780_000_000, &SystemRandom::new())
    .expect("venue")
}

/// A 1,000 x 1,000 grey photo of the poster: scaled, rotated, unevenly lit, noisy, JPEG at quality 85.
fn photo(poster_png: &[u8]) -> Vec<u8> {
    let poster = image::load_from_memory(poster_png)
        .expect("png")
        .into_luma8();
    let (pw, ph) = (poster.width() as f64, poster.height() as f64);
    let angle = 8f64.to_radians();
    let scale = 0.75 * 1000.0 / pw.max(ph) * 1.3;
    let mut noise = SplitMix64::new(7);
    let img = GrayImage::from_fn(1000, 1000, |x, y| {
        // Inverse mapping: photo pixel -> poster pixel, around the centres.
        let (dx, dy) = (x as f64 - 500.0, y as f64 - 430.0);
        let (sx, sy) = (
            (dx * angle.cos() + dy * angle.sin()) / scale + pw / 2.0,
            (-dx * angle.sin() + dy * angle.cos()) / scale + ph / 2.0,
        );
        let base = if sx >= 0.0 && sy >= 0.0 && sx < pw - 1.0 && sy < ph - 1.0 {
            f64::from(poster.get_pixel(sx as u32, sy as u32)[0])
        } else {
            90.0 // the wall
        };
        let light = 0.75 + 0.25 * (x as f64 / 1000.0);
        let value = base * light + noise.normal() * 12.0;
        Luma([value.clamp(0.0, 255.0) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageLuma8(img)
        .write_to(&mut out, ImageFormat::Jpeg)
        .expect("jpeg");
    out.into_inner()
}

fn rooms_csv() -> String {
    let mut csv = String::from("name,address,type,minutes\n");
    for i in 1..=30 {
        csv.push_str(&format!(
            "Lớp {}{},Tầng {},7,45\n",
            6 + i % 4,
            ["A", "B", "C"][i % 3],
            i % 4 + 1
        ));
    }
    csv
}

fn svgs(csv: &str) -> Vec<String> {
    let links = CheckInLinks::default();
    let rng = SystemRandom::new();
    rooms::read_rooms(csv.as_bytes())
        .expect("rooms")
        .iter()
        .map(|room| {
            let venue = room.venue.create(1_780_000_000, &rng).expect("venue");
            template::svg(&venue, &links.link(&venue)).expect("svg")
        })
        .collect()
}

fn posters(c: &mut Criterion) {
    let links = CheckInLinks::default();
    let venue = venue();
    let poster = render::png(
        &template::svg(&venue, &links.link(&venue)).expect("svg"),
        1240,
    )
    .expect("png");
    let jpeg = photo(&poster);
    if let Ok(dir) = std::env::var("OPENZONE_BENCH_PHOTO") {
        std::fs::write(dir, &jpeg).expect("photo written");
    }
    assert_eq!(
        venue_from_image(&jpeg, &links).expect("the photo scans"),
        venue
    );
    let mut group = c.benchmark_group("qr_photo");
    group.sample_size(20);
    group.bench_function("decode_1000x1000", |b| {
        b.iter(|| venue_from_image(black_box(&jpeg), &links).expect("scans"))
    });
    group.finish();

    let csv = rooms_csv();
    let mut group = c.benchmark_group("batch_30_rooms");
    group.sample_size(10);
    group.bench_function("pdf", |b| {
        b.iter(|| black_box(render::pdf(&svgs(black_box(&csv))).expect("pdf")))
    });
    group.bench_function("png", |b| {
        b.iter(|| {
            for svg in svgs(black_box(&csv)) {
                black_box(render::png(&svg, 1240).expect("png"));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, posters);
criterion_main!(benches);
