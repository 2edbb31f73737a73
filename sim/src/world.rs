//! One run of the school on virtual time: every phone's engine, the radio between them, the positive report
//! and the key server, driven event by event.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use openzone_core::engine::{EngineConfig, EngineCore, Now};
use openzone_core::export::bluezone;
use openzone_core::export::signing::SigningKey;
use openzone_core::exposure::{check_bluezone, exposure_days};
use openzone_core::keyserver::{self, ClientConfig, KeyServerClient, SyncOptions};
use openzone_core::matching::{match_bluezone, HeardIndex, MatchContext};
use openzone_core::platform::{PeerId, PlatformError, SeenAdvertisement};
use openzone_core::protocol::payload::AdvertisementData;
use openzone_core::protocol::SchemeId;
use openzone_core::risk::calibration::CalibrationTable;
use openzone_core::risk::RiskConfig;
use openzone_core::seeded::SplitMix64;
use openzone_core::store::{DataKey, Store, StoreConfig, UserConsent};
use openzone_core::time::{Clock, MS_PER_DAY};

use crate::phone::{Phone, SimPlatform};
use crate::radio::{rssi, Link, PhoneRadio};
use crate::scenario::Scenario;
use crate::school::{Place, Room, School, DAY_MINUTES};
use crate::{Progress, SimError};

/// The first simulated day: Monday 2026-03-02, UTC (7:00 in Vietnam).
pub(crate) const FIRST_DAY: u32 = 20_514;

/// Advertisements of each peer a phone receives per scan window.
const SAMPLES_PER_SCAN: u64 = 3;

/// Farthest a phone can be heard, metres: beyond it the signal is below any receiver's sensitivity.
const MAX_RANGE_M: f64 = 30.0;

/// The simulation's wall clock, shared with the key server.
#[derive(Debug, Default)]
pub(crate) struct VirtualClock(AtomicU64);

impl Clock for VirtualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Poll(usize),
    Deliver {
        rx: usize,
        sightings: Vec<(usize, u64, i8)>,
    },
    GattAnswer {
        rx: usize,
        peer: PeerId,
    },
    Report,
    Publish,
    Sync(usize),
}

/// What one run produced.
pub(crate) struct RunResult {
    /// Per phone: per UTC day (0-based sim day) the exposure under the risk rule: (at risk, weighted minutes).
    pub(crate) risk_days: Vec<HashMap<u32, (bool, f64)>>,
    /// Per phone: days with any sighting of a published ID (Bluezone's rule; bluezone-v3 runs only).
    pub(crate) any_sighting_days: Vec<Vec<u32>>,
    /// Per phone: when it was first notified, ms after the report.
    pub(crate) notified_after_ms: Vec<Option<u64>>,
    /// Per phone: share of time the receiver was on.
    pub(crate) scan_share: Vec<f64>,
    /// The advertising share (the same for every phone).
    pub(crate) advertising_share: f64,
    /// Per phone: bytes downloaded from the key server.
    pub(crate) bytes_downloaded: Vec<u64>,
    /// (true distance m, attenuation dB) of a sample of sightings.
    pub(crate) attenuation_samples: Vec<(f32, f32)>,
    /// Sightings delivered.
    pub(crate) sightings: u64,
}

/// The positions of everyone at one minute, grouped by room.
struct Snapshot {
    day: u32,
    minute: u32,
    places: Vec<Place>,
    rooms: Vec<(Room, Vec<u32>)>,
}

pub(crate) struct World<'a> {
    scenario: &'a Scenario,
    school: School,
    scheme: SchemeId,
    phones: Vec<Phone>,
    /// Which phone advertises under each peer handle now, so that a GATT read finds its peer at once.
    advertisers: HashMap<PeerId, usize>,
    /// Each phone's handle in `advertisers`.
    advertising_as: Vec<Option<PeerId>>,
    queue: BinaryHeap<Reverse<(u64, u64, Event)>>,
    seq: u64,
    clock: Arc<VirtualClock>,
    rng: SplitMix64,
    snapshot: Option<Snapshot>,
    cases: Vec<usize>,
    report_ms: u64,
    end_ms: u64,
    risk: RiskConfig,
    runtime: tokio::runtime::Runtime,
    server: Option<ServerHandle>,
    bluezone_published: Option<(Vec<u8>, Vec<u8>, SigningKey)>,
    bluezone_available_ms: Option<u64>,
    any_sighting_days: Vec<Vec<u32>>,
    samples: Vec<(f32, f32)>,
    sightings: u64,
    _dir: tempfile::TempDir,
}

