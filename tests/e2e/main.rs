//! End-to-end tests: nodes started through the harness, spoken to over HTTP.

use licnode_model::Level;
use licnode_tests::{BACKENDS, TestNode};
use serde_json::Value;

/// Nodes of every kind, each authoring what the authority table gives it.
const AUTHORS: [(&str, Level); 5] = [
    ("100000", Level::National),
    ("330000", Level::Province),
    ("330106", Level::County),
    ("RD0001", Level::ReviewDepartment),
    ("IB0001", Level::InspectionBody),
];

#[tokio::test]
async fn every_collection_accepts_generated_records_from_its_authors_and_keeps_them_across_a_restart()
 {
    for backend in BACKENDS {
        let mut nodes: Vec<TestNode> = Vec::new();
        for (code, level) in AUTHORS {
            nodes.push(
                TestNode::spawn_in_process(backend, code, level.as_str())
                    .await
                    .expect("node"),
            );
        }
        let mut generator = licnode_gen::Generator::new(17);
        let mut created = Vec::new();
        let mut licence_id: Option<String> = None;
        for collection in licnode_model::collections() {
            let author = AUTHORS
                .iter()
                .position(|(code, level)| {
                    licnode_sync::may_author(
                        &licnode_sync::NodeRef::new(*code, *level),
                        collection.name,
                        "330106",
                    )
                    .is_allowed()
                })
                .unwrap_or_else(|| panic!("nobody may author {} for 330106", collection.name));
            let mut fields = generator.record(collection, "330106");
            if collection.name == "licence_events" {
                // An event names a licence its node holds: the one written just before.
                let licence = licence_id.clone().expect("the licence is written first");
                fields.insert("licence".into(), Value::String(licence));
            }
            let body = Value::Object(fields);
            let path = format!("/api/v1/{}/records?jurisdiction=330106", collection.name);
            let (status, answer) = nodes[author].post(&path, &body).await.expect("post");
            if collection.name == "destructions" {
                // Written only through the retention routes (Art. 38), never generically.
                assert_eq!(status, 409, "{backend}: {answer}");
                assert_eq!(answer["error"]["code"], "use_retention_api");
                continue;
            }
            assert_eq!(
                status, 201,
                "{backend} {} at {}: {answer}",
                collection.name, AUTHORS[author].0
            );
            if collection.name == "licences" {
                licence_id = answer["id"].as_str().map(str::to_string);
            }
            created.push((
                author,
                answer["id"].as_str().expect("id").to_string(),
                answer["fields"].clone(),
            ));
        }
        for node in &mut nodes {
            node.restart().await.expect("restart");
        }
        for (author, id, fields) in &created {
            let (status, record) = nodes[*author]
                .get(&format!("/api/v1/records/{id}"))
                .await
                .expect("get");
            assert_eq!(status, 200, "{backend}");
            assert_eq!(
                &record["fields"], fields,
                "{backend}: {id} survives the restart unchanged"
            );
        }
        let mut logged = 0;
        for node in &nodes {
            let (_, log) = node
                .get("/api/v1/changes?after=0&limit=100")
                .await
                .expect("log");
            logged += log["changes"].as_array().map_or(0, Vec::len);
        }
        assert_eq!(logged, created.len(), "{backend}: one change per record");
        assert_eq!(created.len(), licnode_model::collections().len() - 1);
        for mut node in nodes {
            node.stop().await.expect("stop");
        }
    }
}
