//! The accounts service: staff accounts, their roles and their tokens, local to the node. The
//! store keeps the hashes; which role may manage accounts is decided by the door (the API's
//! administrator guard, the operator at the console).

use licnode_store::{AccountError, IssuedToken, Role, TokenKind, User};

use crate::records::Archive;

impl Archive {
    /// Adds a staff account.
    pub async fn add_user(
        &self,
        name: &str,
        display_name: &str,
        role: Role,
        password: &str,
    ) -> Result<User, AccountError> {
        self.store
            .add_user(name, display_name, role, password)
            .await
    }

    /// Every staff account.
    pub async fn users(&self) -> Result<Vec<User>, AccountError> {
        self.store.users().await
    }

    /// Disables (or enables again) an account; a disabled account's tokens stop working.
    pub async fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<(), AccountError> {
        self.store.set_user_disabled(name, disabled).await
    }

    /// The account `name` when `password` is its password and it is enabled.
    pub async fn check_password(
        &self,
        name: &str,
        password: &str,
    ) -> Result<Option<User>, AccountError> {
        self.store.check_password(name, password).await
    }

    /// Issues a token of `kind` to `user`.
    pub async fn issue_token(
        &self,
        user: &str,
        kind: TokenKind,
        label: &str,
        lifetime_ms: Option<i64>,
    ) -> Result<IssuedToken, AccountError> {
        self.store.issue_token(user, kind, label, lifetime_ms).await
    }

    /// The enabled account a live token belongs to.
    pub async fn user_for_token(&self, token: &str) -> Result<Option<User>, AccountError> {
        self.store.user_for_token(token).await
    }

    /// Revokes a token.
    pub async fn revoke_token(&self, token: &str) -> Result<(), AccountError> {
        self.store.revoke_token(token).await
    }
}
