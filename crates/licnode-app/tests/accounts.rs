//! Account actions are audited in one place, the accounts service, whichever door they come
//! through, and an administrator cannot lock themselves out (issue 17, item 4), on both
//! backends.

use licnode_app::{Archive, Author};
use licnode_store::administration::AuditSearch;
use licnode_store::{AccountError, AuditKind, Role, Store};
use licnode_testkit::{BACKENDS, Backend, TestDatabase};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

async fn open(backend: Backend, dir: &std::path::Path) -> (Store, Option<TestDatabase>) {
    std::fs::create_dir_all(dir).expect("test directory");
    let (url, database) = licnode_testkit::database_url(backend, dir)
        .await
        .expect("test database");
    (Store::open(&url).await.expect("open store"), database)
}

/// The details of the `account` entries of the log, oldest first, with who acted.
async fn account_entries(archive: &Archive) -> Vec<(String, Value)> {
    let page = archive
        .audit_search(&AuditSearch {
            kind: Some(AuditKind::Account),
            limit: 100,
            ..AuditSearch::default()
        })
        .await
        .expect("audit search");
    let mut entries: Vec<(String, Value)> = page
        .entries
        .into_iter()
        .map(|record| (record.user, record.detail))
        .collect();
    entries.reverse();
    entries
}

#[tokio::test]
async fn every_account_action_is_audited_with_who_did_it_and_to_which_account() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let archive = Archive::new(store, "330000");
        let admin = Author::staff("admin", Role::Administrator);

        archive
            .add_user(&admin, "clerk", "clerk", Role::Clerk, PASSWORD)
            .await
            .expect("added");
        let issued = archive
            .issue_api_token(&admin, "clerk", "nightly import", None)
            .await
            .expect("issued");
        let tokens = archive.api_tokens("clerk").await.expect("tokens");
        archive
            .revoke_api_token(&admin, "clerk", &tokens[0].id)
            .await
            .expect("revoked");
        archive
            .set_user_disabled(&admin, "clerk", true)
            .await
            .expect("disabled");
        archive
            .set_user_disabled(&admin, "clerk", false)
            .await
            .expect("enabled");

        let entries = account_entries(&archive).await;
        let actions: Vec<(&str, &str, &str)> = entries
            .iter()
            .map(|(user, detail)| {
                (
                    user.as_str(),
                    detail["action"].as_str().unwrap_or_default(),
                    detail["account"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            actions,
            [
                ("admin", "create", "clerk"),
                ("admin", "issue_token", "clerk"),
                ("admin", "revoke_token", "clerk"),
                ("admin", "disable", "clerk"),
                ("admin", "enable", "clerk"),
            ],
            "{backend:?}"
        );
        assert_eq!(entries[0].1["role"], json!("clerk"));
        assert_eq!(entries[1].1["label"], json!("nightly import"));
        // The secret of a token is never written to the log.
        let log = serde_json::to_string(&entries).expect("json");
        assert!(!log.contains(&issued.token), "{backend:?}");
    }
}

#[tokio::test]
async fn an_administrator_cannot_disable_their_own_account_and_nothing_changes() {
    for backend in BACKENDS {
        let dir = licnode_testkit::temp_dir().expect("dir");
        let (store, _database) = open(backend, dir.path()).await;
        let archive = Archive::new(store, "330000");
        let console = Author::operator("console");
        archive
            .add_user(&console, "admin", "admin", Role::Administrator, PASSWORD)
            .await
            .expect("added");
        let admin = Author::staff("admin", Role::Administrator);
        let before = account_entries(&archive).await.len();

        let refused = archive.set_user_disabled(&admin, "admin", true).await;
        assert!(
            matches!(refused, Err(AccountError::OwnAccountLockout(ref name)) if name == "admin"),
            "{backend:?}: {refused:?}"
        );
        let users = archive.users().await.expect("users");
        assert!(users.iter().all(|user| !user.disabled), "{backend:?}");
        assert_eq!(account_entries(&archive).await.len(), before, "{backend:?}");
        // Another administrator may.
        archive
            .set_user_disabled(&console, "admin", true)
            .await
            .expect("disabled by another");
    }
}
