//! What the command-line tests share: running `openzone` as a real process and reading what it says.

#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `openzone` with `args`, without a data key in the environment.
pub fn openzone(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_openzone"))
        .args(args)
        .env_remove("OPENZONE_DATA_KEY")
        .output()
        .expect("the binary runs")
}

/// Asserts that a finished `openzone` (run with `what`) succeeded, showing its stderr if not.
pub fn assert_success(out: &Output, what: impl std::fmt::Debug) {
    assert!(
        out.status.success(),
        "{what:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `openzone`, which must succeed; returns its stdout.
pub fn ok(args: &[&str]) -> String {
    let out = openzone(args);
    assert_success(&out, args);
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Runs `openzone`, which must fail with one line on stderr starting `openzone: `; returns that line.
pub fn fails(args: &[&str]) -> String {
    let out = openzone(args);
    assert!(!out.status.success(), "{args:?} succeeded");
    let err = String::from_utf8(out.stderr).expect("UTF-8 errors");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line on stderr: {err}"
    );
    assert!(err.starts_with("openzone: "), "{err}");
    err
}

/// `openzone venue create --name NAME OPTIONS… --out OUT`, which must succeed; returns the link it prints.
pub fn create_venue(name: &str, out: &Path, options: &[&str]) -> String {
    let mut args = vec!["venue", "create", "--name", name];
    args.extend_from_slice(options);
    args.extend(["--out", path(out)]);
    ok(&args).trim().to_owned()
}

/// A venue made by [`create_venue`] in `subdir` of a new temporary directory: the temporary directory
/// (removed when dropped), the venue's directory and the link.
pub fn temp_venue(
    subdir: &str,
    name: &str,
    options: &[&str],
) -> (tempfile::TempDir, PathBuf, String) {
    let parent = tempfile::tempdir().expect("a temporary directory");
    let venue = parent.path().join(subdir);
    let link = create_venue(name, &venue, options);
    (parent, venue, link)
}

/// Parses JSON output.
pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("valid JSON")
}

/// A path as an argument.
pub fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// A running `openzone serve`, killed when dropped.
pub struct Serve {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`, from the first line.
    pub url: String,
    /// The second line: the officer-account count and how to add one.
    pub accounts_line: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `openzone serve --data DATA --listen 127.0.0.1:0 EXTRA…` and reads its two startup lines. The
/// rest of its stdout is drained on a thread: a closed pipe would make the server's next line fail.
pub fn serve(data: &Path, extra: &[&str]) -> Serve {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_openzone"))
        .args(["serve", "--data"])
        .arg(data)
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let mut next = || lines.next().and_then(Result::ok).unwrap_or_default();
    let (first, accounts_line) = (next(), next());
    std::thread::spawn(move || lines.for_each(drop));
    let url = first
        .strip_prefix("openzone key server listening on ")
        .unwrap_or_else(|| panic!("serve's first line names its address: {first:?}"))
        .to_owned();
    Serve {
        child,
        url,
        accounts_line,
    }
}
