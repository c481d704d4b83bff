//! Domain rules that sit on top of the merge (ARCHITECTURE.md, principle 2).
//!
//! Automerge picks one winner among concurrent values of a key by op id. For most fields that
//! is fine (the loser stays listed as a conflict). For a licence's status it is not: a licence
//! that was withdrawn, revoked or cancelled (撤回 / 撤销 / 吊销 / 注销, Art. 13, 19, 28) stays so
//! even if someone concurrently edited the status to a non-terminal value.

use licnode_model::LicenceStatus;
use serde_json::Value;

/// Which of the concurrent `candidates` of `collection.field` the projection shows, as an index
/// into `candidates` (which are in automerge's order, the automerge winner last).
pub fn preferred_value(collection: &str, field: &str, candidates: &[Value]) -> usize {
    let last = candidates.len().saturating_sub(1);
    if collection == "licences" && field == "status" {
        // Art. 28: a terminal state wins over a concurrent non-terminal edit. Among several
        // terminal values the automerge winner among them is kept, so all nodes agree.
        if let Some(index) = candidates.iter().rposition(is_terminal_status) {
            return index;
        }
    }
    last
}

/// True when `value` names a terminal licence status.
pub fn is_terminal_status(value: &Value) -> bool {
    value
        .as_str()
        .and_then(|text| text.parse::<LicenceStatus>().ok())
        .is_some_and(|status| status.is_terminal())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_revoked_licence_stays_revoked_over_a_concurrent_edit() {
        let candidates = [json!("revoked_as_penalty"), json!("valid")];
        assert_eq!(preferred_value("licences", "status", &candidates), 0);
    }

    #[test]
    fn other_fields_keep_the_automerge_winner() {
        let candidates = [json!("a"), json!("b")];
        assert_eq!(
            preferred_value("licences", "enterprise_name", &candidates),
            1
        );
        assert_eq!(preferred_value("applications", "status", &candidates), 1);
    }
}
