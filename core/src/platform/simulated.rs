//! A platform without a radio: phones on a shared in-memory air, with a path-loss model between them.
//!
//! Each phone gets a [`SimulatedPlatform`] from the shared [`SimulatedRadio`]. What engines ask of their
//! platform (advertise this, scan now, read that peer) becomes the node's state; [`SimulatedRadio::events`]
//! then computes one advertising round: every scanning node hears every advertising node whose signal,
//! from the [`Propagation`] model, is above the receiver's sensitivity, and every pending GATT read is
//! answered if its peer is still in range. Events are handed out rather than delivered under the radio's
//! lock, so a test can [`dispatch`](SimulatedRadio::dispatch) them to attached engines and the simulation
//! can feed them to its machines on virtual time.
//!
//! Like real phones, a node gets a new random address at every advertising start, and an iPhone in the
//! background advertises only Apple's overflow area: peers must read its payload over GATT.

use std::sync::{Arc, Mutex, MutexGuard};

use super::{
    Advertising, BlePlatform, EngineInput, PeerId, PlatformError, Reception, ScanFilter,
    SeenAdvertisement,
};
use crate::protocol::payload::AdvertisementData;
use crate::seeded::SplitMix64;

/// A node's place and radio, as the propagation model sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeView {
    /// The node's index.
    pub index: usize,
    /// Position in metres.
    pub position: (f64, f64),
    /// Added to what this node transmits (dB): phones differ.
    pub tx_offset_db: f64,
    /// Added to what this node measures (dB): receivers differ too.
    pub rx_offset_db: f64,
}

/// The signal between two nodes.
pub trait Propagation: Send + Sync {
    /// The RSSI `rx` measures from one advertisement of `tx`, or `None` if it is not received.
    fn rssi(&self, tx: &NodeView, rx: &NodeView, rng: &mut SplitMix64) -> Option<f64>;
}

/// Log-distance path loss with log-normal shadowing:
/// `RSSI = P(1 m) - 10 n log10(d) + X_sigma + offsets`, received above `sensitivity_dbm`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogDistance {
    /// RSSI at one metre, dBm.
    pub rssi_at_1m_dbm: f64,
    /// Path-loss exponent (2 in free space, more indoors among people).
    pub exponent: f64,
    /// Standard deviation of the shadowing, dB.
    pub shadowing_db: f64,
    /// Weakest signal received, dBm.
    pub sensitivity_dbm: f64,
}

impl Default for LogDistance {
    fn default() -> Self {
        Self {
            rssi_at_1m_dbm: -60.0,
            exponent: 2.0,
            shadowing_db: 4.0,
            sensitivity_dbm: -100.0,
        }
    }
}

impl Propagation for LogDistance {
    fn rssi(&self, tx: &NodeView, rx: &NodeView, rng: &mut SplitMix64) -> Option<f64> {
        let d = ((tx.position.0 - rx.position.0).powi(2) + (tx.position.1 - rx.position.1).powi(2))
            .sqrt()
            .max(0.1);
        let rssi = self.rssi_at_1m_dbm - 10.0 * self.exponent * d.log10()
            + self.shadowing_db * rng.normal()
            + tx.tx_offset_db
            + rx.rx_offset_db;
        (rssi >= self.sensitivity_dbm).then_some(rssi)
    }
}

/// Something that happened on the air for one node.
#[derive(Debug, Clone, PartialEq)]
pub enum RadioEvent {
    /// The node's scan received an advertisement.
    Seen {
        /// The sender's current address.
        peer: PeerId,
        /// What it sent.
        advertisement: SeenAdvertisement,
        /// The received signal, dBm.
        rssi: i8,
    },
    /// A GATT read the node asked for finished.
    GattRead {
        /// The peer read.
        peer: PeerId,
        /// The value, or why it failed.
        result: Result<Vec<u8>, PlatformError>,
    },
}

#[derive(Default)]
struct Node {
    view: Option<NodeView>,
    bluetooth_on: bool,
    ios_background: bool,
    advertising: Option<Advertising>,
    address: u64,
    scanning: bool,
    gatt_reads: Vec<PeerId>,
    input: Option<Arc<dyn EngineInput>>,
}

struct Air {
    nodes: Vec<Node>,
    rng: SplitMix64,
}

