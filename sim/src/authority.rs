//! The health authority's side of a simulated run: the real key server on loopback, where an officer
//! issues codes and the cases' phones upload their keys and encrypted check-ins (en-v1; the server
//! publishes the check-ins in a warning package beside the keys' export), or a signed Bluezone key list
//! (bluezone-v3); and what each phone finds when it syncs.

use std::sync::Arc;

use openzone_core::export::bluezone;
use openzone_core::export::signing::{SigningKey, VerificationKey};
use openzone_core::phone::{ClientConfig, KeyServerClient, Phone, PositiveReport, UserConsent};
use openzone_core::protocol::SchemeId;
use openzone_core::time::{format_day, Clock};

use crate::SimError;

/// What one phone's sync found.
pub(crate) struct Synced {
    /// Bytes it downloaded.
    pub(crate) bytes: u64,
    /// A day is at risk: the user is told.
    pub(crate) at_risk: bool,
    /// The UTC days with any sighting of a published identifier (Bluezone's rule), when the batch was
    /// new to the phone.
    pub(crate) days_heard: Option<Vec<u32>>,
    /// The UTC days of the presence warnings (at risk) the phone told of in this sync (en-v1).
    pub(crate) presence_days: Vec<u32>,
}

impl Synced {
    /// Nothing new.
    const NOTHING: Self = Self {
        bytes: 0,
        at_risk: false,
        days_heard: None,
        presence_days: Vec::new(),
    };
}

/// Where a run's published keys come from.
pub(crate) enum Authority {
    /// en-v1: the key server.
    KeyServer(KeyServer),
    /// bluezone-v3: a key list the authority signs.
    Bluezone(BluezoneList),
}

pub(crate) struct KeyServer {
    server: openzone_server::Server,
    url: String,
    /// The simulated officer's password (the officer signs in when the cases report: sessions expire).
    officer_password: String,
    /// One client for every phone: the same server, and building a client is costly.
    client: KeyServerClient,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

pub(crate) struct BluezoneList {
    signer: SigningKey,
    /// The list and its signature, once the cases reported.
    published: Option<(Vec<u8>, Vec<u8>)>,
    /// When the list became available (the first publication tick after the report).
    available_ms: Option<u64>,
}

impl Authority {
    /// The key server (started on loopback, on the simulation's clock) or the Bluezone list's signer.
    pub(crate) fn new(
        scheme: SchemeId,
        runtime: &tokio::runtime::Runtime,
        clock: Arc<dyn Clock>,
        dir: &std::path::Path,
    ) -> Result<Self, SimError> {
        match scheme {
            SchemeId::EnV1 => Ok(Self::KeyServer(KeyServer::start(runtime, clock, dir)?)),
            SchemeId::BluezoneV3 => Ok(Self::Bluezone(BluezoneList {
                signer: SigningKey::generate("bluezone", "v1")?.0,
                published: None,
                available_ms: None,
            })),
        }
    }

    /// The keys phones pin to verify what is published.
    pub(crate) fn export_keys(&self) -> Vec<VerificationKey> {
        match self {
            Self::KeyServer(k) => vec![k.server.verification_key()],
            Self::Bluezone(b) => vec![b.signer.verification_key()],
        }
    }

    /// The key-server client phones sync and report with.
    pub(crate) fn client(&self) -> Option<KeyServerClient> {
        match self {
            Self::KeyServer(k) => Some(k.client.clone()),
            Self::Bluezone(_) => None,
        }
    }

    /// The cases report: each gets a code from an officer and uploads its keys and check-ins (en-v1), or
    /// their daily keys go into the signed list (bluezone-v3). `onset` is the UTC day symptoms began.
    pub(crate) fn report(
        &mut self,
        runtime: &tokio::runtime::Runtime,
        cases: &[&Phone],
        onset: u32,
    ) -> Result<(), SimError> {
        match self {
            Self::KeyServer(k) => {
                let token = runtime.block_on(sign_in(&k.url, &k.officer_password))?;
                for phone in cases {
                    let code = runtime.block_on(issue_code(&k.url, &token, onset))?;
                    runtime.block_on(phone.report_positive(PositiveReport {
                        code,
                        onset_day: Some(onset),
                        test_day: None,
                        consent: UserConsent::given(),
                    }))?;
                }
            }
            Self::Bluezone(b) => {
                let mut keys = Vec::new();
                for phone in cases {
                    keys.extend(
                        phone
                            .release_keys(Some(onset), None, UserConsent::given())?
                            .bluezone_v3,
                    );
                }
                let json = bluezone::to_json(&keys);
                let signature = b.signer.sign(&json)?;
                b.published = Some((json, signature));
            }
        }
        Ok(())
    }

    /// An hourly publication tick at `at`.
    pub(crate) fn publish(
        &mut self,
        runtime: &tokio::runtime::Runtime,
        at: u64,
    ) -> Result<(), SimError> {
        match self {
            Self::KeyServer(k) => Ok(runtime.block_on(k.server.publish_now()).map(|_| ())?),
            Self::Bluezone(b) => {
                if b.published.is_some() && b.available_ms.is_none() {
                    b.available_ms = Some(at);
                }
                Ok(())
            }
        }
    }

