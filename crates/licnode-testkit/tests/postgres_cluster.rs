//! Starts the throwaway PostgreSQL cluster (or uses `LICNODE_TEST_POSTGRES_URL`) and checks that
//! concurrent callers each get a database of their own that answers queries.

use sqlx::{Connection, PgConnection};

async fn select_one(database_url: &str) -> anyhow::Result<i32> {
    let mut connection = PgConnection::connect(database_url).await?;
    let answer: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut connection)
        .await?;
    let current_database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut connection)
        .await?;
    assert!(
        database_url.contains(&current_database),
        "{database_url} connected to {current_database}"
    );
    connection.close().await?;
    Ok(answer)
}

#[tokio::test]
async fn two_databases_created_concurrently_each_answer_select_one() -> anyhow::Result<()> {
    let (first, second) = tokio::try_join!(
        licnode_testkit::postgres_database(),
        licnode_testkit::postgres_database()
    )?;
    assert_ne!(first.name, second.name);
    assert_ne!(first.url, second.url);
    let (first_answer, second_answer) =
        tokio::try_join!(select_one(&first.url), select_one(&second.url))?;
    assert_eq!((first_answer, second_answer), (1, 1));
    Ok(())
}

#[tokio::test]
async fn every_backend_yields_a_usable_database_url() -> anyhow::Result<()> {
    for backend in licnode_testkit::BACKENDS {
        let node_directory = licnode_testkit::temp_dir()?;
        let (database_url, _test_database) =
            licnode_testkit::database_url(backend, node_directory.path()).await?;
        match backend {
            licnode_testkit::Backend::Sqlite => {
                let mut connection = sqlx::SqliteConnection::connect(&database_url).await?;
                let answer: i32 = sqlx::query_scalar("SELECT 1")
                    .fetch_one(&mut connection)
                    .await?;
                assert_eq!(answer, 1);
                connection.close().await?;
                assert!(node_directory.path().join("licnode.db").is_file());
            }
            licnode_testkit::Backend::Postgres => assert_eq!(select_one(&database_url).await?, 1),
        }
    }
    Ok(())
}
