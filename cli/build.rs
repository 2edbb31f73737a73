//! Records the git commit the `openzone` binary is built from, for `openzone --version`.
//!
//! The short commit goes into the environment variable `OPENZONE_GIT_COMMIT` at compile time. Outside a
//! git checkout of this repository (a source tarball, a copy inside some other repository) it is
//! `unknown`: a commit of an unrelated repository would name the wrong source.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let commit = commit().unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=OPENZONE_GIT_COMMIT={commit}");
}

/// Runs git in this crate's folder; `None` if git is missing or fails.
fn git(args: &[&str]) -> Option<String> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")?;
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.trim().to_owned())
}

/// The short commit of HEAD, if this build script is a file of that repository.
fn commit() -> Option<String> {
    // A new commit or a checkout of another branch changes HEAD or the branch it points to; a fetch or
    // `git gc` can move the branch into packed-refs; `git add` of a new checkout's files, the index.
    let tracked = git(&["ls-files", "--error-unmatch", "build.rs"]).is_some();
    let head_ref = git(&["symbolic-ref", "-q", "HEAD"]);
    let watched = ["HEAD", "packed-refs"]
        .into_iter()
        .chain((!tracked).then_some("index"))
        .map(str::to_owned)
        .chain(head_ref);
    for name in watched {
        watch(&name);
    }
    if !tracked {
        return None;
    }
    git(&["rev-parse", "--short", "HEAD"])
}

/// Reruns this script when a file of the git folder changes. Only existing files are named: Cargo reruns
/// a build script on every build while a file it names is missing.
fn watch(name: &str) {
    if let Some(path) = git(&["rev-parse", "--path-format=absolute", "--git-path", name]) {
        if PathBuf::from(&path).is_file() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
