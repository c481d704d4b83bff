//! What administrators and auditors read about the node, on SQLite and PostgreSQL: the audit
//! search by time looks at a bounded window of entry numbers and says where to go on, a search
//! by kind, user or record reads its index; a user's API
//! tokens are listed without their secrets and revoked one by one.

use licnode_store::administration::{AUDIT_SEARCH_WINDOW, AuditSearch};
use licnode_store::{AuditEntry, AuditKind, Role, Store, TokenKind};
use licnode_testkit::{BACKENDS, Backend, TestDatabase};

async fn open(backend: Backend) -> (Store, Option<TestDatabase>, tempfile::TempDir) {
    let dir = licnode_testkit::temp_dir().expect("dir");
    let (url, database) = licnode_testkit::database_url(backend, dir.path())
        .await
        .expect("database");
    (Store::open(&url).await.expect("store"), database, dir)
}

#[tokio::test]
async fn an_audit_search_by_time_looks_at_one_window_and_the_next_page_goes_on_below_it() {
    for backend in BACKENDS {
        let (store, _database, _dir) = open(backend).await;
        // Two backups, then more logins than one window holds.
        let mut entries = vec![
            AuditEntry::new(AuditKind::Backup, "330000", "operator", 1_000),
            AuditEntry::new(AuditKind::Backup, "330000", "operator", 2_000),
        ];
        let logins = AUDIT_SEARCH_WINDOW + 50;
        entries.extend((0..logins).map(|index| {
            AuditEntry::new(AuditKind::Login, "330000", "clerk", 3_000 + index).record("r-1")
        }));
        store.audit_all(&entries).await.expect("entries");
        let (head, _) = store.audit_head().await.expect("head");
        assert_eq!(head, AUDIT_SEARCH_WINDOW + 52);

        let early = |before_seq| AuditSearch {
            until_ms: Some(2_500),
            before_seq,
            limit: 10,
            ..AuditSearch::default()
        };
        // The newest window holds nothing that early: nothing found, and where to look next.
        let first = store.audit_search(&early(None)).await.expect("search");
        assert!(first.entries.is_empty(), "{backend}");
        assert_eq!(first.looked_below, head + 1);
        assert_eq!(first.looked_from, head + 1 - AUDIT_SEARCH_WINDOW);
        assert_eq!(first.next_before_seq, Some(first.looked_from));
        // The next window reaches the start of the log: both backups, newest first, the end.
        let second = store
            .audit_search(&early(first.next_before_seq))
            .await
            .expect("search");
        let numbers: Vec<i64> = second.entries.iter().map(|entry| entry.seq).collect();
        assert_eq!(numbers, vec![2, 1], "{backend}");
        assert_eq!(second.next_before_seq, None);

        // Issue 17, item 5: a search by kind reads its index to the start of the log at once.
        let backups = store
            .audit_search(&AuditSearch {
                kind: Some(AuditKind::Backup),
                limit: 10,
                ..AuditSearch::default()
            })
            .await
            .expect("search");
        let numbers: Vec<i64> = backups.entries.iter().map(|entry| entry.seq).collect();
        assert_eq!(numbers, vec![2, 1], "{backend}");
        assert_eq!(backups.looked_from, 1);
        assert_eq!(backups.next_before_seq, None);

        // A full page continues right below its last entry; filters combine.
        let page = store
            .audit_search(&AuditSearch {
                user: Some("clerk".into()),
                record_id: Some("r-1".into()),
                from_ms: Some(3_000),
                until_ms: Some(3_010),
                limit: 4,
                before_seq: Some(20),
                ..AuditSearch::default()
            })
            .await
            .expect("search");
        let numbers: Vec<i64> = page.entries.iter().map(|entry| entry.seq).collect();
        assert_eq!(numbers, vec![12, 11, 10, 9], "{backend}");
        assert_eq!(page.next_before_seq, Some(9));
    }
}

#[tokio::test]
async fn api_tokens_are_listed_without_secrets_and_revoked_only_for_their_user() {
    for backend in BACKENDS {
        let (store, _database, _dir) = open(backend).await;
        for name in ["clerk", "other"] {
            store
                .add_user(name, name, Role::Clerk, "correct horse battery")
                .await
                .expect("user");
        }
        let issued = store
            .issue_token("clerk", TokenKind::Api, "script", None)
            .await
            .expect("token");
        store
            .issue_token("clerk", TokenKind::Session, "login", Some(60_000))
            .await
            .expect("session");
        let listed = store.api_tokens("clerk").await.expect("tokens");
        assert_eq!(listed.len(), 1, "{backend}: sessions are not listed");
        assert_eq!(listed[0].label, "script");
        assert_ne!(listed[0].id, issued.token);
        assert!(!listed[0].revoked);

        assert!(
            store
                .revoke_api_token("other", &listed[0].id)
                .await
                .is_err()
        );
        assert!(
            store
                .user_for_token(&issued.token)
                .await
                .expect("user")
                .is_some()
        );
        store
            .revoke_api_token("clerk", &listed[0].id)
            .await
            .expect("revoked");
        assert!(
            store
                .user_for_token(&issued.token)
                .await
                .expect("user")
                .is_none()
        );
        assert!(store.api_tokens("clerk").await.expect("tokens")[0].revoked);
    }
}
