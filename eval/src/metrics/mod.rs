//! The numbers: ROC AUC, precision, recall and F1, bootstrap intervals over independent clusters, and the
//! leave-one-dataset-out split.

use openzone_core::seeded::SplitMix64;
use serde::Serialize;

/// One scored contact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// The day's score (weighted minutes; 0 when nothing counted).
    pub score: f64,
    /// Whether the configuration put the day at risk.
    pub at_risk: bool,
    /// Within 2 m (the truth).
    pub near: bool,
    /// Which cluster it belongs to (index into the caller's list of clusters).
    pub cluster: usize,
}

/// ROC AUC of `score` for "near": the chance that a random near contact scores above a random far one,
/// ties counting half (the Mann-Whitney statistic). `None` without both classes.
pub fn auc(points: &[(f64, bool)]) -> Option<f64> {
    let sorted = sorted_by_score(points, false);
    let near = sorted.iter().filter(|p| p.1).count() as f64;
    let far = sorted.len() as f64 - near;
    if near == 0.0 || far == 0.0 {
        return None;
    }
    let rank_sum: f64 = tie_groups(&sorted)
        .map(|(i, j)| (i + 1 + j) as f64 / 2.0 * sorted[i..j].iter().filter(|p| p.1).count() as f64)
        .sum();
    Some((rank_sum - near * (near + 1.0) / 2.0) / (near * far))
}

/// The points sorted by score, ascending or descending.
fn sorted_by_score(points: &[(f64, bool)], descending: bool) -> Vec<(f64, bool)> {
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| {
        let order = a.0.total_cmp(&b.0);
        if descending {
            order.reverse()
        } else {
            order
        }
    });
    sorted
}

/// The index ranges `[i, j)` of equal scores in sorted points.
fn tie_groups(sorted: &[(f64, bool)]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let first = sorted.get(i)?;
        let j = i + sorted[i..].iter().take_while(|p| p.0 == first.0).count();
        let group = (i, j);
        i = j;
        Some(group)
    })
}

/// The ROC curve: (false positive rate, true positive rate) at every threshold, from (0, 0) to (1, 1).
pub fn roc(points: &[(f64, bool)]) -> Vec<(f64, f64)> {
    let sorted = sorted_by_score(points, true);
    let near_count = sorted.iter().filter(|p| p.1).count() as f64;
    let near = near_count.max(1.0);
    let far = (sorted.len() as f64 - near_count).max(1.0);
    let mut out = vec![(0.0, 0.0)];
    let (mut tp, mut fp) = (0.0, 0.0);
    for (i, j) in tie_groups(&sorted) {
        let group_near = sorted[i..j].iter().filter(|p| p.1).count() as f64;
        tp += group_near;
        fp += (j - i) as f64 - group_near;
        out.push((fp / far, tp / near));
    }
    out
}

/// The share of near contacts at which [`Decision::reference_f1`] is computed: one in five, the share of
/// classmates within 2 m of a student (the bench neighbour and the nearest students in front and behind, of
/// some 30 in a classroom of benches 1.2 m apart), where the sweeps' own share (64-79 % near) is set by the
/// distances the experimenters chose.
pub const REFERENCE_NEAR_SHARE: f64 = 0.2;

/// Precision, recall and F1 of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Decision {
    /// Notified and near / notified; 0 when nobody was notified.
    pub precision: f64,
    /// Notified and near / near.
    pub recall: f64,
    /// Their harmonic mean; 0 when both are 0.
    pub f1: f64,
    /// Notified and far / far.
    pub false_positive_rate: f64,
}

impl Decision {
    /// Precision if near contacts made up `share` of all, from the recall and the false positive rate
    /// (which do not depend on the share).
    pub fn precision_at(&self, share: f64) -> f64 {
        let tp = self.recall * share;
        let fp = self.false_positive_rate * (1.0 - share);
        if tp + fp > 0.0 {
            tp / (tp + fp)
        } else {
            0.0
        }
    }

    /// F1 if near contacts made up [`REFERENCE_NEAR_SHARE`] of all.
    pub fn reference_f1(&self) -> f64 {
        let p = self.precision_at(REFERENCE_NEAR_SHARE);
        if p + self.recall > 0.0 {
            2.0 * p * self.recall / (p + self.recall)
        } else {
            0.0
        }
    }
}

/// The decision's precision, recall and F1 (`at_risk` against `near`).
pub fn decision(points: &[Scored]) -> Decision {
    let tp = points.iter().filter(|p| p.at_risk && p.near).count() as f64;
    let fp = points.iter().filter(|p| p.at_risk && !p.near).count() as f64;
    let fn_ = points.iter().filter(|p| !p.at_risk && p.near).count() as f64;
    let tn = points.iter().filter(|p| !p.at_risk && !p.near).count() as f64;
    let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
    let recall = if tp + fn_ > 0.0 { tp / (tp + fn_) } else { 0.0 };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    Decision {
        precision,
        recall,
        f1,
        false_positive_rate: if fp + tn > 0.0 { fp / (fp + tn) } else { 0.0 },
    }
}

