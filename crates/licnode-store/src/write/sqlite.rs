//! The write transaction on SQLite: multi-row `VALUES` inserts in chunks of bound parameters,
//! and the FTS5 name index kept beside the records table.

use std::collections::{HashMap, HashSet};

use sqlx::{QueryBuilder, Sqlite};

use super::transaction::{DocumentHead, NamedColumns, NewDocument, NewProjection};
use super::{
    CounterTx, ExistingRow, LoadedDocument, PreparedChange, ROWS_PER_STATEMENT, WriteTx, data_text,
};
use crate::StoreError;

/// A stored document as loaded for received changes (the columns of every backend's document
/// row), then the record's named columns: licence number, its bare form, credit code, status.
type LoadedRow = (
    String,
    i64,
    Vec<u8>,
    i64,
    i64,
    Option<String>,
    String,
    Option<Vec<u8>>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl WriteTx for sqlx::Transaction<'_, Sqlite> {
    const ROWS_PER_BATCH: usize = ROWS_PER_STATEMENT;

    /// SQLite has one writer connection: its transactions never overlap, so there is no lock
    /// to take.
    async fn lock_log(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Keys from the `record_key` counter: this transaction is the only writer.
    async fn new_keys(&mut self, count: usize) -> Result<Vec<i64>, StoreError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let first = self.take("record_key", count as i64).await?;
        Ok((first..first + count as i64).collect())
    }

    /// Inserts document and name-index rows.
    async fn insert_documents(&mut self, rows: &[NewDocument<'_>]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        // No bytes and `log_after` 0: the document is the record's changes in the log.
        let mut documents = QueryBuilder::<Sqlite>::new(
            "INSERT INTO documents (key, bytes, log_after, chunk_count, edit_state) ",
        );
        documents.push_values(rows, |mut row, document| {
            row.push_bind(document.key)
                .push("X''")
                .push("0")
                .push_bind(document.chunk_count)
                .push_bind(document.edit_state);
        });
        documents.build().execute(&mut **self).await?;

        let named: Vec<(i64, String)> = rows
            .iter()
            .filter_map(|document| {
                let grams = document.projection.grams();
                (!grams.is_empty()).then(|| (document.key, grams.join(" ")))
            })
            .collect();
        index_names(self, named).await
    }

    async fn insert_projections(&mut self, rows: &[NewProjection<'_>]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO records (key, id, collection, jurisdiction, data, enterprise_name, \
             licence_number, licence_number_bare, credit_code, status, conflict_count, \
             created_at_ms, updated_at_ms, last_seq) ",
        );
        insert.push_values(rows, |mut row, (key, seq, p)| {
            row.push_bind(*key)
                .push_bind(p.id.clone())
                .push_bind(p.collection.clone())
                .push_bind(p.jurisdiction.clone())
                .push_bind(data_text(p))
                .push_bind(p.enterprise_name.clone())
                .push_bind(p.licence_number.clone())
                .push_bind(p.licence_number_bare.clone())
                .push_bind(p.credit_code.clone())
                .push_bind(p.status.clone())
                .push_bind(p.conflict_count)
                .push_bind(p.created_at_ms)
                .push_bind(p.updated_at_ms)
                .push_bind(*seq);
        });
        insert.build().execute(&mut **self).await?;
        Ok(())
    }

    async fn remove_documents(&mut self, keys: &[i64]) -> Result<(), StoreError> {
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            for table in [
                "DELETE FROM documents WHERE key IN (",
                "DELETE FROM name_index WHERE rowid IN (",
                "DELETE FROM records WHERE key IN (",
            ] {
                let mut delete = QueryBuilder::<Sqlite>::new(table);
                let mut list = delete.separated(", ");
                for key in chunk {
                    list.push_bind(*key);
                }
                delete.push(")");
                delete.build().execute(&mut **self).await?;
            }
        }
        Ok(())
    }

    async fn insert_changes(&mut self, rows: &[(i64, &PreparedChange)]) -> Result<(), StoreError> {
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO changes (seq, hash, record_id, collection, jurisdiction, author_node, \
                 author_user, origin, at_ms, bytes) ",
            );
            insert.push_values(chunk, |mut row, (seq, change)| {
                row.push_bind(*seq)
                    .push_bind(change.hash.to_string())
                    .push_bind(change.record_id.clone())
                    .push_bind(change.collection.clone())
                    .push_bind(change.jurisdiction.clone())
                    .push_bind(change.author_node.clone())
                    .push_bind(change.author_user.clone())
                    .push_bind(change.origin.clone())
                    .push_bind(change.at_ms)
                    .push_bind(change.bytes.clone());
            });
            insert.build().execute(&mut **self).await?;
        }
        // Every stored change leaves an audit entry, in the same transaction (Art. 37).
        crate::audit::AuditTx::append_audit(self, &crate::audit::write_entries(rows)).await?;
        Ok(())
    }

    async fn load_document(&mut self, id: &str) -> Result<Option<LoadedDocument>, StoreError> {
        let row: Option<DocumentHead<i64>> = sqlx::query_as(
            "SELECT r.key, d.bytes, d.log_after, d.chunk_count, r.enterprise_name \
             FROM records r JOIN documents d ON d.key = r.key WHERE r.id = ?",
        )
        .bind(id)
        .fetch_optional(&mut **self)
        .await?;
        Ok(row.map(|(key, bytes, log_after, chunk_count, old_name)| {
            LoadedDocument::new(key, (bytes, log_after), chunk_count, old_name, None)
        }))
    }

    async fn log_tails(
        &mut self,
        wanted: &[(&str, i64)],
    ) -> Result<HashMap<String, Vec<Vec<u8>>>, StoreError> {
        let mut tails: HashMap<String, Vec<Vec<u8>>> = HashMap::new();
        for chunk in wanted.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Sqlite>::new("WITH t(id, after) AS (");
            query.push_values(chunk, |mut row, (id, after)| {
                row.push_bind(*id).push_bind(*after);
            });
            query.push(
                ") SELECT c.record_id, c.bytes FROM t CROSS JOIN changes c \
                 WHERE c.record_id = t.id AND c.seq > t.after ORDER BY c.record_id, c.seq",
            );
            let rows: Vec<(String, Vec<u8>)> =
                query.build_query_as().fetch_all(&mut **self).await?;
            for (id, bytes) in rows {
                tails.entry(id).or_default().push(bytes);
            }
        }
        Ok(tails)
    }

    /// The stored documents of the records `ids` that exist, by id.
    async fn load_documents(
        &mut self,
        ids: &[&str],
    ) -> Result<HashMap<String, LoadedDocument>, StoreError> {
        let mut loaded = HashMap::new();
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Sqlite>::new(
                "SELECT r.id, r.key, d.bytes, d.log_after, d.chunk_count, r.enterprise_name, r.data, \
                 d.edit_state, r.licence_number, r.licence_number_bare, r.credit_code, r.status \
                 FROM records r JOIN documents d ON d.key = r.key WHERE r.id IN (",
            );
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            query.push(")");
            let rows: Vec<LoadedRow> = query.build_query_as().fetch_all(&mut **self).await?;
            for (
                id,
                key,
                bytes,
                log_after,
                chunk_count,
                old_name,
                old_data,
                state,
                licence_number,
                licence_number_bare,
                credit_code,
                status,
            ) in rows
            {
                let named = NamedColumns {
                    licence_number,
                    licence_number_bare,
                    credit_code,
                    status,
                };
                loaded.insert(
                    id,
                    LoadedDocument::new(
                        key,
                        (bytes, log_after),
                        chunk_count,
                        old_name,
                        Some(old_data),
                    )
                    .with_edit_state(state)
                    .with_named(named),
                );
            }
        }
        Ok(loaded)
    }

    /// One `UPDATE … FROM` a table for up to [`ROWS_PER_STATEMENT`] records, the new rows
    /// bound as a `VALUES` list; the name, licence number, credit code and status columns in a
    /// second one, only for records where one of them changed (SQLite rewrites the entries of
    /// every index on a column an `UPDATE` sets, even to the value it holds: three indexes a
    /// received edit); the name index is rewritten only for records whose name changed.
    async fn store_existing(&mut self, rows: &[ExistingRow<'_>]) -> Result<(), StoreError> {
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut records = QueryBuilder::<Sqlite>::new(
                "WITH v(key, data, conflict_count, updated_at_ms, last_seq) AS (",
            );
            records.push_values(chunk, |mut row, (loaded, next)| {
                let p = next.projection;
                row.push_bind(loaded.key)
                    .push_bind(data_text(p))
                    .push_bind(p.conflict_count)
                    .push_bind(p.updated_at_ms)
                    .push_bind(next.last_seq);
            });
            records.push(
                ") UPDATE records SET data = v.data, conflict_count = v.conflict_count, \
                 updated_at_ms = v.updated_at_ms, last_seq = v.last_seq \
                 FROM v WHERE records.key = v.key",
            );
            records.build().execute(&mut **self).await?;
            let named: Vec<&ExistingRow<'_>> = chunk
                .iter()
                .filter(|(loaded, next)| !loaded.same_named_columns(next.projection))
                .collect();
            if !named.is_empty() {
                let mut columns = QueryBuilder::<Sqlite>::new(
                    "WITH v(key, enterprise_name, licence_number, licence_number_bare, \
                     credit_code, status) AS (",
                );
                columns.push_values(named, |mut row, (loaded, next)| {
                    let p = next.projection;
                    row.push_bind(loaded.key)
                        .push_bind(p.enterprise_name.clone())
                        .push_bind(p.licence_number.clone())
                        .push_bind(p.licence_number_bare.clone())
                        .push_bind(p.credit_code.clone())
                        .push_bind(p.status.clone());
                });
                columns.push(
                    ") UPDATE records SET enterprise_name = v.enterprise_name, \
                     licence_number = v.licence_number, \
                     licence_number_bare = v.licence_number_bare, credit_code = v.credit_code, \
                     status = v.status FROM v WHERE records.key = v.key",
                );
                columns.build().execute(&mut **self).await?;
            }

            // The saved bytes only for a document compacted now (then they hold its changes up
            // to its last one); otherwise its new changes are read from the log after them.
            let mut documents = QueryBuilder::<Sqlite>::new(
                "WITH v(key, saved, log_after, chunk_count, edit_state) AS (",
            );
            documents.push_values(chunk, |mut row, (loaded, next)| {
                row.push_bind(loaded.key)
                    .push_bind(next.saved.map(<[u8]>::to_vec))
                    .push_bind(next.last_seq)
                    .push_bind(next.chunk_count)
                    .push_bind(next.edit_state.map(<[u8]>::to_vec));
            });
            documents.push(
                ") UPDATE documents SET bytes = COALESCE(v.saved, documents.bytes), \
                 log_after = CASE WHEN v.saved IS NULL THEN documents.log_after \
                 ELSE v.log_after END, chunk_count = v.chunk_count, \
                 edit_state = v.edit_state FROM v WHERE documents.key = v.key",
            );
            documents.build().execute(&mut **self).await?;

            let renamed: Vec<&ExistingRow<'_>> = chunk
                .iter()
                .filter(|(loaded, next)| loaded.old_name != next.projection.enterprise_name)
                .collect();
            let unnamed: Vec<i64> = renamed
                .iter()
                .filter(|(loaded, _)| loaded.old_name.is_some())
                .map(|(loaded, _)| loaded.key)
                .collect();
            if !unnamed.is_empty() {
                let mut delete =
                    QueryBuilder::<Sqlite>::new("DELETE FROM name_index WHERE rowid IN (");
                let mut list = delete.separated(", ");
                for key in unnamed {
                    list.push_bind(key);
                }
                delete.push(")");
                delete.build().execute(&mut **self).await?;
            }
            let named: Vec<(i64, String)> = renamed
                .iter()
                .filter_map(|(loaded, next)| {
                    let grams = next.projection.grams();
                    (!grams.is_empty()).then(|| (loaded.key, grams.join(" ")))
                })
                .collect();
            index_names(self, named).await?;
        }
        Ok(())
    }

    async fn known_hashes(&mut self, hashes: &[String]) -> Result<HashSet<String>, StoreError> {
        let mut known = HashSet::new();
        for chunk in hashes.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Sqlite>::new("SELECT hash FROM changes WHERE hash IN (");
            let mut list = query.separated(", ");
            for hash in chunk {
                list.push_bind(hash.clone());
            }
            query.push(")");
            let rows: Vec<(String,)> = query.build_query_as().fetch_all(&mut **self).await?;
            known.extend(rows.into_iter().map(|(hash,)| hash));
        }
        Ok(known)
    }

    /// The ids among `ids` this node destroyed: received changes to them are dropped (no
    /// resurrection). Called by the apply path inside its write transaction.
    async fn tombstoned(&mut self, ids: &[&str]) -> Result<HashSet<String>, StoreError> {
        let mut found = HashSet::new();
        for chunk in ids.chunks(400) {
            let mut query = sqlx::QueryBuilder::<Sqlite>::new(
                "SELECT record_id FROM tombstones WHERE record_id IN (",
            );
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(id.to_string());
            }
            query.push(")");
            let rows: Vec<(String,)> = query.build_query_as().fetch_all(&mut **self).await?;
            found.extend(rows.into_iter().map(|(id,)| id));
        }
        Ok(found)
    }
}

/// Inserts the name-index rows (`key`, the name's grams joined by spaces) of records whose
/// name is new to the index.
async fn index_names(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    named: Vec<(i64, String)>,
) -> Result<(), StoreError> {
    if named.is_empty() {
        return Ok(());
    }
    let mut index = QueryBuilder::<Sqlite>::new("INSERT INTO name_index (rowid, grams) ");
    index.push_values(named, |mut row, (key, grams)| {
        row.push_bind(key).push_bind(grams);
    });
    index.build().execute(&mut **tx).await?;
    Ok(())
}
