//! Who decides a destruction request (Art. 38): a bureau's parent in the division tree; for a
//! review department or inspection body, which hang under the national node, the national
//! node. Their requests carry the national division as jurisdiction.

use crate::records::Archive;

/// True when `ancestor` is a bureau strictly above `node` in the division tree, or `node` is a
/// review department or inspection body and `ancestor` the national node (their superior).
pub(super) fn is_superior(ancestor: &str, node: &str) -> bool {
    if is_registered_body(node) {
        return ancestor == licnode_model::divisions::NATIONAL_CODE;
    }
    ancestor != node && licnode_model::divisions::is_within(node, ancestor)
}

/// True for the code of a review department or inspection body (no division of its own).
fn is_registered_body(code: &str) -> bool {
    matches!(
        licnode_sync::level_of_code(code),
        Some(licnode_model::Level::ReviewDepartment | licnode_model::Level::InspectionBody)
    )
}

/// The jurisdiction of the destruction requests of `node`: its own division, or for a review
/// department or inspection body the national division (Art. 37, 38; the authority table's
/// `NationalDivision`).
pub(super) fn request_jurisdiction_of(node: &str) -> String {
    if is_registered_body(node) {
        licnode_model::divisions::NATIONAL_CODE.to_owned()
    } else {
        node.to_owned()
    }
}

impl Archive {
    /// The jurisdiction of this node's own destruction requests.
    pub(super) fn own_request_jurisdiction(&self) -> String {
        request_jurisdiction_of(&self.scope.node_code)
    }
}