    /// `phone` syncs at `at`.
    pub(crate) fn sync(
        &self,
        runtime: &tokio::runtime::Runtime,
        phone: &Phone,
        at: u64,
    ) -> Result<Synced, SimError> {
        match self {
            Self::KeyServer(_) => {
                // Exports and warning packages alike: the index lists both.
                let report = runtime.block_on(phone.sync())?;
                Ok(Synced {
                    bytes: report.bytes_downloaded,
                    at_risk: report.days.iter().any(|d| d.at_risk),
                    days_heard: None,
                    presence_days: report.new_presence_warnings.iter().map(|w| w.day).collect(),
                })
            }
            Self::Bluezone(b) => {
                let (Some(available), Some((json, signature))) = (b.available_ms, &b.published)
                else {
                    return Ok(Synced::NOTHING);
                };
                if at < available {
                    return Ok(Synced::NOTHING);
                }
                let check = phone.process_bluezone_list(json, signature)?;
                if check.already_processed {
                    return Ok(Synced::NOTHING);
                }
                Ok(Synced {
                    bytes: (json.len() + signature.len()) as u64,
                    at_risk: check.days.iter().any(|d| d.at_risk),
                    days_heard: Some(check.days_heard),
                    presence_days: Vec::new(),
                })
            }
        }
    }

    /// Stops the key server.
    pub(crate) fn shutdown(&mut self) {
        if let Self::KeyServer(k) = self {
            if let Some(tx) = k.shutdown.take() {
                let _ = tx.send(());
            }
        }
    }
}

impl KeyServer {
    fn start(
        runtime: &tokio::runtime::Runtime,
        clock: Arc<dyn Clock>,
        dir: &std::path::Path,
    ) -> Result<Self, SimError> {
        let mut config = openzone_server::ServerConfig::new(dir.join("server"));
        config.clock = clock;
        // Publication runs when the simulation's clock says so (hourly ticks), not on real time.
        config.publication.cadence = std::time::Duration::from_secs(365 * 86_400);
        let (server, listener) = runtime.block_on(async {
            let server = openzone_server::Server::open(config).await?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| SimError::Setup(format!("cannot listen on loopback: {e}")))?;
            Ok::<_, SimError>((server, listener))
        })?;
        let url = format!(
            "http://{}/",
            listener
                .local_addr()
                .map_err(|e| SimError::Setup(e.to_string()))?
        );
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let serving = server.clone();
        runtime.spawn(async move {
            let _ = serving
                .serve(listener, async move {
                    let _ = rx.await;
                })
                .await;
        });
        // The school's health officer: an account, who signs in when the cases report.
        let officer_password: String =
            ring::rand::generate::<[u8; 16]>(&ring::rand::SystemRandom::new())
                .map_err(|_| SimError::Setup("no randomness for the officer's password".into()))?
                .expose()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
        runtime.block_on(server.accounts().add_officer(
            SIM_OFFICER,
            &officer_password,
            u32::MAX,
        ))?;
        let client = KeyServerClient::new(ClientConfig::new(&url))?;
        Ok(Self {
            officer_password,
            server,
            url,
            client,
            shutdown: Some(tx),
        })
    }
}

/// The simulated health officer's account name.
const SIM_OFFICER: &str = "school-nurse";

/// The officer signs in; returns the session token.
async fn sign_in(url: &str, password: &str) -> Result<String, SimError> {
    let answer = admin_post(
        url,
        "v1/admin/login",
        None,
        serde_json::json!({ "name": SIM_OFFICER, "password": password }),
    )
    .await?;
    answer["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| SimError::Setup(format!("the officer could not sign in: {answer}")))
}

/// The officer's side: a one-time code from the real server's admin API.
async fn issue_code(url: &str, token: &str, onset_day: u32) -> Result<String, SimError> {
    let body = admin_post(
        url,
        "v1/admin/codes",
        Some(token),
        serde_json::json!({
            "test_type": "confirmed",
            "onset": format_day(onset_day),
        }),
    )
    .await?;
    body["code"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| SimError::Setup(format!("no code in the key server's answer: {body}")))
}

/// Posts JSON to the server's officer API (with a session token, if given); returns the JSON answer.
async fn admin_post(
    url: &str,
    path: &str,
    token: Option<&str>,
    body: serde_json::Value,
) -> Result<serde_json::Value, SimError> {
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(openzone_core::keyserver::client::tls_config()?)
        .build()
        .map_err(|e| SimError::Setup(format!("no HTTP client: {e}")))?;
    let mut request = client
        .post(format!("{url}{path}"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .map_err(|e| SimError::Setup(format!("the key server did not answer: {e}")))?;
    let bytes = response
        .bytes()
        .await
        .map_err(|e| SimError::Setup(format!("the key server's answer was cut: {e}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| SimError::Setup(format!("the key server's answer is not JSON: {e}")))
}