struct ServerHandle {
    server: openzone_server::Server,
    url: String,
    /// The simulated officer's session token.
    officer_token: String,
    /// One client for every phone: the same server, the same pinned key, and building a client is costly.
    client: KeyServerClient,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The first ms of (0-based) sim day `day`.
pub(crate) fn day_start_ms(day: u32) -> u64 {
    u64::from(FIRST_DAY + day) * MS_PER_DAY
}

impl<'a> World<'a> {
    pub(crate) fn new(
        scenario: &'a Scenario,
        school: School,
        scheme: SchemeId,
        cases: Vec<usize>,
        risk: RiskConfig,
    ) -> Result<Self, SimError> {
        let dir = work_dir()?;
        let clock = Arc::new(VirtualClock::default());
        let start = day_start_ms(0) - 3_600_000;
        clock.0.store(start, Ordering::Relaxed);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| SimError::Setup(format!("cannot start tokio: {e}")))?;
        let mut rng = SplitMix64::new(scenario.seed ^ 0x5151);
        let mut phones = Vec::with_capacity(scenario.people() as usize);
        for person in 0..scenario.people() {
            let mut own = SplitMix64::new(scenario.seed ^ (u64::from(person) << 20) ^ 0xA5A5);
            let iphone = own.unit() < scenario.iphone_share;
            let bluetooth_on = own.unit() >= scenario.bluetooth_off_share;
            let radio = PhoneRadio::draw(&scenario.radio, iphone, &mut own);
            let store = Arc::new(Store::open(
                &dir.path().join(format!("phone-{person}")),
                &DataKey::from_bytes([7; 32]),
                StoreConfig::default(),
                start,
            )?);
            let (platform, state) = SimPlatform::new(own.next_u64());
            let config = EngineConfig {
                scheme,
                tx_power_dbm: radio.tx_power_dbm,
                checkpoint_every_secs: 3_600,
                jitter_seed: Some(own.next_u64()),
                ..EngineConfig::default()
            };
            let mut engine = EngineCore::new(config, Arc::clone(&store), platform, None)?;
            let now = Now {
                wall_ms: start,
                mono_ms: start,
            };
            engine.start(now);
            if !bluetooth_on {
                engine.set_bluetooth(now, false);
            }
            phones.push(Phone {
                engine,
                store,
                radio,
                state,
                iphone,
                bluetooth_on,
                next_poll: None,
                notified_at_ms: None,
                bytes_downloaded: 0,
            });
        }
        let report_ms = day_start_ms(scenario.report_day - 1)
            + ((scenario.report_hour - 7.0) * 3_600_000.0) as u64;
        let end_ms = day_start_ms(scenario.days);
        let mut world = Self {
            scenario,
            school,
            scheme,
            any_sighting_days: vec![Vec::new(); phones.len()],
            advertisers: HashMap::with_capacity(phones.len()),
            advertising_as: vec![None; phones.len()],
            phones,
            queue: BinaryHeap::new(),
            seq: 0,
            clock,
            rng: SplitMix64::new(rng.next_u64()),
            snapshot: None,
            cases,
            report_ms,
            end_ms,
            risk,
            runtime,
            server: None,
            bluezone_published: None,
            bluezone_available_ms: None,
            samples: Vec::new(),
            sightings: 0,
            _dir: dir,
        };
        for i in 0..world.phones.len() {
            world.poll(i, start);
        }
        if !world.cases.is_empty() {
            world.push(report_ms, Event::Report);
        }
        Ok(world)
    }

