//! The write transaction on PostgreSQL: one statement a batch with a bound array a column
//! (`UNNEST`), row locks taken in one order (change log, then records), and the name's grams
//! in the records row.

use std::collections::{HashMap, HashSet};

use sqlx::Postgres;

use super::transaction::{DocumentHead, NewDocument, NewProjection};
use super::{DocumentRow, ExistingRow, LoadedDocument, PreparedChange, WriteTx, data_text};
use crate::StoreError;
use crate::projection::{Projection, public_name_gram_code};

impl WriteTx for sqlx::Transaction<'_, Postgres> {
    const ROWS_PER_BATCH: usize = 2_000;

    /// Takes the change log's lock first, so that every writer takes its locks in one order
    /// (log, then records) and writers of several records cannot deadlock.
    async fn lock_log(&mut self) -> Result<(), StoreError> {
        sqlx::query("SELECT value FROM node_counters WHERE name = 'change_seq' FOR UPDATE")
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    /// Keys from the `record_keys` sequence (migration 0021), which holds no lock: batches of
    /// several children take theirs at once, before the change log's lock.
    async fn new_keys(&mut self, count: usize) -> Result<Vec<i64>, StoreError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let keys: Vec<i64> =
            sqlx::query_scalar("SELECT nextval('record_keys') FROM generate_series(1, $1)")
                .bind(count as i64)
                .fetch_all(&mut **self)
                .await?;
        Ok(keys)
    }

    /// Inserts document rows, and the public collections' grams into `public_name_grams` (the
    /// public name search, migrations 0003 and 0025) — each statement binding one array a
    /// column. The keys are new, so no row can be there already.
    async fn insert_documents(&mut self, rows: &[NewDocument<'_>]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        // No bytes and `log_after` 0: the document is the record's changes in the log.
        sqlx::query(
            "INSERT INTO documents (key, bytes, log_after, chunk_count, edit_state) \
             SELECT key, ''::bytea, 0, chunk_count, edit_state \
             FROM UNNEST($1::bigint[], $2::int[], $3::bytea[]) \
               AS t(key, chunk_count, edit_state)",
        )
        .bind(rows.iter().map(|row| row.key).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|row| row.chunk_count as i32)
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|row| row.edit_state).collect::<Vec<_>>())
        .execute(&mut **self)
        .await?;
        // The public collections' name grams as codes (migration 0025), in code order: the
        // batch's entries go into the primary key left to right.
        let mut entries: Vec<(i64, i64)> = Vec::new();
        for row in rows {
            let collection = row.projection.collection.as_str();
            entries.extend(
                row.projection
                    .grams()
                    .iter()
                    .filter_map(|gram| public_name_gram_code(collection, gram))
                    .map(|code| (code, row.key)),
            );
        }
        entries.sort_unstable();
        entries.dedup();
        if !entries.is_empty() {
            let (codes, keys): (Vec<i64>, Vec<i64>) = entries.into_iter().unzip();
            sqlx::query(
                "INSERT INTO public_name_grams (code, key) \
                 SELECT code, key FROM UNNEST($1::bigint[], $2::bigint[]) AS t(code, key)",
            )
            .bind(&codes)
            .bind(&keys)
            .execute(&mut **self)
            .await?;
        }
        Ok(())
    }

    /// Inserts projection rows, each statement binding one array a column; the name's grams go
    /// into the records row itself (`name_grams`), where the trigram index reads them.
    async fn insert_projections(&mut self, rows: &[NewProjection<'_>]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let keys: Vec<i64> = rows.iter().map(|(key, ..)| *key).collect();
        let seqs: Vec<i64> = rows.iter().map(|(_, seq, _)| *seq).collect();
        let projections: Vec<&Projection> = rows.iter().map(|(.., p)| *p).collect();
        let column = |f: fn(&Projection) -> Option<String>| -> Vec<Option<String>> {
            projections.iter().map(|p| f(p)).collect()
        };
        sqlx::query(
            "INSERT INTO records (key, id, collection, jurisdiction, data, enterprise_name, name_grams, \
             licence_number, licence_number_bare, credit_code, status, conflict_count, created_at_ms, \
             updated_at_ms, last_seq) \
             SELECT key, id, collection, jurisdiction, data::jsonb, enterprise_name, \
                    string_to_array(NULLIF(grams, ''), ' '), licence_number, licence_number_bare, \
                    credit_code, status, conflict_count, created_at_ms, updated_at_ms, last_seq \
             FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
                         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::int[], \
                         $13::bigint[], $14::bigint[], $15::bigint[]) \
               AS t(key, id, collection, jurisdiction, data, enterprise_name, grams, licence_number, \
                    licence_number_bare, credit_code, status, conflict_count, created_at_ms, \
                    updated_at_ms, last_seq)",
        )
        .bind(&keys)
        .bind(projections.iter().map(|p| p.id.as_str()).collect::<Vec<_>>())
        .bind(projections.iter().map(|p| p.collection.as_str()).collect::<Vec<_>>())
        .bind(projections.iter().map(|p| p.jurisdiction.as_str()).collect::<Vec<_>>())
        .bind(projections.iter().map(|p| data_text(p)).collect::<Vec<_>>())
        .bind(column(|p| p.enterprise_name.clone()))
        .bind(projections.iter().map(|p| p.grams().join(" ")).collect::<Vec<_>>())
        .bind(column(|p| p.licence_number.clone()))
        .bind(column(|p| p.licence_number_bare.clone()))
        .bind(column(|p| p.credit_code.clone()))
        .bind(column(|p| p.status.clone()))
        .bind(projections.iter().map(|p| p.conflict_count as i32).collect::<Vec<_>>())
        .bind(projections.iter().map(|p| p.created_at_ms).collect::<Vec<_>>())
        .bind(projections.iter().map(|p| p.updated_at_ms).collect::<Vec<_>>())
        .bind(&seqs)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    async fn remove_documents(&mut self, keys: &[i64]) -> Result<(), StoreError> {
        for statement in [
            "DELETE FROM documents WHERE key = ANY($1)",
            // The records' deletion trigger removes their name grams (migration 0025).
            "DELETE FROM records WHERE key = ANY($1)",
        ] {
            sqlx::query(statement)
                .bind(keys)
                .execute(&mut **self)
                .await?;
        }
        Ok(())
    }

    async fn insert_changes(&mut self, rows: &[(i64, &PreparedChange)]) -> Result<(), StoreError> {
        for chunk in rows.chunks(2_000) {
            let text = |f: fn(&PreparedChange) -> &String| -> Vec<String> {
                chunk.iter().map(|(_, c)| f(c).clone()).collect()
            };
            sqlx::query(
                "INSERT INTO changes (seq, hash, record_id, collection, jurisdiction, author_node, \
                 author_user, origin, at_ms, bytes) \
                 SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], \
                                      $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bytea[])",
            )
            .bind(chunk.iter().map(|(seq, _)| *seq).collect::<Vec<_>>())
            .bind(
                chunk
                    .iter()
                    .map(|(_, c)| c.hash.to_string())
                    .collect::<Vec<_>>(),
            )
            .bind(text(|c| &c.record_id))
            .bind(text(|c| &c.collection))
            .bind(text(|c| &c.jurisdiction))
            .bind(text(|c| &c.author_node))
            .bind(text(|c| &c.author_user))
            .bind(text(|c| &c.origin))
            .bind(chunk.iter().map(|(_, c)| c.at_ms).collect::<Vec<_>>())
            .bind(
                chunk
                    .iter()
                    .map(|(_, c)| c.bytes.clone())
                    .collect::<Vec<_>>(),
            )
            .execute(&mut **self)
            .await?;
        }
        // Every stored change leaves an audit entry, in the same transaction (Art. 37); the audit
        // lock is taken after the change log's, as everywhere.
        crate::audit::AuditTx::append_audit(self, &crate::audit::write_entries(rows)).await?;
        Ok(())
    }

    async fn load_document(&mut self, id: &str) -> Result<Option<LoadedDocument>, StoreError> {
        let row: Option<DocumentHead<i32>> = sqlx::query_as(
            "SELECT r.key, d.bytes, d.log_after, d.chunk_count, r.enterprise_name \
             FROM records r JOIN documents d ON d.key = r.key WHERE r.id = $1 FOR UPDATE OF r, d",
        )
        .bind(id)
        .fetch_optional(&mut **self)
        .await?;
        Ok(row.map(|(key, bytes, log_after, chunk_count, old_name)| {
            LoadedDocument::new(
                key,
                (bytes, log_after),
                i64::from(chunk_count),
                old_name,
                None,
            )
        }))
    }

    async fn log_tails(
        &mut self,
        wanted: &[(&str, i64)],
    ) -> Result<HashMap<String, Vec<Vec<u8>>>, StoreError> {
        let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
            "SELECT c.record_id, c.bytes \
             FROM UNNEST($1::text[], $2::bigint[]) AS t(id, after) \
             JOIN changes c ON c.record_id = t.id AND c.seq > t.after \
             ORDER BY c.record_id, c.seq",
        )
        .bind(wanted.iter().map(|(id, _)| *id).collect::<Vec<_>>())
        .bind(wanted.iter().map(|(_, after)| *after).collect::<Vec<_>>())
        .fetch_all(&mut **self)
        .await?;
        let mut tails: HashMap<String, Vec<Vec<u8>>> = HashMap::new();
        for (id, bytes) in rows {
            tails.entry(id).or_default().push(bytes);
        }
        Ok(tails)
    }

    /// The stored documents of the records `ids` that exist, by id, locked for this transaction.
    async fn load_documents(
        &mut self,
        ids: &[&str],
    ) -> Result<HashMap<String, LoadedDocument>, StoreError> {
        let rows: Vec<DocumentRow<i32>> = sqlx::query_as(
            "SELECT r.id, r.key, d.bytes, d.log_after, d.chunk_count, r.enterprise_name, \
                    r.data::text, \
                    d.edit_state \
             FROM records r JOIN documents d ON d.key = r.key WHERE r.id = ANY($1) \
             ORDER BY r.key FOR UPDATE OF r, d",
        )
        .bind(ids)
        .fetch_all(&mut **self)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, key, bytes, log_after, chunk_count, old_name, old_data, state)| {
                    (
                        id,
                        LoadedDocument::new(
                            key,
                            (bytes, log_after),
                            i64::from(chunk_count),
                            old_name,
                            Some(old_data),
                        )
                        .with_edit_state(state),
                    )
                },
            )
            .collect())
    }

    /// One `UPDATE … FROM UNNEST` a table for all the records, a bound array a column.
    async fn store_existing(&mut self, rows: &[ExistingRow<'_>]) -> Result<(), StoreError> {
        let keys: Vec<i64> = rows.iter().map(|(loaded, _)| loaded.key).collect();
        let column = |f: fn(&Projection) -> Option<String>| -> Vec<Option<String>> {
            rows.iter().map(|(_, next)| f(next.projection)).collect()
        };
        sqlx::query(
            "UPDATE records AS r SET data = v.data::jsonb, enterprise_name = v.enterprise_name, \
             name_grams = string_to_array(NULLIF(v.grams, ''), ' '), \
             licence_number = v.licence_number, licence_number_bare = v.licence_number_bare, \
             credit_code = v.credit_code, status = v.status, conflict_count = v.conflict_count, \
             updated_at_ms = v.updated_at_ms, last_seq = v.last_seq \
             FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], \
                         $6::text[], $7::text[], $8::text[], $9::int[], $10::bigint[], \
                         $11::bigint[]) \
               AS v(key, data, enterprise_name, grams, licence_number, licence_number_bare, \
                    credit_code, status, conflict_count, updated_at_ms, last_seq) \
             WHERE r.key = v.key",
        )
        .bind(&keys)
        .bind(
            rows.iter()
                .map(|(_, next)| data_text(next.projection))
                .collect::<Vec<_>>(),
        )
        .bind(column(|p| p.enterprise_name.clone()))
        .bind(
            rows.iter()
                .map(|(_, next)| next.projection.grams().join(" "))
                .collect::<Vec<_>>(),
        )
        .bind(column(|p| p.licence_number.clone()))
        .bind(column(|p| p.licence_number_bare.clone()))
        .bind(column(|p| p.credit_code.clone()))
        .bind(column(|p| p.status.clone()))
        .bind(
            rows.iter()
                .map(|(_, next)| next.projection.conflict_count as i32)
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|(_, next)| next.projection.updated_at_ms)
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|(_, next)| next.last_seq)
                .collect::<Vec<_>>(),
        )
        .execute(&mut **self)
        .await?;
        // The saved bytes only for a document compacted now (then they hold its changes up to
        // its last one); otherwise its new changes are read from the log after them.
        sqlx::query(
            "UPDATE documents AS d SET bytes = COALESCE(v.saved, d.bytes), \
             log_after = CASE WHEN v.saved IS NULL THEN d.log_after ELSE v.log_after END, \
             chunk_count = v.chunk_count, edit_state = v.edit_state \
             FROM UNNEST($1::bigint[], $2::bytea[], $3::bigint[], $4::int[], $5::bytea[]) \
               AS v(key, saved, log_after, chunk_count, edit_state) \
             WHERE d.key = v.key",
        )
        .bind(&keys)
        .bind(
            rows.iter()
                .map(|(_, next)| next.saved.map(<[u8]>::to_vec))
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|(_, next)| next.last_seq)
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|(_, next)| next.chunk_count as i32)
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|(_, next)| next.edit_state.map(<[u8]>::to_vec))
                .collect::<Vec<_>>(),
        )
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    async fn known_hashes(&mut self, hashes: &[String]) -> Result<HashSet<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT hash FROM changes WHERE hash = ANY($1)")
            .bind(hashes)
            .fetch_all(&mut **self)
            .await?;
        Ok(rows.into_iter().map(|(hash,)| hash).collect())
    }

    /// The ids among `ids` this node destroyed.
    async fn tombstoned(&mut self, ids: &[&str]) -> Result<HashSet<String>, StoreError> {
        let ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT record_id FROM tombstones WHERE record_id = ANY($1)")
                .bind(&ids)
                .fetch_all(&mut **self)
                .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}
