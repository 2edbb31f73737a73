//! A key server in a child process, for the crash tests (`tests/keyserver_kill.rs`,
//! `tests/keyserver_replicas.rs`): it publishes all the time (a short cadence, large padded batches, so
//! that a kill often lands in a publication) until it is killed. The test officer account
//! (`keyserver_fixture::OFFICER`) exists from its first start (replicas start one after the other: the
//! first makes it).
//!
//! ```text
//! keyserver-child DATA_DIR
//!   prints "reconciled COMPLETED ROLLED_BACK ORPHANS" (what opening repaired), then "listening URL"
//! ```
//!
//! Replicas: `OPENZONE_CHILD_DATABASE` (a PostgreSQL URL), `OPENZONE_CHILD_EXPORTS` (the shared export
//! directory), `OPENZONE_CHILD_LEASE_MS` (the publication lease), `OPENZONE_CHILD_MIN_BATCH`,
//! `OPENZONE_CHILD_CADENCE_MS`, and `OPENZONE_CHILD_FIELD_LIMITS` (keep the default rate limits).

use std::process::ExitCode;
use std::time::Duration;

use openzone_server::{RateLimits, Server, ServerConfig};
use openzone_tests::keyserver_fixture::{OFFICER, OFFICER_PASSWORD};

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: keyserver-child DATA_DIR");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("keyserver-child: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let setting = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        let mut config = ServerConfig::new(dir);
        config.database = std::env::var("OPENZONE_CHILD_DATABASE").ok();
        config.exports = std::env::var("OPENZONE_CHILD_EXPORTS").ok();
        config.publication.cadence =
            Duration::from_millis(setting("OPENZONE_CHILD_CADENCE_MS", 20));
        config.publication.min_batch = setting("OPENZONE_CHILD_MIN_BATCH", 2_000) as usize;
        config.publication.lease =
            Duration::from_millis(setting("OPENZONE_CHILD_LEASE_MS", 60_000));
        // The crash test's uploaders share one address; replicas' clients each have their own, and
        // `OPENZONE_CHILD_FIELD_LIMITS` keeps the limits as in the field.
        if std::env::var_os("OPENZONE_CHILD_FIELD_LIMITS").is_none() {
            config.rate_limits = RateLimits {
                per_client_burst: 1e9,
                per_client_per_hour: 1e9,
                global_burst: 1e9,
                global_per_hour: 1e9,
            };
        }
        let server = Server::open(config).await?;
        let accounts = server.accounts();
        if accounts.officers().await?.is_empty() {
            accounts
                .add_officer(OFFICER, OFFICER_PASSWORD, u32::MAX)
                .await?;
        }
        let r = server.startup_report();
        println!(
            "reconciled {} {} {}",
            r.completed, r.rolled_back, r.orphans_deleted
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|source| openzone_server::ServerError::File {
                path: "127.0.0.1:0".into(),
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| openzone_server::ServerError::File {
                path: "127.0.0.1:0".into(),
                source,
            })?;
        println!("listening http://{addr}/");
        server.serve(listener, std::future::pending()).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keyserver-child: {e}");
            ExitCode::FAILURE
        }
    }
}
