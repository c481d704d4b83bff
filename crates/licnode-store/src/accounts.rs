//! Staff accounts of a node: users with roles, argon2 password hashes, expiring login sessions
//! and API tokens for scripts. Accounts are local to the node and never replicated; every
//! write a user makes is recorded with the user and the node (Art. 36 asks that secrets not
//! leak: who did what must be traceable).

use std::str::FromStr;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::dialect::{with_reader, with_writer};
use crate::{Store, StoreError};

/// What a staff member may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Records and edits the archives.
    Clerk,
    /// A clerk who may also approve: licence status changes, licence events, report submission.
    Approver,
    /// Manages accounts, and may do what an approver does.
    Administrator,
    /// Reads everything, writes nothing.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Clerk,
        Role::Approver,
        Role::Administrator,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Approver => "approver",
            Role::Administrator => "administrator",
            Role::Auditor => "auditor",
        }
    }

    /// May this role create and edit records?
    pub fn may_write(self) -> bool {
        !matches!(self, Role::Auditor)
    }

    /// May this role approve (change a licence's status, record licence events, submit)?
    pub fn may_approve(self) -> bool {
        matches!(self, Role::Approver | Role::Administrator)
    }

    /// May this role manage accounts?
    pub fn may_administer(self) -> bool {
        matches!(self, Role::Administrator)
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| {
                format!("unknown role {text:?} (clerk, approver, administrator, auditor)")
            })
    }
}

/// A staff account, without its password hash.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct User {
    pub name: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at_ms: i64,
}

/// A token's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// From a password login; expires.
    Session,
    /// For scripts; expires only if given a lifetime.
    Api,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            TokenKind::Session => "session",
            TokenKind::Api => "api",
        }
    }
}

/// A token just issued: the secret is shown once and only its hash is kept.
#[derive(Clone, Debug, Serialize)]
pub struct IssuedToken {
    pub token: String,
    pub kind: TokenKind,
    pub expires_at_ms: Option<i64>,
}

/// Refusals of account operations.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("a user named {0:?} already exists")]
    Exists(String),
    #[error("no user named {0:?}")]
    NoSuchUser(String),
    #[error("the user has no API token {0:?}…")]
    NoSuchToken(String),
    #[error("user names are 1–64 letters, digits, '.', '-' or '_'")]
    BadName,
    #[error("a password needs at least 10 characters")]
    WeakPassword,
    /// An administrator disabling their own account would lock the node's administration
    /// out of itself; another administrator does it.
    #[error("{0:?} may not disable their own account; another administrator can")]
    OwnAccountLockout(String),
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AccountError {
    fn from(error: sqlx::Error) -> Self {
        AccountError::Store(StoreError::Database(error))
    }
}

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// Hashes a password with argon2id (a fresh random salt, the crate's default cost).
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| AccountError::Hash(error.to_string()))
}

type UserRow = (String, String, String, bool, i64);

fn user_of(row: UserRow) -> Result<User, AccountError> {
    let (name, display_name, role, disabled, created_at_ms) = row;
    Ok(User {
        role: role
            .parse()
            .map_err(|_| AccountError::Hash(format!("stored role {role:?} is unknown")))?,
        name,
        display_name,
        disabled,
        created_at_ms,
    })
}

