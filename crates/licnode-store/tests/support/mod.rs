//! What several of the store's test files share.

use licnode_store::Store;
use licnode_testkit::{Backend, TestDatabase};

/// A store on `backend` in `dir`, with its URL (for direct SQL) and its throwaway database.
pub async fn open(
    backend: Backend,
    dir: &std::path::Path,
) -> (Store, String, Option<TestDatabase>) {
    std::fs::create_dir_all(dir).expect("test directory");
    let (url, database) = licnode_testkit::database_url(backend, dir)
        .await
        .expect("test database");
    (Store::open(&url).await.expect("open store"), url, database)
}
