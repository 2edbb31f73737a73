//! The embedded backend: sled in the data directory, for one process (sled locks its directory). A
//! [`Change`] commits as one sled transaction over the trees it touches, which re-reads the values the
//! change expects; sled's transactions are serialisable, so a value that changed since is a conflict.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use futures::future::BoxFuture;
use futures::FutureExt as _;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional as _;

use super::{decode_u64, Backend, Change, Committed, Keys, Row, Table, Write, META, TABLES};
use crate::error::{Result, ServerError};

/// sled and its trees.
pub(crate) struct Embedded {
    db: sled::Db,
    trees: HashMap<Table, sled::Tree>,
}

impl Embedded {
    pub fn open(dir: &Path) -> Result<Self> {
        let config = sled::Config::new().path(dir).cache_capacity(64 << 20);
        // sled 0.34 panics instead of failing on some damaged files (seen with damaged segment
        // headers); a damaged database must be a clear error, as in the phone's store.
        let db = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open())) {
            Ok(Ok(db)) => db,
            Ok(Err(e)) => {
                return Err(ServerError::Database(format!(
                    "cannot open the database in {} ({e}); is another server using it?",
                    dir.display()
                )))
            }
            Err(_) => {
                return Err(ServerError::Database(format!(
                    "the database files in {} are damaged and could not be read; restore them from a backup",
                    dir.display()
                )))
            }
        };
        let mut trees = HashMap::new();
        for &table in TABLES {
            trees.insert(table, db.open_tree(table.0)?);
        }
        let embedded = Self { db, trees };
        embedded.forget_clear_codes()?;
        Ok(embedded)
    }

    fn tree(&self, table: Table) -> Result<sled::Tree> {
        match self.trees.get(&table) {
            Some(tree) => Ok(tree.clone()),
            // A kind of record added without being listed in TABLES.
            None => Ok(self.db.open_tree(table.0)?),
        }
    }

    /// Servers before codes were stored as HMACs keyed them by their 8 digits; those records (valid 24
    /// hours at most) are deleted rather than kept in clear.
    fn forget_clear_codes(&self) -> Result<()> {
        let codes = self.tree(super::CODES)?;
        let mut n = 0;
        for key in codes.iter().keys() {
            let key = key?;
            if key.len() != 32 {
                codes.remove(key)?;
                n += 1;
            }
        }
        if n > 0 {
            tracing::info!(
                codes = n,
                "deleted codes stored in clear by an earlier version"
            );
        }
        Ok(())
    }

    fn commit_now(&self, change: &Change) -> Result<Committed> {
        let mut names: BTreeSet<Table> = change.expected.iter().map(|(t, _, _)| *t).collect();
        for write in &change.writes {
            names.insert(match write {
                Write::Put(t, _, _) | Write::Remove(t, _) => *t,
                Write::Add(_, _) => META,
            });
        }
        let names: Vec<Table> = names.into_iter().collect();
        let trees: Vec<sled::Tree> = names.iter().map(|t| self.tree(*t)).collect::<Result<_>>()?;
        let at = |t: &Table| names.iter().position(|n| n == t).unwrap_or_default();
        let result = trees.as_slice().transaction(|view| {
            for (table, key, value) in &change.expected {
                let now = view[at(table)].get(key)?;
                if now.as_deref() != value.as_deref() {
                    return Err(ConflictableTransactionError::Abort(()));
                }
            }
            for write in &change.writes {
                match write {
                    Write::Put(t, key, value) => {
                        view[at(t)].insert(key.as_slice(), value.as_slice())?;
                    }
                    Write::Remove(t, key) => {
                        view[at(t)].remove(key.as_slice())?;
                    }
                    Write::Add(name, n) => {
                        let meta = &view[at(&META)];
                        let old = meta.get(name)?.map_or(0, |v| decode_u64(&v));
                        meta.insert(*name, &(old + n).to_be_bytes())?;
                    }
                }
            }
            Ok(())
        });
        match result {
            Ok(()) => Ok(Committed::Yes),
            Err(TransactionError::Abort(())) => Ok(Committed::Conflict),
            Err(TransactionError::Storage(e)) => Err(e.into()),
        }
    }
}

