//! Child processes that report on stdout, one line at a time, for the tests that kill them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Instant;

/// A running child and the lines it printed, each with the moment the test received it (the child did
/// what a line reports no later than that).
pub struct Reporting {
    /// The process.
    pub child: Child,
    /// Its stdout, line by line.
    pub lines: mpsc::Receiver<(String, Instant)>,
    reader: Option<JoinHandle<()>>,
}

impl Reporting {
    /// Starts `command` with its stdout piped to the test.
    ///
    /// # Panics
    /// If the process cannot start (a test's mistake or a broken machine).
    pub fn spawn(command: &mut Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, lines) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send((line, Instant::now())).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            reader: Some(reader),
        }
    }

    /// Kills the process with SIGKILL and waits for it and for the end of its output; returns the moment
    /// of the kill and whether the process had ended on its own before.
    ///
    /// # Panics
    /// If the process cannot be killed or waited for.
    pub fn kill(&mut self) -> (Instant, bool) {
        let ended_before = matches!(self.child.try_wait(), Ok(Some(_)));
        self.child.kill().expect("SIGKILL");
        let killed = Instant::now();
        let status = self.child.wait().expect("the killed child is reaped");
        if let Some(reader) = self.reader.take() {
            reader
                .join()
                .expect("the reader thread ends with the output");
        }
        (killed, ended_before || status.success())
    }
}

/// The exit of a child binary called `name`: success, or failure with the error on stderr.
pub fn exit_code(name: &str, result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The tokio runtime a child binary runs on: two worker threads, I/O and timers.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}
