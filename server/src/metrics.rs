//! What an operator watches: counters and histograms of uploads, codes, publication runs and database
//! latency, in the Prometheus project's client (`prometheus-client`), encoded as OpenMetrics text for
//! `GET /metrics` on a listener of its own ([`crate::Server::serve_metrics`]), never on the public port:
//! the counts of fake and real uploads over time are for the operator only.
//!
//! Counts are this process's since it started (Prometheus sums replicas and handles restarts); the
//! database's own counters (`/v1/admin/stats`) are the totals of all replicas. `docs/deployment.md`
//! lists each metric and what to alert on.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Metric, Registry, Unit};

use crate::error::ServerError;
use crate::publication::PublicationReport;

/// What `GET /metrics` answers with: what prometheus-client's text encoder writes.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Accepted uploads: a new report, or a retry answered as a repeat.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct UploadKind {
    kind: &'static str,
}

/// Why a request was refused: the stable error code answers carry (`ServerError::code`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct Reason {
    reason: &'static str,
}

/// A request to a route besides uploads and codes, and how it ended: `accepted` or the error code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct RouteOutcome {
    route: &'static str,
    outcome: &'static str,
}

/// How a publication run ended.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct RunResult {
    result: &'static str,
}

/// A database operation, as the storage layer calls its backend.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct DbOperation {
    operation: &'static str,
}

/// The database operations whose latency is measured.
#[derive(Debug, Clone, Copy)]
pub(crate) enum DbOp {
    Get,
    Scan,
    Commit,
    NextId,
}

impl DbOp {
    fn label(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Scan => "scan",
            Self::Commit => "commit",
            Self::NextId => "next_id",
        }
    }
}

/// Latency of database operations by operation; clones share the same series.
#[derive(Clone)]
pub(crate) struct DbLatency(Family<DbOperation, Histogram>);

impl DbLatency {
    pub fn observe(&self, op: DbOp, took: Duration) {
        self.0
            .get_or_create(&DbOperation {
                operation: op.label(),
            })
            .observe(took.as_secs_f64());
    }
}

/// Registers `metric` as `name` (after the registry's prefix) with its help and unit, and hands it back
/// for [`Metrics`] to keep: registered clones share their series.
fn registered<M: Metric + Clone>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    metric: M,
) -> M {
    match unit {
        Some(unit) => registry.register_with_unit(name, help, unit, metric.clone()),
        None => registry.register(name, help, metric.clone()),
    }
    metric
}

