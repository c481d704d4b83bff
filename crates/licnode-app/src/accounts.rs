//! The accounts service: staff accounts, their roles and their tokens, local to the node. The
//! store keeps the hashes; which role may manage accounts is decided by the door (the API's
//! administrator guard, the operator at the console). Every account action — an account
//! created, disabled or enabled, an API token issued or revoked — is audited here, whichever
//! door it came through (issue 17, item 4), and an administrator cannot lock themselves out.

use licnode_store::audit::AuditEntry;
use licnode_store::{AccountError, AuditKind, IssuedToken, Role, TokenKind, User};
use serde_json::{Value, json};

use crate::records::{Archive, Author};

impl Archive {
    /// Adds a staff account on behalf of `by`.
    pub async fn add_user(
        &self,
        by: &Author,
        name: &str,
        display_name: &str,
        role: Role,
        password: &str,
    ) -> Result<User, AccountError> {
        let user = self
            .store
            .add_user(name, display_name, role, password)
            .await?;
        self.audit_account_action(
            by,
            json!({ "action": "create", "account": user.name, "role": user.role.as_str() }),
        )
        .await?;
        Ok(user)
    }

    /// Every staff account.
    pub async fn users(&self) -> Result<Vec<User>, AccountError> {
        self.store.users().await
    }

    /// Disables (or enables again) an account on behalf of `by`; a disabled account's tokens
    /// stop working. An administrator may not disable their own account: the node would be
    /// left without the one who can enable it again.
    pub async fn set_user_disabled(
        &self,
        by: &Author,
        name: &str,
        disabled: bool,
    ) -> Result<(), AccountError> {
        if disabled && by.user() == name && by.role() == Role::Administrator {
            return Err(AccountError::OwnAccountLockout(name.to_owned()));
        }
        self.store.set_user_disabled(name, disabled).await?;
        let action = if disabled { "disable" } else { "enable" };
        self.audit_account_action(by, json!({ "action": action, "account": name }))
            .await
    }

    /// The account `name` when `password` is its password and it is enabled.
    pub async fn check_password(
        &self,
        name: &str,
        password: &str,
    ) -> Result<Option<User>, AccountError> {
        self.store.check_password(name, password).await
    }

    /// Issues a session token to `user` at login (the login itself is audited by the door,
    /// with the client's address).
    pub async fn issue_session_token(
        &self,
        user: &str,
        lifetime_ms: i64,
    ) -> Result<IssuedToken, AccountError> {
        self.store
            .issue_token(user, TokenKind::Session, "login", Some(lifetime_ms))
            .await
    }

    /// Issues an API token for scripts to `user` on behalf of `by`. The audit entry names the
    /// token's label and expiry, never its secret.
    pub async fn issue_api_token(
        &self,
        by: &Author,
        user: &str,
        label: &str,
        lifetime_ms: Option<i64>,
    ) -> Result<IssuedToken, AccountError> {
        let issued = self
            .store
            .issue_token(user, TokenKind::Api, label, lifetime_ms)
            .await?;
        self.audit_account_action(
            by,
            json!({ "action": "issue_token", "account": user, "label": label,
                    "expires_at_ms": issued.expires_at_ms }),
        )
        .await?;
        Ok(issued)
    }

    /// The enabled account a live token belongs to.
    pub async fn user_for_token(&self, token: &str) -> Result<Option<User>, AccountError> {
        self.store.user_for_token(token).await
    }

    /// Ends a session: its token stops working.
    pub async fn revoke_token(&self, token: &str) -> Result<(), AccountError> {
        self.store.revoke_token(token).await
    }

    /// Revokes the API token `id` of `user` on behalf of `by`.
    pub async fn revoke_api_token(
        &self,
        by: &Author,
        user: &str,
        id: &str,
    ) -> Result<(), AccountError> {
        self.store.revoke_api_token(user, id).await?;
        self.audit_account_action(
            by,
            json!({ "action": "revoke_token", "account": user, "token": id }),
        )
        .await
    }

    /// One `account` entry in the audit log: `by` did `detail` (Art. 37's log of who did what).
    async fn audit_account_action(&self, by: &Author, detail: Value) -> Result<(), AccountError> {
        let entry = AuditEntry::new(
            AuditKind::Account,
            &self.scope.node_code,
            by.user(),
            licnode_store::now_ms(),
        )
        .detail(detail);
        self.store.audit(entry).await?;
        Ok(())
    }
}
