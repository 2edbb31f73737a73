//! End-to-end tests across OpenZone's crates live in `tests/`; this library holds what they share.

pub mod browser;
pub mod child;
pub mod clock;
pub mod keyserver_fixture;
pub mod lesson;
pub mod phone;
pub mod postgres_fixture;
pub mod store_fixture;

/// Every file under `dir`, for tests that look for plaintext at rest.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}
