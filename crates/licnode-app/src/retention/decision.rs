//! The superior's decision on a destruction request (Art. 38): who may decide, that every
//! named record is due, and the signed decision written into the request.

use licnode_model::DestructionDecision;
use licnode_store::StoredRecord;
use serde_json::{Map, Value, json};

use super::{
    DecisionPayload, NodeKey, RetentionError, SignedDecision, calendar, date_text, due_on,
    is_superior, parse_record_ids, request_jurisdiction_of, require_approver, rfc3339,
    signed_message,
};
use crate::clock::Clock;
use crate::records::{Approval, Archive, Author};

/// What the decision says besides approve or refuse: how long an approval stays valid and
/// the decider's remarks.
struct DecisionTerms<'a> {
    approve: bool,
    valid_days: u32,
    remarks: Option<&'a str>,
}

impl Archive {
    /// The superior's decision on a request of one of the nodes below it: approves (every
    /// named record must be due by this node's own copy and clock, or already destroyed here)
    /// or refuses, and signs the decision with `key`. The decision travels back to the
    /// requesting node in the same record. Only an approver decides (Art. 38).
    #[allow(clippy::too_many_arguments)]
    pub async fn decide_destruction(
        &self,
        request_id: &str,
        approve: bool,
        key: &dyn NodeKey,
        clock: &dyn Clock,
        years: u32,
        valid_days: u32,
        remarks: Option<&str>,
        author: &Author,
    ) -> Result<StoredRecord, RetentionError> {
        require_approver(author, Approval::DestructionDecision)?;
        let request = self.load_request(request_id).await?;
        let requesting_node = self.check_decider(request_id, &request, author).await?;
        let record_ids = parse_record_ids(&text_of(&request, "record_ids"));
        if approve {
            self.check_all_due(&record_ids, clock, years).await?;
        }
        let terms = DecisionTerms {
            approve,
            valid_days,
            remarks,
        };
        let patch = self.signed_decision(
            request_id,
            requesting_node,
            record_ids,
            &terms,
            key,
            clock.now_ms(),
            author.user(),
        )?;
        Ok(self.update(request_id, &patch, author).await?.record)
    }

    /// The requesting node of `request` when this node may decide it — its direct parent, the
    /// request having come straight from that node; or, for the national node's own request
    /// (it has no superior), a second approver designated in `[retention] national_approvers`,
    /// never the requester (Art. 38) — and nobody has decided it yet.
    async fn check_decider(
        &self,
        request_id: &str,
        request: &StoredRecord,
        author: &Author,
    ) -> Result<String, RetentionError> {
        let requesting_node = text_of(request, "requesting_node");
        let first_change = self
            .store
            .record_changes(request_id)
            .await?
            .into_iter()
            .next();
        if self.is_own_national_request(request) {
            let requester = first_change.map(|change| change.author_user);
            self.require_second_approver(author.user(), requester.as_deref())?;
        } else {
            if !is_superior(&self.scope.node_code, &requesting_node)
                || request.jurisdiction != request_jurisdiction_of(&requesting_node)
            {
                return Err(RetentionError::NotASuperior { requesting_node });
            }
            // The parent decides: the request must have reached this node straight from the
            // requesting node (its first change's origin), not relayed by a node in between.
            if first_change.map(|change| change.origin).as_deref() != Some(requesting_node.as_str())
            {
                return Err(RetentionError::NotASuperior { requesting_node });
            }
        }
        if text_of(request, "decision") != DestructionDecision::Pending.as_str()
            || request.data.contains_key("approval")
        {
            return Err(RetentionError::AlreadyDecided(request_id.to_owned()));
        }
        Ok(requesting_node)
    }

    /// Refuses unless every record of `record_ids` is due by this node's copy and clock, or
    /// was destroyed here on an earlier approval (it was due then).
    async fn check_all_due(
        &self,
        record_ids: &[String],
        clock: &dyn Clock,
        years: u32,
    ) -> Result<(), RetentionError> {
        let today = calendar(clock.today()).ok_or(RetentionError::NothingDue)?;
        for id in record_ids {
            match self.store.get(id).await? {
                Some(record) => {
                    match due_on(
                        &record.collection,
                        &record.data,
                        record.updated_at_ms,
                        years,
                    ) {
                        Some(date) if date <= today => {}
                        Some(date) => {
                            return Err(RetentionError::RecordNotDue {
                                id: id.clone(),
                                due_on: date_text(date),
                            });
                        }
                        None => return Err(RetentionError::RecordNeverDue(id.clone())),
                    }
                }
                None if self.store.is_destroyed(id).await? => {}
                None => return Err(RetentionError::RecordUnknown(id.clone())),
            }
        }
        Ok(())
    }

    /// The fields the decision writes into the request, its signed approval among them.
    #[allow(clippy::too_many_arguments)]
    fn signed_decision(
        &self,
        request_id: &str,
        requesting_node: String,
        record_ids: Vec<String>,
        terms: &DecisionTerms<'_>,
        key: &dyn NodeKey,
        now: i64,
        user: &str,
    ) -> Result<Map<String, Value>, RetentionError> {
        let decision = if terms.approve {
            DestructionDecision::Approved
        } else {
            DestructionDecision::Refused
        };
        let payload = DecisionPayload {
            request_id: request_id.to_owned(),
            requesting_node,
            approving_node: self.scope.node_code.clone(),
            decision: decision.as_str().to_owned(),
            record_ids,
            approved_at_ms: now,
            expires_at_ms: now + i64::from(terms.valid_days) * 24 * 3600 * 1000,
            approver: user.to_owned(),
        };
        let payload_text =
            serde_json::to_string(&payload).map_err(|e| RetentionError::Signing(e.to_string()))?;
        let signature = key
            .sign(&signed_message(&payload_text))
            .map_err(RetentionError::Signing)?;
        let signed = SignedDecision {
            payload: payload_text,
            scheme: signature.scheme,
            signature: hex::encode(&signature.signature),
            chain: signature.chain.iter().map(hex::encode).collect(),
        };
        let mut patch = Map::new();
        patch.insert("decision".into(), json!(decision.as_str()));
        patch.insert("approving_node".into(), json!(payload.approving_node));
        patch.insert("approver".into(), json!(user));
        patch.insert("approved_at".into(), json!(rfc3339(now)));
        if terms.approve {
            patch.insert("expires_at".into(), json!(rfc3339(payload.expires_at_ms)));
        }
        if let Some(remarks) = terms.remarks.filter(|remarks| !remarks.trim().is_empty()) {
            patch.insert("decision_remarks".into(), json!(remarks));
        }
        patch.insert(
            "approval".into(),
            json!(
                serde_json::to_string(&signed)
                    .map_err(|e| RetentionError::Signing(e.to_string()))?
            ),
        );
        Ok(patch)
    }
}

/// The text of `field` of `request`, empty when absent.
fn text_of(request: &StoredRecord, field: &str) -> String {
    request
        .data
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}