/// The shared air.
pub struct SimulatedRadio {
    air: Mutex<Air>,
    propagation: Box<dyn Propagation>,
}

impl std::fmt::Debug for SimulatedRadio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatedRadio").finish_non_exhaustive()
    }
}

/// One node's platform on the shared air.
#[derive(Debug)]
pub struct SimulatedPlatform {
    radio: Arc<SimulatedRadio>,
    index: usize,
}

impl SimulatedRadio {
    /// An empty air with a propagation model and a seed for its noise and addresses.
    pub fn new(propagation: impl Propagation + 'static, seed: u64) -> Arc<Self> {
        Arc::new(Self {
            air: Mutex::new(Air {
                nodes: Vec::new(),
                rng: SplitMix64::new(seed),
            }),
            propagation: Box::new(propagation),
        })
    }

    fn air(&self) -> MutexGuard<'_, Air> {
        self.air.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a phone at `position`; `ios_background` makes it an iPhone whose app is in the background.
    pub fn add_node(
        self: &Arc<Self>,
        position: (f64, f64),
        ios_background: bool,
    ) -> Arc<SimulatedPlatform> {
        let mut air = self.air();
        let index = air.nodes.len();
        air.nodes.push(Node {
            view: Some(NodeView {
                index,
                position,
                tx_offset_db: 0.0,
                rx_offset_db: 0.0,
            }),
            bluetooth_on: true,
            ios_background,
            ..Default::default()
        });
        Arc::new(SimulatedPlatform {
            radio: Arc::clone(self),
            index,
        })
    }

    /// Tells the radio which engine a node's events go to. Pass a weak handle (the engine's
    /// `EngineHandle` is one), so that the radio does not keep an engine alive.
    pub fn attach(&self, index: usize, input: Arc<dyn EngineInput>) {
        if let Some(node) = self.air().nodes.get_mut(index) {
            node.input = Some(input);
        }
    }

    /// Moves a node.
    pub fn set_position(&self, index: usize, position: (f64, f64)) {
        self.change_view(index, |view| view.position = position);
    }

    /// Sets how much louder a node transmits and how much higher it reads than the model's average.
    pub fn set_offsets(&self, index: usize, tx_offset_db: f64, rx_offset_db: f64) {
        self.change_view(index, |view| {
            view.tx_offset_db = tx_offset_db;
            view.rx_offset_db = rx_offset_db;
        });
    }

    /// Applies `change` to the view of node `index`, if it has one.
    fn change_view(&self, index: usize, change: impl FnOnce(&mut NodeView)) {
        if let Some(view) = self
            .air()
            .nodes
            .get_mut(index)
            .and_then(|n| n.view.as_mut())
        {
            change(view);
        }
    }

    /// Turns a node's Bluetooth on or off (it then neither sends nor hears).
    pub fn set_bluetooth(&self, index: usize, on: bool) {
        if let Some(node) = self.air().nodes.get_mut(index) {
            node.bluetooth_on = on;
        }
    }

    /// Whether a node is scanning.
    pub fn is_scanning(&self, index: usize) -> bool {
        self.air()
            .nodes
            .get(index)
            .is_some_and(|n| n.scanning && n.bluetooth_on)
    }

    /// The current address of a node, as peers see it.
    pub fn address(&self, index: usize) -> PeerId {
        PeerId(format!(
            "{:012X}",
            self.air().nodes.get(index).map_or(0, |n| n.address)
        ))
    }

