//! The test harness itself: a node started in-process and one started as a `licnode serve`
//! process are spoken to the same way, and both keep what they acknowledged across a restart.

mod support;

use support::{BACKENDS, TestNode};

use serde_json::Value;

/// Writes a licence at Zhejiang, restarts the node and reads it back, through `TestNode` alone.
async fn licence_survives_a_restart(mut node: TestNode, label: &str) {
    let collection = licnode_model::collection("licences").expect("licences");
    let input = Value::Object(licnode_gen::Generator::new(5).record(collection, "330106"));
    let (status, created) = node
        .post("/api/v1/licences/records", &input)
        .await
        .expect("post");
    assert_eq!(status, 201, "{label}: {created}");
    let id = created["id"].as_str().expect("id").to_string();
    assert!(node.data_dir().is_dir(), "{label}: data directory");
    node.restart().await.expect("restart");
    let (status, record) = node
        .get(&format!("/api/v1/records/{id}"))
        .await
        .expect("get");
    assert_eq!(status, 200, "{label}");
    assert_eq!(
        record["fields"]["enterprise_name"], input["enterprise_name"],
        "{label}: {id} survives the restart"
    );
    node.stop().await.expect("stop");
    assert!(
        node.get("/healthz").await.is_err(),
        "{label}: a stopped node no longer answers"
    );
}

#[tokio::test]
async fn a_node_in_process_and_a_node_as_a_process_answer_alike_and_survive_a_restart() {
    for backend in BACKENDS {
        let in_process = TestNode::spawn_in_process(backend, "330000", "province")
            .await
            .expect("in-process node");
        assert!(in_process.node_handle().is_some());
        licence_survives_a_restart(in_process, &format!("{backend} in-process")).await;
        let process = TestNode::spawn_process(backend, "330000", "province")
            .await
            .expect("process node");
        assert!(process.config_file().is_some());
        licence_survives_a_restart(process, &format!("{backend} process")).await;
    }
}