/// Every metric of one server process, registered once in its registry.
pub(crate) struct Metrics {
    registry: Registry,
    uploads_accepted: Family<UploadKind, Counter>,
    uploads_refused: Family<Reason, Counter>,
    fake_uploads: Counter,
    codes_issued: Counter,
    codes_refused: Family<Reason, Counter>,
    codes_used: Counter,
    requests: Family<RouteOutcome, Counter>,
    publication_runs: Family<RunResult, Counter>,
    publication_duration: Histogram,
    batch_keys: Histogram,
    db_latency: DbLatency,
    lease_held: Gauge,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("openzone");
        // 50 ms to about 7 minutes: a run over 100,000 keys takes tens of seconds.
        let run_seconds = Histogram::new(exponential_buckets(0.05, 2.0, 14));
        // 1 to 131,072 keys: an export holds at most MAX_EXPORT_KEYS (100,000).
        let export_keys = Histogram::new(exponential_buckets(1.0, 2.0, 18));
        // 100 µs to about 3 s.
        let operation_seconds = Family::<DbOperation, Histogram>::new_with_constructor(
            (|| Histogram::new(exponential_buckets(0.000_1, 2.0, 15))) as fn() -> Histogram,
        );
        Self {
            uploads_accepted: registered(
                &mut registry,
                "uploads_accepted",
                "Real uploads accepted: kind=new stored a report and used its code; kind=repeat was a retry of \
                 an upload already stored",
                None,
                Family::default(),
            ),
            uploads_refused: registered(
                &mut registry,
                "uploads_refused",
                "Uploads refused, by the error code answered (code_unknown, code_used, code_expired, \
                 rate_limited, malformed, bad_seal, too_many_keys, key_too_old, internal_error, ...)",
                None,
                Family::default(),
            ),
            fake_uploads: registered(
                &mut registry,
                "fake_uploads",
                "Fake uploads (chaff) answered as if accepted; nothing stored",
                None,
                Counter::default(),
            ),
            codes_issued: registered(
                &mut registry,
                "codes_issued",
                "One-time codes issued to officers",
                None,
                Counter::default(),
            ),
            codes_refused: registered(
                &mut registry,
                "codes_refused",
                "Requests for a code refused, by the error code answered (quota_exceeded, internal_error, ...)",
                None,
                Family::default(),
            ),
            codes_used: registered(
                &mut registry,
                "codes_used",
                "One-time codes used by an accepted upload",
                None,
                Counter::default(),
            ),
            requests: registered(
                &mut registry,
                "requests",
                "Venue warnings (route=warning) and visitor-log inbox posts (route=inbox_post), by outcome: \
                 accepted, or the error code answered",
                None,
                Family::default(),
            ),
            publication_runs: registered(
                &mut registry,
                "publication_runs",
                "Publication runs: published (wrote exports), nothing_due, standby (another replica holds \
                 the lease), failed",
                None,
                Family::default(),
            ),
            publication_duration: registered(
                &mut registry,
                "publication_duration",
                "How long publication runs took, standby runs included",
                Some(Unit::Seconds),
                run_seconds,
            ),
            batch_keys: registered(
                &mut registry,
                "publication_batch_keys",
                "Real keys in each export written (padding not counted)",
                None,
                export_keys,
            ),
            db_latency: DbLatency(registered(
                &mut registry,
                "database_latency",
                "Latency of database operations (get, scan, commit, next_id), either backend",
                Some(Unit::Seconds),
                operation_seconds,
            )),
            lease_held: registered(
                &mut registry,
                "publication_lease_held",
                "1 if this process held the publication lease at its last run, else 0 (the embedded \
                 database needs no lease: always 1)",
                None,
                Gauge::default(),
            ),
            registry,
        }
    }

    /// The handle the storage layer measures its backend's latency with.
    pub fn db_latency(&self) -> DbLatency {
        self.db_latency.clone()
    }

    /// An accepted real upload; `repeated` when it was a retry of one already stored.
    pub fn upload_accepted(&self, repeated: bool) {
        let kind = if repeated { "repeat" } else { "new" };
        self.uploads_accepted
            .get_or_create(&UploadKind { kind })
            .inc();
        if !repeated {
            self.codes_used.inc();
        }
    }

    pub fn upload_refused(&self, error: &ServerError) {
        self.uploads_refused
            .get_or_create(&Reason {
                reason: error.code(),
            })
            .inc();
    }

    pub fn fake_upload(&self) {
        self.fake_uploads.inc();
    }

    /// The outcome of a request for a code.
    pub fn code_request<T>(&self, outcome: &Result<T, ServerError>) {
        match outcome {
            Ok(_) => {
                self.codes_issued.inc();
            }
            Err(e) => {
                self.codes_refused
                    .get_or_create(&Reason { reason: e.code() })
                    .inc();
            }
        }
    }

    /// A venue warning (`route` "warning") or an inbox post ("inbox_post") and how it ended.
    pub fn request<T>(&self, route: &'static str, outcome: &Result<T, ServerError>) {
        let outcome = match outcome {
            Ok(_) => "accepted",
            Err(e) => e.code(),
        };
        self.requests
            .get_or_create(&RouteOutcome { route, outcome })
            .inc();
    }

    /// A publication run that took `took` and ended with `outcome`.
    pub fn publication_run(
        &self,
        outcome: &Result<PublicationReport, ServerError>,
        took: Duration,
    ) {
        self.publication_duration.observe(took.as_secs_f64());
        let result = match outcome {
            Ok(report) if !report.held_lease => "standby",
            Ok(report) if report.exports.is_empty() => "nothing_due",
            Ok(_) => "published",
            Err(_) => "failed",
        };
        self.publication_runs
            .get_or_create(&RunResult { result })
            .inc();
        if let Ok(report) = outcome {
            for (_, real_keys, _) in &report.exports {
                self.batch_keys.observe(*real_keys as f64);
            }
        }
        // A failed run may have lost the lease; the next run says again.
        self.lease_held
            .set(i64::from(matches!(outcome, Ok(r) if r.held_lease)));
    }

    /// The lease was given up (at shutdown).
    pub fn lease_released(&self) {
        self.lease_held.set(0);
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
