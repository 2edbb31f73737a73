//! `openzone settings`, `profile add|list|remove`, `declare` and `declarations`: a family's profiles and
//! their daily health declarations in a store.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use openzone_core::declaration::{Answer, AnswerKind, Answers, DeclarationSchema, Question};
use openzone_core::phone::{Profile, StoredDeclaration};
use serde::Serialize;

use crate::error::CliError;
use crate::output::{cells, print_json, print_json_or_line, Table};
use crate::store::StoreArgs;

/// Arguments of `openzone settings`.
#[derive(Debug, Args)]
pub struct SettingsArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The phone number sent with visitor-log registrations.
    #[arg(long, value_name = "NUMBER")]
    phone: Option<String>,
    /// Download only the exports of these regions (province codes, e.g. 79) and the national ones;
    /// repeat for several. Replaces the regions chosen before.
    #[arg(long = "region", value_name = "CODE", conflicts_with = "all_regions")]
    regions: Vec<String>,
    /// Download every export again, of every region.
    #[arg(long)]
    all_regions: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// `openzone profile <add|list|remove>`.
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Add a person to this phone (a parent, a child).
    Add(ProfileAddArgs),
    /// List the profiles and whether each has declared today.
    List(ProfileListArgs),
    /// Remove a profile and its declarations.
    Remove(ProfileRemoveArgs),
}

/// Arguments of `openzone profile add`.
#[derive(Debug, Args)]
pub struct ProfileAddArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The name, as the school knows the person.
    #[arg(long)]
    name: String,
    /// The class (5A).
    #[arg(long)]
    class: Option<String>,
    /// The year of birth.
    #[arg(long, value_name = "YEAR")]
    born: Option<i32>,
}

/// Arguments of `openzone profile list`.
#[derive(Debug, Args)]
pub struct ProfileListArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Arguments of `openzone profile remove`.
#[derive(Debug, Args)]
pub struct ProfileRemoveArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The profile's name.
    #[arg(long)]
    name: String,
}

/// Arguments of `openzone declare`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("how").required(true).args(["answers", "all_clear", "interactive"])))]
pub struct DeclareArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The profile declaring.
    #[arg(long, value_name = "NAME")]
    profile: String,
    /// A JSON file of answers by question id (true/false, numbers, text).
    #[arg(long, value_name = "FILE")]
    answers: Option<PathBuf>,
    /// No symptoms and no exposure today (every yes/no question answered no).
    #[arg(long)]
    all_clear: bool,
    /// Ask each question on the terminal (Vietnamese and English); an empty answer skips it.
    #[arg(long)]
    interactive: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `openzone declarations`.
#[derive(Debug, Args)]
pub struct DeclarationsArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct ProfileJson {
    name: String,
    class: Option<String>,
    born: Option<i32>,
    declared_today: bool,
}

#[derive(Debug, Serialize)]
struct DeclarationJson {
    profile: String,
    day: String,
    time_ms: u64,
    result: &'static str,
    message: &'static str,
    reasons: Vec<String>,
    schema: String,
    answers: Answers,
}

impl DeclarationJson {
    fn of(d: StoredDeclaration) -> Self {
        Self {
            day: crate::date_of_day(d.day),
            result: d.result.as_str(),
            message: d.result.message(),
            profile: d.profile,
            time_ms: d.time_ms,
            reasons: d.reasons,
            schema: d.schema,
            answers: d.answers,
        }
    }
}

/// Runs `openzone settings`.
pub fn run_settings(args: SettingsArgs) -> Result<(), CliError> {
    let phone = args.store.phone(|_| {})?;
    if let Some(number) = args.phone.as_deref() {
        phone.set_phone_number(Some(number))?;
    }
    if args.all_regions || !args.regions.is_empty() {
        phone.set_regions(&args.regions)?;
    }
    let settings = phone.settings()?;
    if args.json {
        return print_json(&settings);
    }
    let mut out = std::io::stdout();
    writeln!(
        out,
        "phone: {}",
        settings.phone.as_deref().unwrap_or("(not set)")
    )?;
    if settings.regions.is_empty() {
        writeln!(out, "regions: all")?;
    } else {
        writeln!(out, "regions: {} and national", settings.regions.join(", "))?;
    }
    Ok(())
}

