//! One run of the school on virtual time: every phone's engine, the radio between them, the positive report
//! and the key server, driven event by event.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use openzone_core::engine::{EngineConfig, ScanMode};
use openzone_core::phone::{
    Confidence, DataKey, DeviceCalibration, Phone, PhoneConfig, RiskConfig,
};
use openzone_core::platform::{EngineInput, PeerId, PlatformError, Reception, SeenAdvertisement};
use openzone_core::protocol::payload::AdvertisementData;
use openzone_core::protocol::SchemeId;
use openzone_core::seeded::SplitMix64;
use openzone_core::time::{Clock, MS_PER_DAY};

use crate::authority::Authority;
use crate::checkins::{check_in_everyone, Posters};
use crate::phone::{Device, SimPlatform};
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

    /// Virtual time never jumps: the engines schedule on it too.
    fn monotonic_ms(&self) -> Option<u64> {
        Some(self.now_ms())
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
    /// Per phone: the days (0-based, ascending) a presence warning at risk was told of in a sync (runs
    /// with posters only).
    pub(crate) presence_days: Vec<Vec<u32>>,
    /// QR check-ins made on the phones (runs with posters only).
    pub(crate) checkins: u64,
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
    phones: Vec<Device>,
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
    runtime: tokio::runtime::Runtime,
    authority: Authority,
    any_sighting_days: Vec<Vec<u32>>,
    samples: Vec<(f32, f32)>,
    sightings: u64,
    /// The school's posters, when the run has presence tracing (the key server's run).
    posters: Option<Posters>,
    /// Per phone: the days (0-based) of the presence warnings its syncs told of.
    presence_days: Vec<Vec<u32>>,
    checkins: u64,
    _dir: tempfile::TempDir,
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
        let authority = Authority::new(
            scheme,
            &runtime,
            Arc::clone(&clock) as Arc<dyn Clock>,
            dir.path(),
        )?;
        let mut rng = SplitMix64::new(scenario.seed ^ 0x5151);
        let mut phones = Vec::with_capacity(scenario.people() as usize);
        for person in 0..scenario.people() {
            let mut own = SplitMix64::new(scenario.seed ^ (u64::from(person) << 20) ^ 0xA5A5);
            let iphone = own.unit() < scenario.iphone_share;
            let bluetooth_on = own.unit() >= scenario.bluetooth_off_share;
            let radio = PhoneRadio::draw(&scenario.radio, iphone, &mut own);
            let (platform, state) = SimPlatform::new(own.next_u64());
            let config = PhoneConfig {
                scheme,
                // The simulation knows each phone's true calibration.
                calibration: DeviceCalibration {
                    tx_power_dbm: radio.tx_power_dbm,
                    rssi_correction_db: radio.rssi_correction_db,
                    confidence: Confidence::High,
                },
                risk: risk.clone(),
                export_keys: authority.export_keys(),
                key_server: authority.client(),
                engine: EngineConfig {
                    checkpoint_every_secs: 3_600,
                    jitter_seed: Some(own.next_u64()),
                    ..EngineConfig::default()
                },
                ..PhoneConfig::new(
                    dir.path().join(format!("phone-{person}")),
                    DataKey::from_bytes([7; 32]),
                )
            };
            let clock = Arc::clone(&clock) as Arc<dyn Clock>;
            let phone = Phone::open(config, platform, None, clock)?;
            phone.start_stepped();
            if !bluetooth_on {
                phone.input().bluetooth_changed(false);
            }
            phones.push(Device {
                phone,
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
        // Presence tracing goes through the key server, as the apps' does.
        let posters = match scheme {
            SchemeId::EnV1 => Some(Posters::new(&school, start / 1000)?),
            SchemeId::BluezoneV3 => None,
        };
        let mut world = Self {
            posters,
            scenario,
            school,
            any_sighting_days: vec![Vec::new(); phones.len()],
            presence_days: vec![Vec::new(); phones.len()],
            checkins: 0,
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
            runtime,
            authority,
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

    /// Runs the engine's step at `at` (the clock's time), then acts on what it asked of its radio.
    fn poll(&mut self, i: usize, at: u64) {
        let next = self.phones[i].phone.step();
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
                shadowing_db: params.shadowing(&mut self.rng)
                    + params.situation(self.scenario.seed, rx, p, day, (at / 60_000) as u32),
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
        let input = self.phones[rx].phone.input();
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
            input.advertisement_seen(Reception {
                peer,
                advertisement,
                rssi,
                tx_power: None,
            });
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
        self.phones[rx].phone.input().gatt_read_done(peer, result);
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
                Event::Publish => self.authority.publish(&self.runtime, at)?,
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

    /// The cases test positive: they report, and go home.
    fn report(&mut self, at: u64) -> Result<(), SimError> {
        let minute = ((at - day_start_ms(self.scenario.report_day - 1)) / 60_000) as u32;
        for &case in &self.cases {
            self.school
                .send_home(case as u32, self.scenario.report_day - 1, minute);
        }
        let onset = FIRST_DAY + self.scenario.onset_day - 1;
        if let Some(posters) = &self.posters {
            // Everyone's scans so far, on their own phones, before the cases report.
            let all: Vec<&Phone> = self.phones.iter().map(|d| &d.phone).collect();
            self.checkins = check_in_everyone(
                self.scenario,
                &self.school,
                posters,
                &all,
                self.scenario.report_day - 1,
                minute,
            )?;
        }
        let cases: Vec<&Phone> = self.cases.iter().map(|&c| &self.phones[c].phone).collect();
        self.authority.report(&self.runtime, &cases, onset)?;
        for case in self.cases.clone() {
            self.track_advertiser(case);
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

    fn sync(&mut self, i: usize, at: u64) -> Result<(), SimError> {
        let synced = self
            .authority
            .sync(&self.runtime, &self.phones[i].phone, at)?;
        let device = &mut self.phones[i];
        device.bytes_downloaded += synced.bytes;
        if let Some(days) = synced.days_heard {
            // Bluezone's own rule: any sighting of a published ID is a contact.
            self.any_sighting_days[i] = days.into_iter().map(|d| d - FIRST_DAY).collect();
        }
        let warned = &mut self.presence_days[i];
        warned.extend(synced.presence_days.iter().map(|d| d - FIRST_DAY));
        warned.sort_unstable();
        warned.dedup();
        let notified = synced.at_risk || !self.any_sighting_days[i].is_empty();
        if notified && device.notified_at_ms.is_none() {
            device.notified_at_ms = Some(at);
        }
        Ok(())
    }

    /// Stops everything and collects what the run produced.
    pub(crate) fn finish(mut self) -> Result<RunResult, SimError> {
        self.clock.0.store(self.end_ms, Ordering::Relaxed);
        let mut risk_days = Vec::new();
        let mut scan_share = Vec::new();
        let span_ms = (self.end_ms - (day_start_ms(0) - 3_600_000)) as f64;
        let schedules = self
            .phones
            .first()
            .map(|d| d.phone.engine_config().schedules);
        let advertising_share = schedules
            .as_ref()
            .map_or(0.0, |s| s.duty(ScanMode::Background).advertising);
        let scan_secs = schedules.map_or(0.0, |s| f64::from(s.background.scan_secs));
        for device in &self.phones {
            device.phone.stop();
            let days = device
                .phone
                .exposure_days()?
                .into_iter()
                .map(|d| (d.day - FIRST_DAY, (d.at_risk, d.weighted_minutes)))
                .collect();
            risk_days.push(days);
            let stats = device.phone.radio_stats();
            scan_share.push(stats.scans as f64 * scan_secs * 1000.0 / span_ms);
        }
        self.authority.shutdown();
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
            presence_days: std::mem::take(&mut self.presence_days),
            checkins: self.checkins,
        })
    }
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