    fn push(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, event)));
    }

    fn now(at: u64) -> Now {
        Now {
            wall_ms: at,
            mono_ms: at,
        }
    }

    /// Runs the engine's step at `at`, then acts on what it asked of its radio.
    fn poll(&mut self, i: usize, at: u64) {
        let next = self.phones[i].engine.poll(Self::now(at));
        self.after_engine_call(i, at);
        if let Some(next) = next {
            if self.phones[i].next_poll != Some(next) {
                self.phones[i].next_poll = Some(next);
                self.push(next, Event::Poll(i));
            }
        }
    }

    fn after_engine_call(&mut self, i: usize, at: u64) {
        self.track_advertiser(i);
        let (scan_started, requests) = {
            let mut s = self.phones[i].radio_state();
            (
                std::mem::take(&mut s.scan_started),
                std::mem::take(&mut s.gatt_requests),
            )
        };
        if scan_started {
            self.scan(i, at);
        }
        for peer in requests {
            self.push(at + 800, Event::GattAnswer { rx: i, peer });
        }
    }

    /// Keeps `advertisers` in step with what phone `i` advertises (it changes at each rotation).
    fn track_advertiser(&mut self, i: usize) {
        // Called after every engine call: compare in place, and clone only at a rotation.
        let current = {
            let state = self.phones[i].radio_state();
            let on_air = state.advertising.as_ref().map(|(_, _, peer)| peer);
            (on_air != self.advertising_as[i].as_ref()).then(|| on_air.cloned())
        };
        if let Some(current) = current {
            if let Some(old) = self.advertising_as[i].take() {
                self.advertisers.remove(&old);
            }
            if let Some(new) = &current {
                self.advertisers.insert(new.clone(), i);
            }
            self.advertising_as[i] = current;
        }
    }

    /// Makes the position snapshot current for `at` and takes it out (put it back with `self.snapshot =`).
    fn take_snapshot(&mut self, at: u64) -> Snapshot {
        let rel = at.saturating_sub(day_start_ms(0));
        let day = (rel / MS_PER_DAY) as u32;
        let minute = ((rel % MS_PER_DAY) / 60_000) as u32;
        let stale = self
            .snapshot
            .as_ref()
            .is_none_or(|s| s.day != day || s.minute != minute);
        if stale {
            let places: Vec<Place> = (0..self.school.people())
                .map(|p| {
                    if day < self.scenario.days && minute < DAY_MINUTES {
                        self.school.place(p, day, minute)
                    } else {
                        Place {
                            room: Room::Away,
                            x: 0.0,
                            y: 0.0,
                        }
                    }
                })
                .collect();
            let mut rooms: HashMap<Room, Vec<u32>> = HashMap::new();
            for (p, place) in places.iter().enumerate() {
                if place.room != Room::Away {
                    rooms.entry(place.room).or_default().push(p as u32);
                }
            }
            let mut rooms: Vec<(Room, Vec<u32>)> = rooms.into_iter().collect();
            rooms.sort_by_key(|(r, _)| *r);
            self.snapshot = Some(Snapshot {
                day,
                minute,
                places,
                rooms,
            });
        }
        self.snapshot
            .take()
            .unwrap_or_else(|| unreachable!("just filled"))
    }

    /// A scan window started at `at` on phone `rx`: who it hears during the next four seconds.
    fn scan(&mut self, rx: usize, at: u64) {
        let params = self.scenario.radio.clone();
        let snapshot = self.take_snapshot(at);
        let day = snapshot.day;
        let me = snapshot.places[rx];
        let candidates = if day < self.scenario.days && me.room != Room::Away {
            self.candidates(rx, &snapshot)
        } else {
            Vec::new()
        };
        self.snapshot = Some(snapshot);
        self.hear(rx, at, day, &params, candidates);
    }

    /// Phones within reach of `rx`: (phone, distance, walls between).
    fn candidates(&self, rx: usize, snapshot: &Snapshot) -> Vec<(usize, f64, u32)> {
        let me = snapshot.places[rx];
        let mut candidates: Vec<(usize, f64, u32)> = Vec::new();
        for (room, members) in &snapshot.rooms {
            let r = self.school.rect(*room);
            let dx = (r.x - me.x).max(me.x - (r.x + r.w)).max(0.0);
            let dy = (r.y - me.y).max(me.y - (r.y + r.h)).max(0.0);
            if (dx * dx + dy * dy).sqrt() > MAX_RANGE_M {
                continue;
            }
            let walls = self.school.walls_between(me.room, *room);
            for &p in members {
                let p = p as usize;
                if p != rx {
                    let d = me.distance(&snapshot.places[p]);
                    if d <= MAX_RANGE_M {
                        candidates.push((p, d, walls));
                    }
                }
            }
        }
        candidates
    }

    /// The advertisements `rx` receives from `candidates` during its scan window starting at `at`.
    fn hear(
        &mut self,
        rx: usize,
        at: u64,
        day: u32,
        params: &crate::radio::RadioParams,
        candidates: Vec<(usize, f64, u32)>,
    ) {
        let rx_iphone = self.phones[rx].iphone;
        let rx_radio = self.phones[rx].radio;
        let mut per_sample: Vec<Vec<(usize, u64, i8)>> =
            vec![Vec::new(); SAMPLES_PER_SCAN as usize];
        for (p, d, walls) in candidates {
            let peer = &self.phones[p];
            if !peer.bluetooth_on || (rx_iphone && peer.iphone) {
                // Two iPhones with the app in the background do not see each other (docs/ios.md).
                continue;
            }
            let Some(address) = peer.radio_state().advertising.as_ref().map(|(_, a, _)| *a) else {
                continue;
            };
            let link = Link {
                distance: d,
                walls,
                day: day as usize,
                shadowing_db: params.shadowing(&mut self.rng),
            };
            for (k, sample) in per_sample.iter_mut().enumerate() {
                if let Some(r) = rssi(params, &peer.radio, &rx_radio, &link, &mut self.rng) {
                    let r = r.round().clamp(-127.0, 20.0) as i8;
                    sample.push((p, address, r));
                    if k == 0 && self.rng.unit() < 0.01 {
                        let attenuation = f64::from(peer.radio.tx_power_dbm)
                            - (f64::from(r) + f64::from(rx_radio.rssi_correction_db));
                        self.samples.push((d as f32, attenuation as f32));
                    }
                }
            }
        }
        for (k, sightings) in per_sample.into_iter().enumerate() {
            if !sightings.is_empty() {
                let t = at + 500 + k as u64 * 3_000 / SAMPLES_PER_SCAN;
                self.push(t, Event::Deliver { rx, sightings });
            }
        }
    }

    fn deliver(&mut self, rx: usize, at: u64, sightings: Vec<(usize, u64, i8)>) {
        let now = Self::now(at);
        for (p, address, rssi) in sightings {
            // The peer may have rotated since the scan's start; what is on air now is what is heard.
            let (advertisement, peer) = {
                let iphone = self.phones[p].iphone;
                let s = self.phones[p].radio_state();
                let Some((adv, _, peer)) = s.advertising.as_ref().filter(|(_, a, _)| *a == address)
                else {
                    continue;
                };
                let advertisement = if iphone {
                    SeenAdvertisement::Structured(AdvertisementData::ios_background())
                } else {
                    SeenAdvertisement::Raw(adv.raw.clone())
                };
                (advertisement, peer.clone())
            };
            self.sightings += 1;
            self.phones[rx]
                .engine
                .advertisement_seen(now, peer, advertisement, rssi, None);
        }
        self.after_engine_call(rx, at);
        self.poll(rx, at);
    }

    fn gatt_answer(&mut self, rx: usize, at: u64, peer: PeerId) {
        let value = self.advertisers.get(&peer).and_then(|&i| {
            let s = self.phones[i].radio_state();
            let (adv, _, id) = s.advertising.as_ref()?;
            (*id == peer).then(|| (i, adv.gatt_value.clone()))
        });
        // In range if the two are still within reach of each other now.
        let result = match value {
            Some((i, v)) => {
                let snapshot = self.take_snapshot(at);
                let in_reach =
                    snapshot.places[i].distance(&snapshot.places[rx]) <= MAX_RANGE_M / 2.0;
                self.snapshot = Some(snapshot);
                if in_reach {
                    Ok(v)
                } else {
                    Err(PlatformError("the peer went out of range".into()))
                }
            }
            None => Err(PlatformError("the peer stopped advertising".into())),
        };
        self.phones[rx]
            .engine
            .gatt_read_done(Self::now(at), peer, result);
        self.after_engine_call(rx, at);
        self.poll(rx, at);
    }

    /// Runs every event until the end; `progress` is told the share of virtual time done.
    pub(crate) fn run(
        &mut self,
        progress: &(dyn Fn(Progress) + Sync),
        label: &'static str,
    ) -> Result<(), SimError> {
        let start = day_start_ms(0);
        let mut last_reported = 0;
        while let Some(Reverse((at, _, event))) = self.queue.pop() {
            if at >= self.end_ms {
                break;
            }
            self.clock.0.store(at, Ordering::Relaxed);
            match event {
                Event::Poll(i) => {
                    if self.phones[i].next_poll == Some(at) {
                        self.phones[i].next_poll = None;
                        self.poll(i, at);
                    }
                }
                Event::Deliver { rx, sightings } => self.deliver(rx, at, sightings),
                Event::GattAnswer { rx, peer } => self.gatt_answer(rx, at, peer),
                Event::Report => self.report(at)?,
                Event::Publish => self.publish(at)?,
                Event::Sync(i) => self.sync(i, at)?,
            }
            let done = at.saturating_sub(start) * 1000 / (self.end_ms - start);
            if done > last_reported {
                last_reported = done;
                progress(Progress {
                    run: label,
                    permille: done as u32,
                });
            }
        }
        Ok(())
    }

    /// The cases test positive: an officer issues codes, the phones report, the cases go home.
    fn report(&mut self, at: u64) -> Result<(), SimError> {
        let minute = ((at - day_start_ms(self.scenario.report_day - 1)) / 60_000) as u32;
        for &case in &self.cases.clone() {
            self.school
                .send_home(case as u32, self.scenario.report_day - 1, minute);
        }
        let first_day = FIRST_DAY + (self.scenario.onset_day - 1).saturating_sub(2);
        let onset = FIRST_DAY + self.scenario.onset_day - 1;
        match self.scheme {
            SchemeId::EnV1 => {
                let server = self.start_server()?;
                let (url, token) = (server.0, server.1);
                for &case in &self.cases.clone() {
                    let code = self.runtime.block_on(issue_code(&url, &token, onset))?;
                    let client = KeyServerClient::new(ClientConfig::new(&url))?;
                    let store = Arc::clone(&self.phones[case].store);
                    self.runtime.block_on(keyserver::report_positive(
                        &store,
                        &client,
                        &code,
                        Some(onset),
                        None,
                        at,
                        UserConsent::given(),
                    ))?;
                    self.phones[case].engine.rotate_now(Self::now(at));
                    self.track_advertiser(case);
                }
            }
            SchemeId::BluezoneV3 => {
                let mut keys = Vec::new();
                let today = FIRST_DAY + self.scenario.report_day - 1;
                for &case in &self.cases {
                    keys.extend(
                        self.phones[case]
                            .store
                            .keys_for_report(first_day, today, UserConsent::given(), 96)?
                            .bluezone_v3,
                    );
                }
                let (signer, _) = SigningKey::generate("bluezone", "v1")?;
                let json = bluezone::to_json(&keys);
                let signature = signer.sign(&json)?;
                self.bluezone_published = Some((json, signature, signer));
            }
        }
        // Publication on the hour; phones sync on their own schedules from now on.
        let hour = 3_600_000;
        let first_tick = (at / hour + 1) * hour;
        let mut t = first_tick;
        while t < self.end_ms {
            self.push(t, Event::Publish);
            t += hour;
        }
        let every = (self.scenario.sync_every_hours * 3_600_000.0) as u64;
        for i in 0..self.phones.len() {
            let phase = self.rng.between(0, every - 1);
            let mut t = at + phase;
            while t < self.end_ms {
                self.push(t, Event::Sync(i));
                t += every;
            }
        }
        Ok(())
    }

    fn start_server(&mut self) -> Result<(String, String), SimError> {
        if let Some(s) = &self.server {
            return Ok((s.url.clone(), s.officer_token.clone()));
        }
        let mut config = openzone_server::ServerConfig::new(self._dir.path().join("server"));
        config.clock = Arc::clone(&self.clock) as Arc<dyn Clock>;
        // Publication runs when the simulation's clock says so (Event::Publish), not on real time.
        config.publication.cadence = std::time::Duration::from_secs(365 * 86_400);
        let (server, listener) = self.runtime.block_on(async {
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
        self.runtime.spawn(async move {
            let _ = serving
                .serve(listener, async move {
                    let _ = rx.await;
                })
                .await;
        });
        // The school's health officer: an account, signed in for the day of the reports.
        let password: String = ring::rand::generate::<[u8; 16]>(&ring::rand::SystemRandom::new())
            .map_err(|_| SimError::Setup("no randomness for the officer's password".into()))?
            .expose()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        server
            .accounts()
            .add_officer(SIM_OFFICER, &password, u32::MAX)?;
        let answer = self.runtime.block_on(admin_post(
            &url,
            "v1/admin/login",
            None,
            serde_json::json!({ "name": SIM_OFFICER, "password": password }),
        ))?;
        let officer_token = answer["token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| SimError::Setup(format!("the officer could not sign in: {answer}")))?;
        let client = KeyServerClient::new(ClientConfig {
            pinned_export_keys: vec![server.verification_key()],
            ..ClientConfig::new(&url)
        })?;
        self.server = Some(ServerHandle {
            server,
            url: url.clone(),
            officer_token: officer_token.clone(),
            client,
            shutdown: Some(tx),
        });
        Ok((url, officer_token))
    }

    fn publish(&mut self, at: u64) -> Result<(), SimError> {
        match self.scheme {
            SchemeId::EnV1 => {
                if let Some(s) = &self.server {
                    let server = s.server.clone();
                    self.runtime.block_on(server.publish_now())?;
                }
            }
            SchemeId::BluezoneV3 => {
                if self.bluezone_published.is_some() && self.bluezone_available_ms.is_none() {
                    self.bluezone_available_ms = Some(at);
                }
            }
        }
        Ok(())
    }

    fn context(&self, i: usize, at: u64) -> MatchContext {
        let table = CalibrationTable::builtin();
        let r = self.phones[i].radio;
        let receiver = openzone_core::risk::calibration::DeviceCalibration {
            tx_power_dbm: r.tx_power_dbm,
            rssi_correction_db: r.rssi_correction_db,
            confidence: openzone_core::risk::calibration::Confidence::High,
        };
        MatchContext::new(at, receiver, table.fleet().tx_power_dbm)
    }

    fn sync(&mut self, i: usize, at: u64) -> Result<(), SimError> {
        let ctx = self.context(i, at);
        let store = Arc::clone(&self.phones[i].store);
        match self.scheme {
            SchemeId::EnV1 => {
                let Some(s) = &self.server else {
                    return Ok(());
                };
                let options = SyncOptions {
                    risk: self.risk.clone(),
                    ctx,
                    trust_server_keys: false,
                };
                let report = self
                    .runtime
                    .block_on(keyserver::sync(&store, &s.client, &options))?;
                self.phones[i].bytes_downloaded += report.bytes_downloaded;
                if report.days.iter().any(|d| d.at_risk) && self.phones[i].notified_at_ms.is_none()
                {
                    self.phones[i].notified_at_ms = Some(at);
                }
            }
            SchemeId::BluezoneV3 => {
                let (Some(available), Some((json, signature, signer))) =
                    (self.bluezone_available_ms, &self.bluezone_published)
                else {
                    return Ok(());
                };
                if at < available {
                    return Ok(());
                }
                let digest: [u8; 32] = ring::digest::digest(&ring::digest::SHA256, json)
                    .as_ref()
                    .try_into()
                    .unwrap_or([0; 32]);
                if store.batch_processed(&digest)? {
                    return Ok(());
                }
                self.phones[i].bytes_downloaded += (json.len() + signature.len()) as u64;
                let keys = bluezone::parse_signed(json, signature, &[signer.verification_key()])?;
                // Bluezone's own rule: any sighting of a published ID is a contact.
                let oldest = at.saturating_sub(14 * MS_PER_DAY);
                let index = HeardIndex::new(store.scan_instances(oldest, u64::MAX)?);
                let outcome = match_bluezone(&index, &keys.keys, &ctx);
                let mut days: Vec<u32> = outcome
                    .exposures
                    .iter()
                    .flat_map(|e| {
                        e.instances
                            .iter()
                            .map(|s| (s.time_ms / MS_PER_DAY) as u32 - FIRST_DAY)
                    })
                    .collect();
                days.sort_unstable();
                days.dedup();
                self.any_sighting_days[i] = days;
                let report = check_bluezone(&store, &keys, &digest, &self.risk, &ctx)?;
                if (report.days.iter().any(|d| d.at_risk) || !self.any_sighting_days[i].is_empty())
                    && self.phones[i].notified_at_ms.is_none()
                {
                    self.phones[i].notified_at_ms = Some(at);
                }
            }
        }
        Ok(())
    }

    /// Stops everything and collects what the run produced.
    pub(crate) fn finish(mut self) -> Result<RunResult, SimError> {
        let end = Self::now(self.end_ms);
        let mut risk_days = Vec::new();
        let mut scan_share = Vec::new();
        let span_ms = (self.end_ms - (day_start_ms(0) - 3_600_000)) as f64;
        let advertising_share = self.phones.first().map_or(0.0, |p| {
            p.engine
                .config()
                .schedules
                .duty(openzone_core::engine::ScanMode::Background)
                .advertising
        });
        for phone in &mut self.phones {
            phone.engine.stop(end);
            let days = exposure_days(&phone.store)?
                .into_iter()
                .map(|d| (d.day - FIRST_DAY, (d.at_risk, d.weighted_minutes)))
                .collect();
            risk_days.push(days);
            let stats = phone.engine.stats();
            let scan_secs = f64::from(phone.engine.config().schedules.background.scan_secs);
            scan_share.push(stats.scans as f64 * scan_secs * 1000.0 / span_ms);
        }
        if let Some(mut s) = self.server.take() {
            if let Some(tx) = s.shutdown.take() {
                let _ = tx.send(());
            }
        }
        Ok(RunResult {
            risk_days,
            any_sighting_days: std::mem::take(&mut self.any_sighting_days),
            notified_after_ms: self
                .phones
                .iter()
                .map(|p| p.notified_at_ms.map(|t| t.saturating_sub(self.report_ms)))
                .collect(),
            scan_share,
            advertising_share,
            bytes_downloaded: self.phones.iter().map(|p| p.bytes_downloaded).collect(),
            attenuation_samples: std::mem::take(&mut self.samples),
            sightings: self.sightings,
        })
    }
}

/// The simulated health officer's account name.
const SIM_OFFICER: &str = "school-nurse";

/// The officer's side: a one-time code from the real server's admin API.
async fn issue_code(url: &str, token: &str, onset_day: u32) -> Result<String, SimError> {
    let body = admin_post(
        url,
        "v1/admin/codes",
        Some(token),
        serde_json::json!({
            "test_type": "confirmed",
            "onset": openzone_core::time::format_day(onset_day),
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
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
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

/// A fresh directory for the phones' stores: in memory (`/dev/shm`) where there is one, so that hundreds of
/// real sled stores checkpointing cost no disk syncs.
fn work_dir() -> Result<tempfile::TempDir, SimError> {
    let shm = std::path::Path::new("/dev/shm");
    let builder = tempfile::Builder::new()
        .prefix("openzone-sim-")
        .tempdir_in(shm);
    builder
        .or_else(|_| tempfile::Builder::new().prefix("openzone-sim-").tempdir())
        .map_err(|e| SimError::Setup(format!("cannot create a work directory: {e}")))
}
