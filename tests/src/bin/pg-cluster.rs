//! Runs a command beside a private PostgreSQL cluster (`postgres_fixture::Cluster`): starts the cluster,
//! runs the command with `OPENZONE_TEST_DATABASE_URL` set to it and `OPENZONE_TEST_BACKEND=postgres`,
//! then stops and deletes the cluster and exits with the command's status.
//!
//! ```text
//! pg-cluster COMMAND [ARGS...]
//! ```

use std::process::{Command, ExitCode};

use openzone_tests::postgres_fixture::{Cluster, BACKEND_VAR, DATABASE_VAR};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(program) = args.next() else {
        eprintln!("usage: pg-cluster COMMAND [ARGS...]");
        return ExitCode::from(2);
    };
    let cluster = Cluster::start(false);
    eprintln!("pg-cluster: PostgreSQL at {}", cluster.url);
    let status = Command::new(&program)
        .args(args)
        .env(DATABASE_VAR, &cluster.url)
        .env(BACKEND_VAR, "postgres")
        .status();
    drop(cluster);
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => ExitCode::from(u8::try_from(s.code().unwrap_or(1)).unwrap_or(1)),
        Err(e) => {
            eprintln!("pg-cluster: cannot run {program}: {e}");
            ExitCode::FAILURE
        }
    }
}