/// Runs `openzone profile ...`.
pub fn run_profile(cmd: ProfileCommand) -> Result<(), CliError> {
    match cmd {
        ProfileCommand::Add(args) => {
            let phone = args.store.phone(|_| {})?;
            let profile = phone.add_profile(Profile {
                name: args.name,
                class: args.class,
                born: args.born,
            })?;
            writeln!(std::io::stdout(), "added {}", profile.name)?;
            Ok(())
        }
        ProfileCommand::List(args) => {
            let phone = args.store.phone(|_| {})?;
            let profiles = phone
                .profiles()?
                .into_iter()
                .map(|p| {
                    Ok(ProfileJson {
                        declared_today: !phone.declaration_missing_today(&p.name)?,
                        name: p.name,
                        class: p.class,
                        born: p.born,
                    })
                })
                .collect::<Result<Vec<_>, CliError>>()?;
            if args.json {
                return print_json(&profiles);
            }
            let mut table = Table::new(["name", "class", "born", "declared today"]);
            for p in profiles {
                table.row(cells![
                    p.name,
                    p.class.unwrap_or_default(),
                    p.born.map(|y| y.to_string()).unwrap_or_default(),
                    if p.declared_today { "yes" } else { "no" },
                ]);
            }
            table.print()
        }
        ProfileCommand::Remove(args) => {
            let phone = args.store.phone(|_| {})?;
            phone.remove_profile(&args.name)?;
            writeln!(std::io::stdout(), "removed {}", args.name)?;
            Ok(())
        }
    }
}

/// Runs `openzone declare`.
pub fn run_declare(args: DeclareArgs) -> Result<(), CliError> {
    let phone = args.store.phone(|_| {})?;
    let declaration = if args.all_clear {
        phone.declare_all_clear(&args.profile)?
    } else if let Some(path) = &args.answers {
        let json = std::fs::read(path).map_err(|source| CliError::Io {
            path: path.clone(),
            source,
        })?;
        phone.declare(&args.profile, &Answers::from_json(&json)?)?
    } else {
        phone.profile(&args.profile)?;
        let answers = ask(&phone.declaration_schema())?;
        phone.declare(&args.profile, &answers)?
    };
    let out = DeclarationJson::of(declaration);
    print_json_or_line(
        args.json,
        &out,
        format_args!("{} ({}): {}", out.profile, out.day, out.message),
    )
}

/// Asks each question on stderr (stdout stays for the result) and reads the answers from stdin, one line
/// each.
fn ask(schema: &DeclarationSchema) -> Result<Answers, CliError> {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut out = std::io::stderr().lock();
    let mut answers = Answers::default();
    writeln!(out, "{} / {}", schema.title.vi, schema.title.en)?;
    for q in &schema.questions {
        write!(out, "{} / {}{}: ", q.label.vi, q.label.en, hint(q))?;
        out.flush()?;
        let Some(line) = lines.next().transpose()? else {
            break;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        answers.0.insert(q.id.clone(), parse_answer(q, line));
    }
    Ok(answers)
}

fn hint(q: &Question) -> String {
    match &q.answer {
        AnswerKind::YesNo { .. } => " [c/k, y/n]".into(),
        AnswerKind::Choice { options } => {
            let ids: Vec<&str> = options.iter().map(|o| o.id.as_str()).collect();
            format!(" [{}]", ids.join("/"))
        }
        AnswerKind::Number { unit, .. } => format!(" ({unit})"),
        AnswerKind::Date { .. } => " (YYYY-MM-DD)".into(),
        _ => String::new(),
    }
}

/// A typed line as an answer; what does not fit the type is passed on as text, for the core to refuse
/// with its per-field message.
fn parse_answer(q: &Question, line: &str) -> Answer {
    match &q.answer {
        AnswerKind::YesNo { .. } => match line.to_lowercase().as_str() {
            "y" | "yes" | "c" | "có" | "co" => Answer::YesNo(true),
            "n" | "no" | "k" | "không" | "khong" => Answer::YesNo(false),
            _ => Answer::Text(line.into()),
        },
        AnswerKind::Year { .. } | AnswerKind::Number { .. } => line
            .replace(',', ".")
            .parse::<f64>()
            .map_or_else(|_| Answer::Text(line.into()), Answer::Number),
        _ => Answer::Text(line.into()),
    }
}

/// Runs `openzone declarations`.
pub fn run_declarations(args: DeclarationsArgs) -> Result<(), CliError> {
    let phone = args.store.phone(|_| {})?;
    let all: Vec<DeclarationJson> = phone
        .declarations()?
        .into_iter()
        .map(DeclarationJson::of)
        .collect();
    if args.json {
        return print_json(&all);
    }
    let mut table = Table::new(["day", "profile", "result", "because of"]);
    for d in all {
        table.row(cells![d.day, d.profile, d.result, d.reasons.join(", ")]);
    }
    table.print()
}
