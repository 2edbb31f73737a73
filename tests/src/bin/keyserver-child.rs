//! A key server in a child process, for the crash test (`tests/keyserver_kill.rs`): it publishes all the
//! time (a short cadence, large padded batches, so that a kill often lands in a publication) until it is
//! killed. The test officer account (`keyserver_fixture::OFFICER`) exists from its first start.
//!
//! ```text
//! keyserver-child DATA_DIR
//!   prints "reconciled COMPLETED ROLLED_BACK ORPHANS" (what opening repaired), then "listening URL"
//! ```

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
        let mut config = ServerConfig::new(dir);
        config.publication.cadence = Duration::from_millis(20);
        config.publication.min_batch = 2_000;
        config.rate_limits = RateLimits {
            per_client_burst: 1e9,
            per_client_per_hour: 1e9,
            global_burst: 1e9,
            global_per_hour: 1e9,
        };
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