impl Store {
    /// Adds a staff account.
    pub async fn add_user(
        &self,
        name: &str,
        display_name: &str,
        role: Role,
        password: &str,
    ) -> Result<User, AccountError> {
        if !valid_name(name) {
            return Err(AccountError::BadName);
        }
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(AccountError::WeakPassword);
        }
        let password_hash = hash_password(password)?;
        let now = crate::now_ms();
        let result = with_writer!(&self.db, |pool| {
            sqlx::query(
            "INSERT INTO users (name, display_name, role, password_hash, disabled, created_at_ms) \
                 VALUES ($1, $2, $3, $4, FALSE, $5)",
        )
        .bind(name)
        .bind(display_name)
        .bind(role.as_str())
        .bind(&password_hash)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
        });
        match result {
            Ok(()) => Ok(User {
                name: name.to_string(),
                display_name: display_name.to_string(),
                role,
                disabled: false,
                created_at_ms: now,
            }),
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                Err(AccountError::Exists(name.to_string()))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Every staff account, by name.
    pub async fn users(&self) -> Result<Vec<User>, AccountError> {
        let sql =
            "SELECT name, display_name, role, disabled, created_at_ms FROM users ORDER BY name";
        let rows: Vec<UserRow> =
            with_reader!(&self.db, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        rows.into_iter().map(user_of).collect()
    }

    /// Disables or re-enables an account; disabling also revokes its tokens.
    pub async fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<(), AccountError> {
        let changed = with_writer!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query("UPDATE users SET disabled = $1 WHERE name = $2")
                .bind(disabled)
                .bind(name)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if disabled {
                sqlx::query("UPDATE tokens SET revoked = TRUE WHERE user_name = $1")
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            changed
        });
        if changed == 0 {
            return Err(AccountError::NoSuchUser(name.to_string()));
        }
        Ok(())
    }

    /// Checks a name and password. `None` for a wrong name, a wrong password or a disabled
    /// account alike: callers must not tell them apart.
    pub async fn check_password(
        &self,
        name: &str,
        password: &str,
    ) -> Result<Option<User>, AccountError> {
        let sql = "SELECT name, display_name, role, disabled, created_at_ms, password_hash FROM users WHERE name = $1";
        let row: Option<(String, String, String, bool, i64, String)> =
            with_reader!(&self.db, |pool| sqlx::query_as(sql)
                .bind(name)
                .fetch_optional(pool)
                .await?);
        // Verify against a fixed hash when the user does not exist, so that the time taken
        // does not tell whether the name exists.
        const ABSENT: &str = "$argon2id$v=19$m=19456,t=2,p=1$bGljbm9kZWFic2VudA$0pYb5zrFChTGdEo3h8DkN43ySsd6X/uoKEDr2d14+4c";
        let hash = row
            .as_ref()
            .map_or(ABSENT, |row| row.5.as_str())
            .to_string();
        let password = password.to_string();
        let verified = tokio::task::spawn_blocking(move || {
            Argon2::default()
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok()
        })
        .await
        .unwrap_or(false);
        match row {
            Some((name, display_name, role, disabled, created_at_ms, _))
                if verified && !disabled =>
            {
                Ok(Some(user_of((
                    name,
                    display_name,
                    role,
                    disabled,
                    created_at_ms,
                ))?))
            }
            _ => Ok(None),
        }
    }

    /// Issues a token for `user`; `lifetime_ms` `None` means no expiry (API tokens only).
    pub async fn issue_token(
        &self,
        user: &str,
        kind: TokenKind,
        label: &str,
        lifetime_ms: Option<i64>,
    ) -> Result<IssuedToken, AccountError> {
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        let token = format!("lnt_{}", hex::encode(secret));
        let now = crate::now_ms();
        let expires_at_ms = lifetime_ms.map(|lifetime| now + lifetime);
        let exists = self
            .users()
            .await?
            .into_iter()
            .any(|u| u.name == user && !u.disabled);
        if !exists {
            return Err(AccountError::NoSuchUser(user.to_string()));
        }
        with_writer!(&self.db, |pool| {
            sqlx::query("INSERT INTO tokens (token_hash, user_name, kind, label, created_at_ms, expires_at_ms, revoked) VALUES ($1, $2, $3, $4, $5, $6, FALSE)")
                    .bind(hash_token(&token)).bind(user).bind(kind.as_str()).bind(label).bind(now).bind(expires_at_ms)
                    .execute(pool).await?;
        });
        Ok(IssuedToken {
            token,
            kind,
            expires_at_ms,
        })
    }

    /// The user a token stands for, if the token is known, unrevoked, unexpired and its user
    /// enabled.
    pub async fn user_for_token(&self, token: &str) -> Result<Option<User>, AccountError> {
        let now = crate::now_ms();
        let columns = "u.name, u.display_name, u.role, u.disabled, u.created_at_ms";
        let row: Option<UserRow> = with_reader!(&self.db, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {columns} FROM tokens t JOIN users u ON u.name = t.user_name \
                 WHERE t.token_hash = $1 AND NOT t.revoked AND NOT u.disabled \
                 AND (t.expires_at_ms IS NULL OR t.expires_at_ms > $2)"
            )))
            .bind(hash_token(token))
            .bind(now)
            .fetch_optional(pool)
            .await?
        });
        row.map(user_of).transpose()
    }

    /// Revokes a token (logout). Unknown tokens are ignored.
    pub async fn revoke_token(&self, token: &str) -> Result<(), AccountError> {
        with_writer!(&self.db, |pool| {
            sqlx::query("UPDATE tokens SET revoked = TRUE WHERE token_hash = $1")
                .bind(hash_token(token))
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_what_their_names_say() {
        assert!(Role::Clerk.may_write() && !Role::Clerk.may_approve());
        assert!(Role::Approver.may_approve() && !Role::Approver.may_administer());
        assert!(!Role::Auditor.may_write());
        assert!(Role::Administrator.may_administer());
    }

    #[test]
    fn the_absent_user_hash_is_a_valid_argon2_hash() {
        let absent = "$argon2id$v=19$m=19456,t=2,p=1$bGljbm9kZWFic2VudA$0pYb5zrFChTGdEo3h8DkN43ySsd6X/uoKEDr2d14+4c";
        // Parsing succeeds and no password matches it.
        assert!(
            Argon2::default()
                .verify_password(b"anything", absent)
                .is_err()
        );
        assert!(argon2::PasswordHash::new(absent).is_ok());
    }
}
