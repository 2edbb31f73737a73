//! Printing results: aligned tables for people, JSON for scripts.

use std::io::Write;

use serde::Serialize;

use crate::error::CliError;

/// A table with a header row, printed with columns aligned and no borders (easy to read, and to cut
/// with `awk`).
pub struct Table(comfy_table::Table);

impl Table {
    /// A table with these column titles.
    pub fn new<const N: usize>(header: [&str; N]) -> Self {
        let mut table = comfy_table::Table::new();
        table
            .load_preset(comfy_table::presets::NOTHING)
            .set_header(header);
        // Two spaces between columns, none before the first.
        for column in table.column_iter_mut() {
            column.set_padding((0, 2));
        }
        Self(table)
    }

    /// Adds a row; it should have as many cells as the header.
    pub fn row(&mut self, cells: Vec<String>) {
        self.0.add_row(cells);
    }

    /// Writes the table to stdout.
    pub fn print(&self) -> Result<(), CliError> {
        let mut out = std::io::stdout().lock();
        for line in self.0.lines() {
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// A table row from values that print themselves: `cells![k.id, k.name, k.created]` is each one's
/// `Display` text, without a `.to_string()` or `.clone()` per column.
macro_rules! cells {
    ($($cell:expr),* $(,)?) => {
        vec![$($cell.to_string()),*]
    };
}
pub(crate) use cells;

/// Writes `value` to stdout as pretty JSON.
pub fn print_json<T: Serialize>(value: &T) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

/// The result of a command that says one thing: `value` as pretty JSON with `--json`, else `line` for
/// people.
pub fn print_json_or_line<T: Serialize>(
    json: bool,
    value: &T,
    line: std::fmt::Arguments<'_>,
) -> Result<(), CliError> {
    if json {
        return print_json(value);
    }
    writeln!(std::io::stdout(), "{line}")?;
    Ok(())
}