impl Backend for Embedded {
    fn get<'a>(&'a self, table: Table, key: &'a [u8]) -> BoxFuture<'a, Result<Option<Vec<u8>>>> {
        async move { Ok(self.tree(table)?.get(key)?.map(|v| v.to_vec())) }.boxed()
    }

    fn scan<'a>(&'a self, table: Table, keys: Keys<'a>) -> BoxFuture<'a, Result<Vec<Row>>> {
        async move {
            let tree = self.tree(table)?;
            let records = match keys {
                Some(keys) => tree.range(keys),
                None => tree.iter(),
            };
            records
                .map(|entry| {
                    let (k, v) = entry?;
                    Ok((k.to_vec(), v.to_vec()))
                })
                .collect()
        }
        .boxed()
    }

    fn count(&self, table: Table) -> BoxFuture<'_, Result<u64>> {
        async move { Ok(self.tree(table)?.len() as u64) }.boxed()
    }

    fn counter<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<u64>> {
        async move { Ok(self.tree(META)?.get(name)?.map_or(0, |v| decode_u64(&v))) }.boxed()
    }

    fn commit(&self, change: Change) -> BoxFuture<'_, Result<Committed>> {
        async move { self.commit_now(&change) }.boxed()
    }

    fn next_id(&self) -> BoxFuture<'_, Result<u64>> {
        async move { Ok(self.db.generate_id()?) }.boxed()
    }

    fn flush(&self) -> BoxFuture<'_, Result<()>> {
        async move {
            // sled's own flush_async can hang when many transactions run at once (seen under load); a
            // blocking flush on tokio's blocking pool does not, and concurrent flushes share sled's work.
            let db = self.db.clone();
            tokio::task::spawn_blocking(move || db.flush())
                .await
                .map_err(|e| ServerError::Database(format!("the flush task failed: {e}")))??;
            Ok(())
        }
        .boxed()
    }

    fn shared(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sled 0.34 panics while recovering from some damaged segment headers; opening must turn that into
    /// an error.
    #[test]
    fn damaged_segment_headers_are_an_error_never_a_panic() {
        let base = tempfile::tempdir().unwrap();
        {
            let storage = Embedded::open(base.path()).unwrap();
            let meta = storage.tree(META).unwrap();
            for i in 0..3_000u64 {
                meta.insert(i.to_be_bytes(), vec![(i % 250) as u8; 1_000])
                    .unwrap();
                if i % 500 == 0 {
                    storage.db.flush().unwrap();
                }
            }
            for i in 0..1_500u64 {
                meta.remove(i.to_be_bytes()).unwrap();
            }
            storage.db.flush().unwrap();
        }
        let bytes = std::fs::read(base.path().join("db")).unwrap();
        let conf = std::fs::read(base.path().join("conf")).unwrap();
        // sled's default segment size.
        let segment = 512 * 1024;
        let segments = bytes.len().div_ceil(segment);
        let mut rng = openzone_wire::seeded::SplitMix64::new(3);
        let mut errors = 0;
        for _ in 0..40 {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("conf"), &conf).unwrap();
            let mut damaged = bytes.clone();
            let at = rng.between(0, segments as u64 - 1) as usize * segment
                + rng.between(0, 39) as usize;
            if at < damaged.len() {
                damaged[at] ^= rng.between(1, 255) as u8;
            }
            std::fs::write(dir.path().join("db"), &damaged).unwrap();
            let opened = std::panic::catch_unwind(|| Embedded::open(dir.path()).map(|_| ()));
            match opened {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    assert!(matches!(e, ServerError::Database(_)), "{e}");
                    errors += 1;
                }
                Err(_) => panic!("opening a damaged database panicked"),
            }
        }
        assert!(errors > 0, "no damage was detected at all");
    }
}
