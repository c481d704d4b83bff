//! End-to-end tests: nodes started through the harness, spoken to over HTTP.

use licnode_tests::{BACKENDS, spawn_node};
use serde_json::Value;

#[tokio::test]
async fn every_collection_accepts_generated_records_and_keeps_them_across_a_restart() {
    for backend in BACKENDS {
        let mut node = spawn_node(backend, "330000", "province")
            .await
            .expect("node");
        let mut generator = licnode_gen::Generator::new(17);
        let mut created = Vec::new();
        for collection in licnode_model::collections() {
            let body = Value::Object(generator.record(collection, "330106"));
            let path = format!("/api/v1/{}/records?jurisdiction=330106", collection.name);
            let (status, answer) = node.post(&path, &body).await.expect("post");
            assert_eq!(status, 201, "{backend} {}: {answer}", collection.name);
            created.push((
                answer["id"].as_str().expect("id").to_string(),
                answer["fields"].clone(),
            ));
        }
        node.restart().await.expect("restart");
        for (id, fields) in &created {
            let (status, record) = node
                .get(&format!("/api/v1/records/{id}"))
                .await
                .expect("get");
            assert_eq!(status, 200, "{backend}");
            assert_eq!(
                &record["fields"], fields,
                "{backend}: {id} survives the restart unchanged"
            );
        }
        let (_, log) = node
            .get("/api/v1/changes?after=0&limit=100")
            .await
            .expect("log");
        assert_eq!(
            log["changes"].as_array().map(Vec::len),
            Some(licnode_model::collections().len()),
            "{backend}"
        );
        if let Some(handle) = node.handle.take() {
            handle.shutdown().await.expect("shutdown");
        }
    }
}
