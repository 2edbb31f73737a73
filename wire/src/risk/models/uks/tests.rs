//! The smoother and the risk score against the values in the NHS libraries' own tests
//! (`nhsx/riskscore-kt-public` at 183c20ce6249b655a5d99755570be17cf316a3dd:
//! `kalman1d/src/test/kotlin/uk/nhs/kalman1d/UnscentedKalmanSmootherTest.kt` and
//! `riskscore/src/test/kotlin/uk/nhs/riskscore/RiskScoreCalculatorTest.kt`, `ExampleData.kt`), and the
//! gamma median against closed forms.

use super::*;

fn close(actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{actual} is not within {tolerance} of {expected}"
    );
}

#[test]
fn the_smoother_reproduces_the_nhs_python_reference() {
    // The library's "pythonSmoother": the NHS parameters with the observation variance rounded as there.
    let params = UksParams {
        observation_variance: 0.494_761_44,
        ..UksParams::NHS_2020
    };
    let input = [
        None,
        Some(4.17411483628451),
        Some(4.4031070780507395),
        Some(4.328546097488628),
        Some(4.2601062473100395),
        Some(4.220570477970699),
        Some(4.16624909786391),
        Some(4.201804139521874),
        Some(4.279699043501633),
        Some(4.265813830062009),
        Some(4.17482861142975),
        Some(4.240065076412635),
        Some(4.272051055120574),
        Some(4.15668386886749),
        Some(4.146032357856017),
    ];
    let smoothed_mean = [
        1.50730615, 2.61527532, 2.77742298, 2.77594196, 2.77440818, 2.77293444, 2.77158016,
        2.77042747, 2.76942968, 2.76846866, 2.76757112, 2.76687887, 2.76629608, 2.76577513,
        2.76550021,
    ];
    let smoothed_var = [
        8.92273898, 2.71790844, 2.2085437, 2.21234272, 2.21663732, 2.22136724, 2.22653173,
        2.23215186, 2.23828224, 2.24495561, 2.25214671, 2.25984783, 2.26810931, 2.27693734,
        2.28631914,
    ];
    let smoothed = params.smooth(&input);
    assert_eq!(smoothed.len(), input.len());
    for (i, (mean, var)) in smoothed.iter().enumerate() {
        close(*mean, smoothed_mean[i], 1e-6);
        close(*var, smoothed_var[i], 1e-6);
    }
    // The last smoothed step is the last filtered one: 2.76550021 and 2.28631914 in the reference.
}

#[test]
fn the_risk_score_matches_the_nhs_library_example() {
    // ExampleData.kt: (attenuation, seconds since the last scan); the library's answer is
    // 2.1528634510939413 minutes.
    let data = [
        (97.03021291, 201.06532745872457),
        (85.81504891, 225.75565160910116),
        (83.44136722, 279.3777909268962),
        (64.5678367, 215.4689826255009),
        (83.62187329, 211.07091989780974),
        (73.51912742, 228.45034015853247),
        (76.64553678, 183.48910595748023),
        (78.41303166, 263.05165262029305),
        (66.65088196, 189.9994479121982),
        (70.27063972, 190.48134624246617),
    ];
    let instances: Vec<WindowInstance> = data
        .iter()
        .map(|&(attenuation, seconds)| WindowInstance {
            seconds,
            typical_attenuation_db: attenuation,
            min_attenuation_db: attenuation,
        })
        .collect();
    close(
        UksParams::NHS_2020.weighted_minutes(&instances),
        2.152_863_451_093_941_3,
        1e-6,
    );
    assert_eq!(UksParams::NHS_2020.weighted_minutes(&[]), 0.0);
}

#[test]
fn a_close_steady_contact_weighs_more_than_a_far_one() {
    let steady = |attenuation: f64| {
        let instances: Vec<WindowInstance> = (0..7)
            .map(|_| WindowInstance {
                seconds: 300.0,
                typical_attenuation_db: attenuation,
                min_attenuation_db: attenuation,
            })
            .collect();
        UksParams::NHS_2020.weighted_minutes(&instances)
    };
    // 30 minutes of steps (6 gaps of 300 s, plus the first step). Between scans 5 minutes apart the
    // smoother's uncertainty grows, and the gamma median of an uncertain distance is well above its mean:
    // even a loud contact weighs far less than a minute per minute (about 4 of 30 here).
    let near = steady(55.0);
    let far = steady(90.0);
    assert!(near > 2.0 && near <= 30.02, "{near}");
    assert!(far < near / 2.0, "{far} against {near}");
    // Unusable attenuations (0 dB: ln is -inf) are gaps, not errors.
    assert!(steady(0.0).is_finite());
}

#[test]
fn fifteen_minutes_at_two_metres_set_the_threshold() {
    let at_2m = UksParams::NHS_2020.minutes_of_steady_contact(2.0, 15.0, 270.0);
    let at_1m = UksParams::NHS_2020.minutes_of_steady_contact(1.0, 15.0, 270.0);
    let at_4m = UksParams::NHS_2020.minutes_of_steady_contact(4.0, 15.0, 270.0);
    assert!(at_1m > at_2m && at_2m > at_4m, "{at_1m} {at_2m} {at_4m}");
    assert!(at_2m > 0.0 && at_2m < 15.0);
}

#[test]
fn the_gamma_median_matches_closed_forms() {
    // Gamma(1) is the exponential distribution: median ln 2. Gamma(1/2) is chi-square(1)/2.
    close(gamma_median(1.0), std::f64::consts::LN_2, 1e-9);
    close(gamma_median(0.5), 0.454_936_423_119_572_7 / 2.0, 1e-9);
    close(gamma_median(2.0), 1.678_346_990_016_661_6, 1e-9);
    // Large shapes: the median tends to shape - 1/3.
    close(gamma_median(400.0), 400.0 - 1.0 / 3.0, 1e-3);
    close(gamma_median(5e4), 5e4 - 1.0 / 3.0, 1e-2);
    close(gamma_median_distance(2.0, 0.0), 2.0, 0.0);
    assert!(gamma_median_distance(f64::NAN, 1.0) > 0.0);
}

#[test]
fn bad_parameters_are_refused() {
    UksParams::NHS_2020.check().unwrap();
    for bad in [
        UksParams {
            sample_resolution_s: 0.0,
            ..UksParams::NHS_2020
        },
        UksParams {
            observation_variance: f64::NAN,
            ..UksParams::NHS_2020
        },
        UksParams {
            intercept: 1e9,
            ..UksParams::NHS_2020
        },
        UksParams {
            sample_resolution_s: 600.0,
            ..UksParams::NHS_2020
        },
    ] {
        assert!(bad.check().is_err(), "{bad:?}");
    }
}
