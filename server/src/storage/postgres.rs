//! The PostgreSQL backend, for replicas that share one database. Records are rows of `records` (kind,
//! key, value), counters rows of `counters`; the schema comes from `server/migrations`, applied at
//! connection by sqlx's migrator, which holds a PostgreSQL advisory lock while it runs, so replicas
//! starting at once apply each migration once.
//!
//! A [`Change`] commits in one transaction at READ COMMITTED: the rows it expects are locked
//! (`SELECT ... FOR UPDATE`, in key order) and compared with what was read; rows it expects absent and
//! writes are inserted with `ON CONFLICT DO NOTHING`, and a row another transaction inserted meanwhile
//! makes it a conflict. Counters are added to in place (`value = value + n`), so concurrent uploads
//! wait a moment for each other's counter rows instead of conflicting. A deadlock PostgreSQL breaks is
//! a conflict too: the caller reads again. An absence that a change checks without writing the key is
//! not protected against a concurrent insert; every change writes the keys it expects absent.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Row as _};

use super::{Backend, Change, Committed, Keys, Row, Table, Write};
use crate::error::{Result, ServerError};

/// The schema, embedded from `server/migrations` at build time (no database needed to build).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connections one replica keeps. PostgreSQL allows 100 by default: ten replicas fit with room for
/// administration.
const POOL_SIZE: u32 = 8;

/// How long a request waits for a free connection before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// SQLSTATEs that mean "another transaction got there first; try again": serialization failure,
/// deadlock detected, unique violation.
const CONFLICT_STATES: [&str; 3] = ["40001", "40P01", "23505"];

/// A pool of connections to one database.
pub(crate) struct Postgres {
    pool: PgPool,
}

impl Postgres {
    pub async fn connect(url: &str) -> Result<Self> {
        let shown = redacted(url);
        let options: PgConnectOptions = url.parse().map_err(|e| {
            ServerError::Config(format!("{shown} is not a PostgreSQL address ({e}); use postgres://USER:PASSWORD@HOST:PORT/DATABASE"))
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| {
                ServerError::Database(format!(
                    "cannot connect to PostgreSQL at {shown} ({e}); is it running and does it accept this user?"
                ))
            })?;
        MIGRATOR.run(&pool).await.map_err(|e| {
            ServerError::Database(format!(
                "cannot bring the database at {shown} up to date ({e}); was it made by a newer version?"
            ))
        })?;
        Ok(Self { pool })
    }

    async fn commit_now(&self, change: Change) -> Result<Committed> {
        let mut tx = self.pool.begin().await.map_err(database)?;
        let applied = apply(&mut tx, &change).await;
        match applied {
            Ok(true) => {
                tx.commit().await.map_err(database)?;
                Ok(Committed::Yes)
            }
            Ok(false) => {
                tx.rollback().await.map_err(database)?;
                Ok(Committed::Conflict)
            }
            Err(e) if is_conflict(&e) => {
                // Dropping the transaction rolls it back.
                Ok(Committed::Conflict)
            }
            Err(e) => Err(database(e)),
        }
    }
}

/// Keys and values of rows to write, as two arrays for `UNNEST`.
type Columns<'a> = (Vec<&'a [u8]>, Vec<&'a [u8]>);

/// Checks and applies `change` inside a transaction; `false` if a value it expects has changed.
async fn apply(tx: &mut PgConnection, change: &Change) -> std::result::Result<bool, sqlx::Error> {
    // Expected values by table and key: rows are locked in one order everywhere.
    let mut expected: BTreeMap<Table, BTreeMap<&[u8], Option<&[u8]>>> = BTreeMap::new();
    for (table, key, value) in &change.expected {
        expected
            .entry(*table)
            .or_default()
            .insert(key.as_slice(), value.as_deref());
    }
    let mut absent: HashSet<(Table, &[u8])> = HashSet::new();
    for (table, wanted) in &expected {
        let keys: Vec<&[u8]> = wanted.keys().copied().collect();
        let rows = sqlx::query(
            "SELECT key, value FROM records WHERE kind = $1 AND key = ANY($2) ORDER BY key FOR UPDATE",
        )
        .bind(table.0)
        .bind(&keys)
        .fetch_all(&mut *tx)
        .await?;
        let mut found: HashMap<Vec<u8>, Vec<u8>> = HashMap::with_capacity(rows.len());
        for row in rows {
            found.insert(row.try_get(0)?, row.try_get(1)?);
        }
        for (key, value) in wanted {
            if found.get(*key).map(Vec::as_slice) != *value {
                return Ok(false);
            }
            if value.is_none() {
                absent.insert((*table, key));
            }
        }
    }
    // The last write of each record wins, as in a sequence of writes.
    let mut last: BTreeMap<(Table, &[u8]), Option<&[u8]>> = BTreeMap::new();
    let mut counters: BTreeMap<&str, u64> = BTreeMap::new();
    for write in &change.writes {
        match write {
            Write::Put(table, key, value) => {
                last.insert((*table, key), Some(value));
            }
            Write::Remove(table, key) => {
                last.insert((*table, key), None);
            }
            Write::Add(name, n) => *counters.entry(name).or_default() += n,
        }
    }
    let mut removes: BTreeMap<Table, Vec<&[u8]>> = BTreeMap::new();
    let mut inserts: BTreeMap<Table, Columns> = BTreeMap::new();
    let mut upserts: BTreeMap<Table, Columns> = BTreeMap::new();
    for ((table, key), value) in last {
        match value {
            None => removes.entry(table).or_default().push(key),
            Some(value) => {
                let into = if absent.contains(&(table, key)) {
                    &mut inserts
                } else {
                    &mut upserts
                };
                let (keys, values) = into.entry(table).or_default();
                keys.push(key);
                values.push(value);
            }
        }
    }
    for (table, keys) in removes {
        sqlx::query("DELETE FROM records WHERE kind = $1 AND key = ANY($2)")
            .bind(table.0)
            .bind(&keys)
            .execute(&mut *tx)
            .await?;
    }
    for (table, (keys, values)) in inserts {
        let done = sqlx::query(
            "INSERT INTO records (kind, key, value) SELECT $1, k, v FROM UNNEST($2::bytea[], $3::bytea[]) AS t(k, v) \
             ON CONFLICT (kind, key) DO NOTHING",
        )
        .bind(table.0)
        .bind(&keys)
        .bind(&values)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != keys.len() as u64 {
            return Ok(false);
        }
    }
    for (table, (keys, values)) in upserts {
        sqlx::query(
            "INSERT INTO records (kind, key, value) SELECT $1, k, v FROM UNNEST($2::bytea[], $3::bytea[]) AS t(k, v) \
             ON CONFLICT (kind, key) DO UPDATE SET value = EXCLUDED.value",
        )
        .bind(table.0)
        .bind(&keys)
        .bind(&values)
        .execute(&mut *tx)
        .await?;
    }
    for (name, n) in counters {
        sqlx::query(
            "INSERT INTO counters (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = counters.value + EXCLUDED.value",
        )
        .bind(name)
        .bind(i64::try_from(n).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
    }
    Ok(true)
}

fn is_conflict(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| CONFLICT_STATES.contains(&code.as_ref()))
}

fn database(e: sqlx::Error) -> ServerError {
    ServerError::Database(format!("PostgreSQL: {e}"))
}

/// `url` without its password, for messages and logs.
pub(crate) fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "the --database address".into(),
    }
}

