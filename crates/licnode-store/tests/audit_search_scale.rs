//! A filtered audit search at scale (issue 17, item 5): with the indexes of migration 0014 a
//! search by kind, user or record finds its page however far back the matches lie, in one
//! query, on both backends. `LICNODE_AUDIT_SCALE` sets the size of the log (default 30,000;
//! the figures in the record of this change were taken at 120,000).

use std::time::Instant;

use licnode_store::administration::AuditSearch;
use licnode_store::{AuditEntry, AuditKind, Store};
use licnode_testkit::BACKENDS;

fn log_size() -> i64 {
    std::env::var("LICNODE_AUDIT_SCALE")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(30_000)
}

#[tokio::test]
async fn a_search_by_kind_finds_the_oldest_entries_of_a_large_log_in_one_page() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (url, _database) = licnode_testkit::database_url(backend, dir.path())
            .await
            .expect("database");
        let store = Store::open(&url).await.expect("store");
        // Three backups at the start of the log, then a long run of logins.
        let backups: Vec<AuditEntry> = (0..3)
            .map(|index| AuditEntry::new(AuditKind::Backup, "330000", "operator", index))
            .collect();
        store.audit_all(&backups).await.expect("backups");
        let size = log_size();
        let mut written = 3;
        while written < size {
            let batch: Vec<AuditEntry> = (written..(written + 5_000).min(size))
                .map(|index| AuditEntry::new(AuditKind::Login, "330000", "clerk", index))
                .collect();
            written += batch.len() as i64;
            store.audit_all(&batch).await.expect("logins");
        }
        // Page through as a reader of the audit page does, until the start of the log.
        let started = Instant::now();
        let mut found = Vec::new();
        let mut pages = 0;
        let mut before_seq = None;
        loop {
            let page = store
                .audit_search(&AuditSearch {
                    kind: Some(AuditKind::Backup),
                    before_seq,
                    limit: 50,
                    ..AuditSearch::default()
                })
                .await
                .expect("search");
            pages += 1;
            found.extend(page.entries.iter().map(|entry| entry.seq));
            match page.next_before_seq {
                Some(next) => before_seq = Some(next),
                None => break,
            }
        }
        let took = started.elapsed();
        println!("{backend}: a search by kind over {size} entries: {pages} page(s), {took:?}");
        assert_eq!(found, vec![3, 2, 1], "{backend}");
        assert_eq!(pages, 1, "{backend}: the index answers in one page");
    }
}
