//! `openzone serve`: runs the key server (openzone-server) until Ctrl-C or SIGTERM.
//!
//! Glue only: flags become a `ServerConfig`, logs go to stderr through tracing, and the first line on
//! stdout is the address actually bound (so that `--listen 127.0.0.1:0` can be used by scripts and tests);
//! with `--metrics-listen`, the second line is the metrics address.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use openzone_server::{Server, ServerConfig};

use crate::error::CliError;

/// Arguments of `openzone serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The data directory: database (officer accounts too), keys and, by default, the exports.
    #[arg(long, value_name = "DIR", default_value = "openzone-server-data")]
    data: PathBuf,
    /// A PostgreSQL database replicas share (postgres://USER:PASSWORD@HOST:PORT/DATABASE) instead of the
    /// embedded database in --data, which then holds only this replica's copy of the shared secrets.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// How many replicas share --database behind the load balancer: each takes this share of the global
    /// budget of failed code checks, so that together they allow what one server would.
    #[arg(long, value_name = "N", default_value_t = 1)]
    replicas: u32,
    /// Seconds the publication lease lasts unless renewed: a replica that dies holding it is replaced
    /// this long after.
    #[arg(long, value_name = "N", default_value_t = 60)]
    lease_secs: u64,
    /// Seconds a delisted export's file stays before it is deleted (longer than any CDN keeps
    /// index.txt).
    #[arg(long, value_name = "N", default_value_t = 3_600)]
    delist_grace_secs: u64,
    /// The address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Serve GET /metrics (Prometheus/OpenMetrics text) on this address, e.g. 127.0.0.1:9090. Off by
    /// default: keep it off the public port and the load balancer (docs/deployment.md).
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<String>,
    /// Seconds between publications.
    #[arg(long, value_name = "N", default_value_t = 3_600)]
    cadence_secs: u64,
    /// Exports are padded with fake keys to at least this many.
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    min_batch: usize,
    /// Padding adds a random 0 to N fake keys more.
    #[arg(long, value_name = "N", default_value_t = 200)]
    padding_jitter: usize,
    /// Seconds between the end of a key's validity and its publication (at least 7200: phones match a
    /// key's identifiers up to 2 hours after it ended).
    #[arg(long, value_name = "N", default_value_t = 7_200)]
    publication_delay_secs: u64,
    /// Seconds a one-time code stays valid (at most 86400).
    #[arg(long, value_name = "N", default_value_t = 3_600)]
    code_validity_secs: u64,
    /// Seconds a request's headers may take to arrive, in all.
    #[arg(long, value_name = "N", default_value_t = 30)]
    header_deadline_secs: u64,
    /// Seconds a request's body may take to arrive after its headers, in all.
    #[arg(long, value_name = "N", default_value_t = 30)]
    body_deadline_secs: u64,
    /// Connections served at once; more wait for a free slot.
    #[arg(long, value_name = "N", default_value_t = 1_024)]
    max_connections: usize,
    /// Where exports go: a directory, file:///dir or s3://bucket/prefix (credentials from AWS_*
    /// variables). Default: DIR/exports.
    #[arg(long, value_name = "DIR|URL")]
    exports: Option<String>,
    /// The index address phones are told (e.g. a CDN's https://cdn.example.vn/exports/index.txt).
    #[arg(long, value_name = "URL")]
    public_index_url: Option<String>,
    /// Partition exports by region: the province codes officers may tie a case to (e.g. 01,79). Each
    /// region's exports are listed in index-<code>.txt, the others in index-national.txt, all of them
    /// in index.txt. Every replica of one database must be given the same list.
    #[arg(long, value_name = "CODES", value_delimiter = ',')]
    regions: Vec<String>,
    /// Count clients by the last X-Forwarded-For address, the one the proxy in front appends (only
    /// behind such a proxy).
    #[arg(long)]
    trust_forwarded_for: bool,
    /// Write logs as JSON lines.
    #[arg(long)]
    log_json: bool,
}

/// Runs `openzone serve`.
pub fn run(args: ServeArgs) -> Result<(), CliError> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second subscriber (in tests) is not an error worth stopping for.
    let _ = if args.log_json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    // S3 exports reach the bucket over rustls, which takes the process's crypto provider: ring, as
    // everywhere in OpenZone. Installing fails harmlessly if one is set already (tests).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut config = ServerConfig::new(&args.data);
    config.exports = args.exports;
    config.public_index_url = args.public_index_url;
    config.trust_forwarded_for = args.trust_forwarded_for;
    config.database = args.database.clone();
    config.rate_limits = config.rate_limits.shared_by(args.replicas);
    config.publication.lease = Duration::from_secs(args.lease_secs);
    config.publication.delist_grace = Duration::from_secs(args.delist_grace_secs);
    config.publication.cadence = Duration::from_secs(args.cadence_secs);
    config.publication.min_batch = args.min_batch;
    config.publication.padding_jitter = args.padding_jitter;
    config.publication.delay = Duration::from_secs(args.publication_delay_secs);
    config.publication.regions = args.regions;
    config.code_validity = Duration::from_secs(args.code_validity_secs);
    config.http.header_deadline = Duration::from_secs(args.header_deadline_secs);
    config.http.body_deadline = Duration::from_secs(args.body_deadline_secs);
    config.http.max_connections = args.max_connections;
    runtime()?.block_on(async move {
        let listener = bind(&args.listen).await?;
        let metrics_listener = match &args.metrics_listen {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        let server = Server::open(config).await?;
        let addr = listener.local_addr().map_err(CliError::Output)?;
        println!("openzone key server listening on http://{addr}");
        if let Some(metrics_listener) = metrics_listener {
            let metrics_addr = metrics_listener.local_addr().map_err(CliError::Output)?;
            println!("metrics on http://{metrics_addr}/metrics");
            // Ends with the runtime, once the public port has shut down.
            tokio::spawn(
                server
                    .clone()
                    .serve_metrics(metrics_listener, std::future::pending()),
            );
        }
        let officers = server.accounts().officers().await?.len();
        match &args.database {
            Some(_) => println!(
                "{officers} officer accounts (add one with: openzone officer add --database URL --name NAME)"
            ),
            None => println!(
                "{officers} officer accounts (add one with the server stopped: openzone officer add --data {} --name NAME)",
                args.data.display()
            ),
        }
        server.serve(listener, shutdown_signal()).await?;
        Ok(())
    })
}

async fn bind(addr: &str) -> Result<tokio::net::TcpListener, CliError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| CliError::Io {
            path: PathBuf::from(addr),
            source,
        })
}

/// The multi-threaded tokio runtime the key server commands run on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    crate::keyserver::built(tokio::runtime::Builder::new_multi_thread())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
