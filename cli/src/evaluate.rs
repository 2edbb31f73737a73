//! `openzone evaluate`: how well each risk configuration tells 15-minute contacts within 2 m from farther
//! ones on real recordings (and the simulation's radio), replayed through the real store, export and
//! matching; the leave-one-dataset-out choice of the default.

use std::path::PathBuf;

use clap::Args;
use openzone_eval::datasets::{self, simulated};
use openzone_eval::evaluate::{self, Options};
use openzone_eval::report;
use openzone_sim::radio::RadioParams;

use crate::error::CliError;
use crate::export::read;
use crate::output::print_json;

/// Arguments of `openzone evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Dataset folders (a campaign's folder, or a folder holding several), or `simulated` for the
    /// simulation's radio model on pc-ng's design.
    #[arg(value_name = "DATASET", required = true)]
    datasets: Vec<String>,
    /// The simulated radio's parameters (JSON, as the scenario's `radio`); default: the simulation's.
    #[arg(long, value_name = "FILE")]
    radio: Option<PathBuf>,
    /// Contacts built per recording segment (scan phases and windows drawn anew).
    #[arg(long, default_value_t = 10)]
    replicates: usize,
    /// Bootstrap replicates for the 95 % intervals.
    #[arg(long, default_value_t = 1_000)]
    bootstrap: usize,
    /// Seed of everything random.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Also write the tables (report.md) and ROC curves (roc-<dataset>.svg) into this folder.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
}

/// Runs `openzone evaluate`.
pub fn run(args: EvaluateArgs) -> Result<(), CliError> {
    if args.replicates == 0 || args.replicates > 1_000 || args.bootstrap > 100_000 {
        return Err(CliError::Usage(
            "--replicates is 1 to 1000 and --bootstrap at most 100000".into(),
        ));
    }
    let options = Options {
        replicates: args.replicates,
        bootstrap: args.bootstrap,
        seed: args.seed,
        ..Options::default()
    };
    let radio = match &args.radio {
        Some(path) => serde_json::from_slice::<RadioParams>(&read(path)?).map_err(|e| {
            CliError::Usage(format!("{}: not radio parameters: {e}", path.display()))
        })?,
        None => RadioParams::default(),
    };
    let mut loaded = Vec::new();
    for spec in &args.datasets {
        if spec == "simulated" {
            loaded.push(simulated::generate(&radio, args.seed)?);
        } else {
            loaded.extend(datasets::load(std::path::Path::new(spec))?);
        }
    }
    let replayed = loaded
        .iter()
        .map(|d| evaluate::prepare(d, &options))
        .collect::<Result<Vec<_>, _>>()?;
    let evaluation = evaluate::evaluate(&replayed, &options);
    let markdown = format!(
        "### Data\n\n{}\n### Candidates per dataset\n\n{}\n### Leave one dataset out\n\n{}",
        report::datasets_markdown(&replayed),
        report::candidates_markdown(&evaluation),
        report::lodo_markdown(&evaluation)
    );
    if let Some(dir) = &args.report {
        report::write_roc_plots(&evaluation, dir)?;
        let path = dir.join("report.md");
        std::fs::write(&path, &markdown).map_err(|source| CliError::Io { path, source })?;
    }
    if args.json {
        return print_json(&evaluation);
    }
    print!("{markdown}");
    Ok(())
}