    /// One advertising round: what every scanning node hears from every advertising node, and the
    /// answers to pending GATT reads. Events are `(receiving node, event)`.
    pub fn events(&self) -> Vec<(usize, RadioEvent)> {
        let mut air = self.air();
        let Air { nodes, rng } = &mut *air;
        let mut out = Vec::new();
        for (rx_index, rx) in nodes.iter().enumerate() {
            let Some(rx_view) = rx.view.filter(|_| rx.scanning && rx.bluetooth_on) else {
                continue;
            };
            for (tx_index, tx) in nodes.iter().enumerate() {
                if tx_index == rx_index || !tx.bluetooth_on {
                    continue;
                }
                let (Some(tx_view), Some(advertising)) = (tx.view, &tx.advertising) else {
                    continue;
                };
                let Some(rssi) = self.propagation.rssi(&tx_view, &rx_view, rng) else {
                    continue;
                };
                let advertisement = if tx.ios_background {
                    SeenAdvertisement::Structured(AdvertisementData::ios_background())
                } else {
                    SeenAdvertisement::Raw(advertising.raw.clone())
                };
                out.push((
                    rx_index,
                    RadioEvent::Seen {
                        peer: PeerId(format!("{:012X}", tx.address)),
                        advertisement,
                        rssi: rssi.round().clamp(-127.0, 20.0) as i8,
                    },
                ));
            }
        }
        // GATT reads: answered by the peer with that address if it still advertises and is in range.
        let reads: Vec<(usize, PeerId)> = nodes
            .iter_mut()
            .enumerate()
            .flat_map(|(i, n)| n.gatt_reads.drain(..).map(move |p| (i, p)))
            .collect();
        for (rx_index, peer) in reads {
            let target = nodes.iter().find(|n| {
                n.bluetooth_on
                    && n.advertising.is_some()
                    && PeerId(format!("{:012X}", n.address)) == peer
            });
            let result = match (target, nodes[rx_index].view) {
                (Some(t), Some(rx_view)) => match (t.view, &t.advertising) {
                    (Some(tx_view), Some(adv))
                        if self.propagation.rssi(&tx_view, &rx_view, rng).is_some() =>
                    {
                        Ok(adv.gatt_value.clone())
                    }
                    _ => Err(PlatformError("the peer is out of range".into())),
                },
                _ => Err(PlatformError("no such peer".into())),
            };
            out.push((rx_index, RadioEvent::GattRead { peer, result }));
        }
        out
    }

    /// Hands events to the engines attached to their nodes.
    pub fn dispatch(&self, events: Vec<(usize, RadioEvent)>) {
        let inputs: Vec<Option<Arc<dyn EngineInput>>> =
            self.air().nodes.iter().map(|n| n.input.clone()).collect();
        for (index, event) in events {
            let Some(Some(input)) = inputs.get(index) else {
                continue;
            };
            match event {
                RadioEvent::Seen {
                    peer,
                    advertisement,
                    rssi,
                } => input.advertisement_seen(Reception {
                    peer,
                    advertisement,
                    rssi,
                    tx_power: None,
                }),
                RadioEvent::GattRead { peer, result } => input.gatt_read_done(peer, result),
            }
        }
    }
}

impl SimulatedPlatform {
    /// This node's index on the air.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The radio this node is on.
    pub fn radio(&self) -> &Arc<SimulatedRadio> {
        &self.radio
    }

    fn node<R>(&self, f: impl FnOnce(&mut Node, &mut SplitMix64) -> R) -> Option<R> {
        let mut air = self.radio.air();
        let Air { nodes, rng } = &mut *air;
        nodes.get_mut(self.index).map(|n| f(n, rng))
    }
}

impl BlePlatform for SimulatedPlatform {
    fn start_advertising(&self, advertising: &Advertising) -> Result<(), PlatformError> {
        self.node(|n, rng| {
            if !n.bluetooth_on {
                return Err(PlatformError("Bluetooth is off".into()));
            }
            // A fresh random static address with every advertising start, as phones do.
            n.address = rng.next_u64() & 0xFFFF_FFFF_FFFF;
            n.advertising = Some(advertising.clone());
            Ok(())
        })
        .unwrap_or_else(|| Err(PlatformError("no such node".into())))
    }

    fn stop_advertising(&self) {
        self.node(|n, _| n.advertising = None);
    }

    fn start_scanning(&self, _filter: &ScanFilter) -> Result<(), PlatformError> {
        self.node(|n, _| {
            if !n.bluetooth_on {
                return Err(PlatformError("Bluetooth is off".into()));
            }
            n.scanning = true;
            Ok(())
        })
        .unwrap_or_else(|| Err(PlatformError("no such node".into())))
    }

    fn stop_scanning(&self) {
        self.node(|n, _| n.scanning = false);
    }

    fn read_gatt(&self, peer: &PeerId) -> Result<(), PlatformError> {
        self.node(|n, _| n.gatt_reads.push(peer.clone()))
            .ok_or_else(|| PlatformError("no such node".into()))
    }
}