/// A point estimate with its 95 % bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// On all the data.
    pub value: f64,
    /// 2.5th percentile of the bootstrap replicates.
    pub low: f64,
    /// 97.5th percentile.
    pub high: f64,
}

/// AUC, precision, recall and F1 of scored contacts, each with its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// Contacts within 2 m.
    pub near: usize,
    /// Contacts beyond 2 m.
    pub far: usize,
    /// Independent clusters (sessions and distances).
    pub clusters: usize,
    /// ROC AUC of the day's score; `None` without both classes.
    pub auc: Option<Estimate>,
    /// Precision at the configuration's threshold.
    pub precision: Estimate,
    /// Recall at the configuration's threshold.
    pub recall: Estimate,
    /// F1 at the configuration's threshold.
    pub f1: Estimate,
    /// False positive rate at the threshold.
    pub false_positive_rate: Estimate,
    /// F1 at the threshold had near contacts been [`REFERENCE_NEAR_SHARE`] of all.
    pub reference_f1: Estimate,
}

/// The summary, with 95 % intervals from `replicates` bootstrap resamples of whole clusters, near and far
/// clusters resampled separately (every cluster holds one class) so that each replicate has both. Contacts
/// of one cluster share a session, a posture and a distance: resampling contacts instead would make the
/// intervals far too narrow. Deterministic for a seed.
pub fn summarise(points: &[Scored], replicates: usize, seed: u64) -> Summary {
    let clusters = clusters_of(points);
    let (near_clusters, far_clusters): (Vec<&Vec<usize>>, Vec<&Vec<usize>>) = clusters
        .iter()
        .filter(|c| !c.is_empty())
        .partition(|c| points[c[0]].near);
    let stats = |sample: &[Scored]| {
        let pairs: Vec<(f64, bool)> = sample.iter().map(|p| (p.score, p.near)).collect();
        (auc(&pairs), decision(sample))
    };
    let (auc_all, decision_all) = stats(points);
    let mut rng = SplitMix64::new(seed);
    let mut draws: [Vec<f64>; 6] = Default::default();
    let mut sample = Vec::with_capacity(points.len());
    for _ in 0..replicates {
        sample.clear();
        for set in [&near_clusters, &far_clusters] {
            for _ in 0..set.len() {
                let c = set[rng.between(0, set.len() as u64 - 1) as usize];
                sample.extend(c.iter().map(|&i| points[i]));
            }
        }
        let (a, d) = stats(&sample);
        if let Some(a) = a {
            draws[0].push(a);
        }
        draws[1].push(d.precision);
        draws[2].push(d.recall);
        draws[3].push(d.f1);
        draws[4].push(d.false_positive_rate);
        draws[5].push(d.reference_f1());
    }
    let estimate = |value: f64, draws: &mut Vec<f64>| {
        draws.sort_by(f64::total_cmp);
        let at = |q: f64| {
            draws
                .get(((draws.len().max(1) - 1) as f64 * q).round() as usize)
                .copied()
                .unwrap_or(value)
        };
        Estimate {
            value,
            low: at(0.025),
            high: at(0.975),
        }
    };
    let [a, p, r, f, fpr, rf] = &mut draws;
    Summary {
        near: points.iter().filter(|p| p.near).count(),
        far: points.iter().filter(|p| !p.near).count(),
        clusters: near_clusters.len() + far_clusters.len(),
        auc: auc_all.map(|v| estimate(v, a)),
        precision: estimate(decision_all.precision, p),
        recall: estimate(decision_all.recall, r),
        f1: estimate(decision_all.f1, f),
        false_positive_rate: estimate(decision_all.false_positive_rate, fpr),
        reference_f1: estimate(decision_all.reference_f1(), rf),
    }
}

/// Indices of the points of each cluster, by cluster number.
fn clusters_of(points: &[Scored]) -> Vec<Vec<usize>> {
    let n = points.iter().map(|p| p.cluster + 1).max().unwrap_or(0);
    let mut out = vec![Vec::new(); n];
    for (i, p) in points.iter().enumerate() {
        out[p.cluster].push(i);
    }
    out
}

/// The leave-one-dataset-out folds of `n` datasets: for each, the held-out dataset and the others.
pub fn lodo_folds(n: usize) -> Vec<(usize, Vec<usize>)> {
    (0..n)
        .map(|held_out| (held_out, (0..n).filter(|d| *d != held_out).collect()))
        .collect()
}

#[cfg(test)]
mod tests;
