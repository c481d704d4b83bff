//! The stable machine codes of the API's refusals, one variant each: the only place a code is
//! spelt. A route declares the codes it may answer with these variants, so a route cannot name
//! a code that does not exist (issue 17, item 1). The spellings are a wire contract and never
//! change.

/// Defines `ErrorCode` with its variants, their spellings and the list of all of them.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident => $spelling:literal,)+) => {
        /// A stable machine code of a refusal (`{"error":{"code":…}}`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)+
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The code as it is sent and stored.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $spelling,)+
                }
            }
        }
    };
}

error_codes! {
    // The server's own refusals.
    Internal => "internal",
    /// The disk is full: nothing was stored.
    StorageFull => "storage_full",
    NotFound => "not_found",
    MethodNotAllowed => "method_not_allowed",
    MalformedJson => "malformed_json",
    WrongType => "wrong_type",
    UnsupportedMediaType => "unsupported_media_type",
    PayloadTooLarge => "payload_too_large",
    BadBody => "bad_body",
    DuplicateKey => "duplicate_key",
    ExpectedObject => "expected_object",
    BadQuery => "bad_query",
    BadCursor => "bad_cursor",
    BadLimit => "bad_limit",
    UnknownFilter => "unknown_filter",
    QueryTooShort => "query_too_short",
    MissingQuery => "missing_query",
    BadState => "bad_state",
    UnknownRule => "unknown_rule",
    BadProvince => "bad_province",
    UnknownForm => "unknown_form",
    UnknownCollection => "unknown_collection",
    BadFormat => "bad_format",
    /// Attachment 1's 填报日期 is `report` or `blank`.
    BadFillDate => "bad_fill_date",
    WrongReportKind => "wrong_report_kind",
    UseRetentionApi => "use_retention_api",
    InvalidBody => "invalid_body",
    InvalidValidDays => "invalid_valid_days",
    Unauthenticated => "unauthenticated",
    ForbiddenRole => "forbidden_role",
    ApprovalRequired => "approval_required",
    BadRole => "bad_role",
    TooManyAttempts => "too_many_attempts",
    NoPeerIdentity => "no_peer_identity",
    NotAChild => "not_a_child",
    BadBatch => "bad_batch",
    LinkReportOutsideSubtree => "link_report_outside_subtree",
    ExportTooLarge => "export_too_large",
    CursorGap => "cursor_gap",
    PullCursorDiverged => "pull_cursor_diverged",
    NoParentLink => "no_parent_link",
    NoNodeKey => "no_node_key",
    AnchorSignerMismatch => "anchor_signer_mismatch",
    AuditChainNotExtended => "audit_chain_not_extended",
    // Accounts.
    UserExists => "user_exists",
    BadUserName => "bad_user_name",
    WeakPassword => "weak_password",
    /// An administrator may not disable their own account or take away their own role.
    OwnAccountLockout => "own_account_lockout",
    // The records service.
    ValidationFailed => "validation_failed",
    OutsideJurisdiction => "outside_jurisdiction",
    InvalidJurisdiction => "invalid_jurisdiction",
    LicenceTerminal => "licence_terminal",
    ReadOnlyCopy => "read_only_copy",
    ReportSubmitted => "report_submitted",
    /// Foods, food-related products and cosmetics are outside the regulation (Art. 3).
    OutsideRegulation => "outside_regulation",
    /// Secret fields (Art. 36) are shown unmasked only to approvers and administrators.
    SecretNotForRole => "secret_not_for_role",
    /// A reference names no record of its collection that this node holds.
    UnknownReference => "unknown_reference",
    /// A particular typed beside a picked licence differs from the licence (Art. 12, 29).
    ReferenceMismatch => "reference_mismatch",
    // Reports and their periods.
    ReportAlreadySubmitted => "report_already_submitted",
    ReportNotOwn => "report_not_own",
    PeriodNotEnded => "period_not_ended",
    NarrativeMissing => "narrative_missing",
    UnknownReportKind => "unknown_report_kind",
    InvalidPeriod => "invalid_period",
    // The licence work flow.
    NotALicence => "not_a_licence",
    UnknownEventKind => "unknown_event_kind",
    LicenceNotActive => "licence_not_active",
    ActionNotPending => "action_not_pending",
    ReasonRequired => "reason_required",
    // Retention and destruction (Art. 38).
    NotADestructionRequest => "not_a_destruction_request",
    NothingDue => "nothing_due",
    NoSuperior => "no_superior",
    TooManyRecords => "too_many_records",
    RecordNotDue => "record_not_due",
    RecordNeverDue => "record_never_due",
    RecordUnknown => "record_unknown",
    NotASuperior => "not_a_superior",
    AlreadyDecided => "already_decided",
    NotApproved => "not_approved",
    ApprovalRefused => "approval_refused",
    ApprovalMalformed => "approval_malformed",
    ApprovalSignatureInvalid => "approval_signature_invalid",
    ApprovalNotFromASuperior => "approval_not_from_a_superior",
    ApprovalForOtherRecords => "approval_for_other_records",
    ApprovalExpired => "approval_expired",
    ApprovalFromTheFuture => "approval_from_the_future",
    AlreadyDestroyed => "already_destroyed",
    /// At the national node, a destruction is decided by a designated second approver (Art. 38).
    NotADesignatedApprover => "not_a_designated_approver",
    ApproverIsRequester => "approver_is_requester",
    // Audit anchors.
    AnchorMalformed => "anchor_malformed",
    AnchorSignatureInvalid => "anchor_signature_invalid",
    AnchorSigningFailed => "anchor_signing_failed",
    // The authority table's refusals (`licnode_sync::DenyReason`).
    InvalidNode => "invalid_node",
    InvalidLink => "invalid_link",
    UnknownJurisdiction => "unknown_jurisdiction",
    CollectionIsLocal => "collection_is_local",
    WrongDirection => "wrong_direction",
    AuthorNotOnSenderSide => "author_not_on_sender_side",
    AuthorNotAllowed => "author_not_allowed",
    NotAddressedToPeer => "not_addressed_to_peer",
    // The public service's own refusals.
    RateLimited => "rate_limited",
    UnknownParameter => "unknown_parameter",
    QueryTooLong => "query_too_long",
    BadKind => "bad_kind",
    BadValidity => "bad_validity",
    // The staff web application's own refusals.
    /// A form posted without the session's anti-forgery token.
    BadCsrfToken => "bad_csrf_token",
}

impl ErrorCode {
    /// The code a service spells `spelling`, when it is one of the API's codes.
    pub fn of_service(spelling: &str) -> Option<ErrorCode> {
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|code| code.as_str() == spelling)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<ErrorCode> for &str {
    fn eq(&self, other: &ErrorCode) -> bool {
        *self == other.as_str()
    }
}