impl Backend for Postgres {
    fn get<'a>(&'a self, table: Table, key: &'a [u8]) -> BoxFuture<'a, Result<Option<Vec<u8>>>> {
        async move {
            sqlx::query_scalar("SELECT value FROM records WHERE kind = $1 AND key = $2")
                .bind(table.0)
                .bind(key)
                .fetch_optional(&self.pool)
                .await
                .map_err(database)
        }
        .boxed()
    }

    fn scan<'a>(&'a self, table: Table, keys: Keys<'a>) -> BoxFuture<'a, Result<Vec<Row>>> {
        async move {
            let query = match keys {
                None => sqlx::query_as::<_, Row>(
                    "SELECT key, value FROM records WHERE kind = $1 ORDER BY key",
                )
                .bind(table.0),
                Some(keys) => sqlx::query_as(
                    "SELECT key, value FROM records WHERE kind = $1 AND key >= $2 AND key < $3 ORDER BY key",
                )
                .bind(table.0)
                .bind(keys.start)
                .bind(keys.end),
            };
            query.fetch_all(&self.pool).await.map_err(database)
        }
        .boxed()
    }

    fn count(&self, table: Table) -> BoxFuture<'_, Result<u64>> {
        async move {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM records WHERE kind = $1")
                .bind(table.0)
                .fetch_one(&self.pool)
                .await
                .map_err(database)?;
            Ok(n.max(0) as u64)
        }
        .boxed()
    }

    fn counter<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<u64>> {
        async move {
            let n: Option<i64> = sqlx::query_scalar("SELECT value FROM counters WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(database)?;
            Ok(n.unwrap_or(0).max(0) as u64)
        }
        .boxed()
    }

    fn commit(&self, change: Change) -> BoxFuture<'_, Result<Committed>> {
        self.commit_now(change).boxed()
    }

    fn next_id(&self) -> BoxFuture<'_, Result<u64>> {
        async move {
            let n: i64 = sqlx::query_scalar("SELECT nextval('record_ids')")
                .fetch_one(&self.pool)
                .await
                .map_err(database)?;
            Ok(n.max(0) as u64)
        }
        .boxed()
    }

    fn flush(&self) -> BoxFuture<'_, Result<()>> {
        // A commit is durable when PostgreSQL acknowledges it.
        async { Ok(()) }.boxed()
    }

    fn shared(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            redacted("postgres://oz:secret@db.example.vn:5432/openzone"),
            "postgres://oz:***@db.example.vn:5432/openzone"
        );
        assert_eq!(redacted("not a url"), "the --database address");
    }
}
