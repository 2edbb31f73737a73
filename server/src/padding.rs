//! Fake keys that pad an export, and fake encrypted check-ins that pad a warning package, so that a
//! small batch does not single anyone out.
//!
//! An export of fewer than `min_batch` real keys gets fake ones up to `min_batch` plus a random extra
//! count (0 to `jitter`, uniform), as Google's exposure-notifications-server does (`ensureMinNumExposures`,
//! `MinRecords` + `PaddingRange`): a fixed target would show exactly how many keys were real whenever
//! there were more.
//!
//! A fake key is 16 random bytes with the metadata (intervals, report type, days since onset,
//! transmission risk) of a random real key of the last days: any stored key that could be published now
//! (ended at least the publication delay ago, within retention), whether already published or not. Copying
//! only the batch's own keys, as Google's server does, repeats the shapes of the few real keys of a quiet
//! hour a hundred times over, and so points at them.

use openzone_wire::checkin::report::pad_with_fakes;
use openzone_wire::checkin::ProtectedReport;
use openzone_wire::export::{ExportKey, ReportType};
use openzone_wire::protocol::en_v1::{ExposureKey, TemporaryExposureKey};
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{Result, ServerError};
use crate::storage::{KeyShape, StoredKey};

impl KeyShape {
    /// The export's entry for the key `tek` of this shape.
    fn export_key(&self, tek: [u8; 16]) -> Result<ExportKey> {
        Ok(ExportKey {
            key: ExposureKey::new(
                TemporaryExposureKey::from_bytes(tek),
                self.rolling_start_interval,
                self.rolling_period,
            )?,
            transmission_risk_level: Some(self.transmission_risk_level),
            report_type: ReportType::from_i32(self.report_type),
            days_since_onset: self.days_since_onset,
        })
    }
}

/// How many keys an export of `real` real keys holds: at least `min_batch` plus `extra` (drawn from
/// `0..=jitter`); never fewer than the real ones.
pub(crate) fn target_size(real: usize, min_batch: usize, extra: usize) -> usize {
    real.max(min_batch.saturating_add(extra))
}

fn random_u64(rng: &SystemRandom) -> Result<u64> {
    let mut bytes = [0u8; 8];
    rng.fill(&mut bytes)
        .map_err(|_| ServerError::Wire(openzone_wire::Error::Random))?;
    Ok(u64::from_le_bytes(bytes))
}

/// A uniform draw from `0..n` (`n` > 0; the modulo bias over 64 bits is below 2^-40 for any n here).
fn below(rng: &SystemRandom, n: usize) -> Result<usize> {
    Ok((random_u64(rng)? % n as u64) as usize)
}

/// The due keys as export keys, plus fakes shaped like random keys of `pool` up to a random target
/// (see the module's doc), sorted by key bytes so that order says nothing.
pub(crate) fn padded_export_keys(
    due: &[([u8; 16], StoredKey)],
    pool: &[KeyShape],
    min_batch: usize,
    jitter: usize,
) -> Result<Vec<ExportKey>> {
    let rng = SystemRandom::new();
    let mut keys = due
        .iter()
        .map(|(tek, k)| k.shape.export_key(*tek))
        .collect::<Result<Vec<_>>>()?;
    let extra = below(&rng, jitter.saturating_add(1))?;
    let target = target_size(keys.len(), min_batch, extra);
    // The due keys are in the pool too, so an empty pool means nothing to publish.
    if !pool.is_empty() && !due.is_empty() {
        while keys.len() < target {
            let mut tek = [0u8; 16];
            rng.fill(&mut tek)
                .map_err(|_| ServerError::Wire(openzone_wire::Error::Random))?;
            keys.push(pool[below(&rng, pool.len())?].export_key(tek)?);
        }
    }
    keys.sort_by(|a, b| a.key.tek.as_bytes().cmp(b.key.tek.as_bytes()));
    Ok(keys)
}

/// Encrypted check-ins padded with fake ones to the same random target as an export of keys, sorted by
/// location-id hash so that order says nothing.
pub(crate) fn padded_reports(
    reports: Vec<ProtectedReport>,
    min_batch: usize,
    jitter: usize,
) -> Result<Vec<ProtectedReport>> {
    let rng = SystemRandom::new();
    let extra = below(&rng, jitter.saturating_add(1))?;
    let target = target_size(reports.len(), min_batch, extra);
    Ok(pad_with_fakes(reports, target, &rng)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(start: u32, level: u8) -> StoredKey {
        StoredKey {
            shape: KeyShape {
                rolling_start_interval: start,
                rolling_period: 144,
                report_type: 1,
                days_since_onset: Some(0),
                transmission_risk_level: level,
            },
            batch: None,
            region: None,
        }
    }

    #[test]
    fn targets_are_at_least_the_minimum_and_never_drop_real_keys() {
        assert_eq!(target_size(3, 100, 0), 100);
        assert_eq!(target_size(3, 100, 17), 117);
        assert_eq!(target_size(500, 100, 17), 500);
        assert_eq!(target_size(0, usize::MAX, 5), usize::MAX);
    }

    #[test]
    fn fakes_take_their_shapes_from_the_pool_and_counts_vary() {
        let due = vec![([1u8; 16], stored(100 * 144, 8))];
        let pool: Vec<KeyShape> = (90..100)
            .map(|d| stored(d * 144, 5).shape)
            .chain([due[0].1.shape])
            .collect();
        let mut sizes = std::collections::HashSet::new();
        for _ in 0..20 {
            let keys = padded_export_keys(&due, &pool, 50, 20).unwrap();
            assert!((50..=70).contains(&keys.len()), "{}", keys.len());
            sizes.insert(keys.len());
            assert!(keys
                .windows(2)
                .all(|w| w[0].key.tek.as_bytes() < w[1].key.tek.as_bytes()));
            assert!(keys.iter().any(|k| *k.key.tek.as_bytes() == [1u8; 16]));
            for k in &keys {
                let shape = KeyShape {
                    rolling_start_interval: k.key.rolling_start_interval,
                    rolling_period: k.key.rolling_period,
                    report_type: k.report_type.as_i32(),
                    days_since_onset: k.days_since_onset,
                    transmission_risk_level: k.transmission_risk_level.unwrap_or_default(),
                };
                assert!(pool.contains(&shape));
            }
            // Fakes come from the whole pool, not only from the batch's one real key.
            assert!(
                keys.iter()
                    .filter(|k| k.transmission_risk_level == Some(5))
                    .count()
                    > 10
            );
        }
        assert!(sizes.len() > 1, "{sizes:?}");
        assert!(padded_export_keys(&[], &pool, 50, 20).unwrap().is_empty());
    }
}
