//! The metrics on hand-made cases.

use super::*;

fn point(score: f64, near: bool, cluster: usize, at_risk: bool) -> Scored {
    Scored {
        score,
        at_risk,
        near,
        cluster,
    }
}

#[test]
fn auc_counts_ordered_pairs_and_half_ties() {
    // Near 3, 2; far 1, 2: pairs (3>1) (3>2) (2>1) and one tie (2=2): 3.5 of 4.
    let points = [(3.0, true), (2.0, true), (1.0, false), (2.0, false)];
    assert_eq!(auc(&points), Some(0.875));
    assert_eq!(auc(&[(1.0, true), (0.0, false)]), Some(1.0));
    assert_eq!(auc(&[(0.0, true), (1.0, false)]), Some(0.0));
    assert_eq!(auc(&[(5.0, true), (5.0, false)]), Some(0.5));
    assert_eq!(auc(&[(1.0, true)]), None);
    assert_eq!(auc(&[]), None);
}

#[test]
fn the_roc_curve_runs_from_corner_to_corner_through_each_threshold() {
    let curve = roc(&[(3.0, true), (2.0, false), (1.0, true)]);
    assert_eq!(curve, vec![(0.0, 0.0), (0.0, 0.5), (1.0, 0.5), (1.0, 1.0)]);
}

#[test]
fn precision_recall_and_f1_by_hand() {
    // 2 TP, 1 FP, 1 FN, 1 TN.
    let points = [
        point(0.0, true, 0, true),
        point(0.0, true, 1, true),
        point(0.0, false, 2, true),
        point(0.0, true, 3, false),
        point(0.0, false, 4, false),
    ];
    let d = decision(&points);
    assert!((d.precision - 2.0 / 3.0).abs() < 1e-12);
    assert!((d.recall - 2.0 / 3.0).abs() < 1e-12);
    assert!((d.f1 - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(d.false_positive_rate, 0.5);
    // At one near in five: TP 2/3 · 0.2, FP 0.5 · 0.8: precision 0.1333 / 0.5333 = 0.25.
    assert!((d.precision_at(0.2) - 0.25).abs() < 1e-12);
    let p = 0.25;
    let r = 2.0 / 3.0;
    assert!((d.reference_f1() - 2.0 * p * r / (p + r)).abs() < 1e-12);
    // Nobody notified: precision and F1 are 0, not NaN.
    let none = decision(&[point(0.0, true, 0, false)]);
    assert_eq!((none.precision, none.recall, none.f1), (0.0, 0.0, 0.0));
}

#[test]
fn the_bootstrap_is_deterministic_resamples_clusters_and_brackets_the_estimate() {
    // Two near clusters, two far; contacts of a cluster share their score.
    let mut points = Vec::new();
    for (cluster, (score, near)) in [(4.0, true), (2.5, true), (3.0, false), (1.0, false)]
        .into_iter()
        .enumerate()
    {
        for _ in 0..5 {
            points.push(point(score, near, cluster, score > 2.0));
        }
    }
    let s = summarise(&points, 500, 9);
    assert_eq!(s, summarise(&points, 500, 9));
    assert_eq!((s.near, s.far, s.clusters), (10, 10, 4));
    let a = s.auc.unwrap();
    assert_eq!(a.value, 0.75);
    assert!(a.low <= a.value && a.value <= a.high);
    // Resampling whole clusters: the only AUCs possible are those of cluster combinations (0.5, 0.75,
    // 1, ...), never what resampling single contacts would give.
    assert!([0.0, 0.25, 0.5, 0.75, 1.0].contains(&a.low), "{}", a.low);
    assert!([0.0, 0.25, 0.5, 0.75, 1.0].contains(&a.high), "{}", a.high);
    assert_eq!(s.recall.value, 1.0);
    assert_eq!(s.precision.value, 2.0 / 3.0);
    // Another seed, other replicates; the estimate stays.
    assert_eq!(summarise(&points, 500, 10).auc.unwrap().value, 0.75);
}

#[test]
fn leave_one_dataset_out_holds_out_each_dataset_once() {
    assert_eq!(
        lodo_folds(3),
        vec![(0, vec![1, 2]), (1, vec![0, 2]), (2, vec![0, 1])]
    );
    assert_eq!(lodo_folds(1), vec![(0, vec![])]);
}
