//! Query plans of the name search on PostgreSQL at 100,000 licences, before and after ANALYZE.
//! `cargo run --release -p licnode-store --example pg_search_plan`.

use licnode_app::Author;
use licnode_app::{Archive, BulkRow, BulkWriter};
use licnode_store::Store;
use sqlx::Row;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let database = licnode_testkit::postgres_database().await?;
    let store = Store::open(&database.url).await?;
    let archive = Archive::new(store.clone(), "330000");
    let collection = licnode_model::collection("licences").expect("licences");
    let counties = licnode_model::divisions::counties_within("330000");
    let mut generator = licnode_gen::Generator::new(42);
    let mut writer = BulkWriter::new(&archive, "licences", &Author::clerk("plan"))?;
    for batch in 0..100 {
        let rows = (0..1_000)
            .map(|index| {
                let county = &counties[(batch * 1_000 + index) % counties.len()].code;
                BulkRow {
                    jurisdiction: Some(county.clone()),
                    fields: generator.record(collection, county),
                }
            })
            .collect();
        writer.write(rows).await?;
    }
    writer.finish().await?;
    let pool = sqlx::PgPool::connect(&database.url).await?;
    let name: String =
        sqlx::query_scalar("SELECT enterprise_name FROM records OFFSET 5000 LIMIT 1")
            .fetch_one(&pool)
            .await?;
    let chars: Vec<char> = name.chars().collect();
    let fragment: String = chars[chars.len() / 2 - 1..chars.len() / 2 + 1]
        .iter()
        .collect();
    let grams = licnode_store::name_grams(&fragment);
    for phase in [
        "before ANALYZE",
        "after ANALYZE",
        "after cleaning the GIN pending list",
    ] {
        if phase == "after ANALYZE" {
            sqlx::query("ANALYZE records").execute(&pool).await?;
        }
        if phase == "after cleaning the GIN pending list" {
            sqlx::query("SELECT gin_clean_pending_list('records_by_name_grams')")
                .execute(&pool)
                .await?;
        }
        println!("== {phase}: {fragment}");
        let rows = sqlx::query(
            "EXPLAIN ANALYZE SELECT r.key FROM records r WHERE r.key > $1 AND r.name_grams @> $2::text[] \
             AND strpos(r.enterprise_name, $3) > 0 AND r.collection = $4 ORDER BY r.key LIMIT 20",
        )
        .bind(0_i64)
        .bind(&grams)
        .bind(&fragment)
        .bind("licences")
        .fetch_all(&pool)
        .await?;
        for row in rows {
            let line: String = row.try_get(0)?;
            println!("{line}");
        }
    }
    Ok(())
}
