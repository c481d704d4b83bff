//! Automerge actor ids bound to the node that made them.
//!
//! An actor id is `[len][node code bytes][8 random bytes]`. It is fresh for every process start
//! (an actor id reused after a crash that lost unsaved changes corrupts later syncs), and the
//! node code inside it lets a receiver check that a change was authored by the node it claims
//! (replication checks it against the peer's certificate).

use automerge::ActorId;
use rand::RngCore;

/// Longest node code an actor id can carry.
pub const MAX_NODE_CODE_LEN: usize = 32;

/// A fresh actor id for this process, bound to `node_code`.
///
/// # Panics
/// Never for codes of at most [`MAX_NODE_CODE_LEN`] bytes; longer codes are truncated.
pub fn fresh(node_code: &str) -> ActorId {
    let code = &node_code.as_bytes()[..node_code.len().min(MAX_NODE_CODE_LEN)];
    let mut bytes = Vec::with_capacity(1 + code.len() + 8);
    bytes.push(code.len() as u8);
    bytes.extend_from_slice(code);
    let mut random = [0u8; 8];
    rand::rng().fill_bytes(&mut random);
    bytes.extend_from_slice(&random);
    ActorId::from(bytes)
}

/// The node code an actor id was bound to, or `None` if the id does not have our layout.
pub fn node_of(actor: &ActorId) -> Option<String> {
    let bytes = actor.as_ref();
    let (&len, rest) = bytes.split_first()?;
    let len = usize::from(len);
    if len == 0 || len > MAX_NODE_CODE_LEN || rest.len() != len + 8 {
        return None;
    }
    String::from_utf8(rest[..len].to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_id_carries_its_node_code() {
        let actor = fresh("330106");
        assert_eq!(node_of(&actor).as_deref(), Some("330106"));
    }

    #[test]
    fn two_process_starts_get_different_actor_ids() {
        assert_ne!(fresh("330106"), fresh("330106"));
    }

    #[test]
    fn foreign_actor_ids_have_no_node() {
        assert_eq!(node_of(&ActorId::random()), None);
        assert_eq!(node_of(&ActorId::from(vec![0u8; 9])), None);
    }
}
