//! The streams a replication cursor is kept for: one per (peer, stream) row of `sync_cursors`.

/// What a row of `sync_cursors` counts. The spelling of each stream is stored in
/// `sync_cursors.stream`: `as_str` is the only place it is written, and it never changes, so
/// the cursors of an existing database keep their meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SyncStream {
    /// At a parent, under a child's code: the last number of the child's log stored here.
    Push,
    /// At a child, under its parent's code: the last number of this node's log the parent
    /// acknowledged, as the last session learnt it.
    Acked,
    /// At a child, under its parent's code: the last number of the parent's log stored here.
    Pull,
    /// At a child, under its parent's code: how far it took back its own changes from the
    /// parent after its log and the parent's cursor diverged.
    Recover,
    /// At a child, under its parent's code: the last link report (by local `report_key`)
    /// relayed to the parent.
    LinksRelayed,
    /// At a child, under its parent's code: the last audit anchor (by local `anchor_key`)
    /// relayed to the parent.
    AnchorsRelayed,
}

impl SyncStream {
    /// Every stream, for whoever lists them.
    pub const ALL: [SyncStream; 6] = [
        SyncStream::Push,
        SyncStream::Acked,
        SyncStream::Pull,
        SyncStream::Recover,
        SyncStream::LinksRelayed,
        SyncStream::AnchorsRelayed,
    ];

    /// The stream's name, as stored in `sync_cursors.stream`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SyncStream::Push => "push",
            SyncStream::Acked => "acked",
            SyncStream::Pull => "pull",
            SyncStream::Recover => "recover",
            SyncStream::LinksRelayed => "links_relayed",
            SyncStream::AnchorsRelayed => "anchors_relayed",
        }
    }
}

impl std::fmt::Display for SyncStream {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A stored stream name that is none of [`SyncStream`]'s.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a replication stream")]
pub struct UnknownSyncStream(pub String);

impl std::str::FromStr for SyncStream {
    type Err = UnknownSyncStream;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        SyncStream::ALL
            .into_iter()
            .find(|stream| stream.as_str() == name)
            .ok_or_else(|| UnknownSyncStream(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stream_reads_back_from_its_spelling() {
        for stream in SyncStream::ALL {
            assert_eq!(stream.as_str().parse::<SyncStream>(), Ok(stream));
            assert_eq!(stream.to_string(), stream.as_str());
        }
    }

    #[test]
    fn the_stored_spellings_are_the_ones_databases_already_hold() {
        let spellings: Vec<&str> = SyncStream::ALL
            .iter()
            .map(|stream| stream.as_str())
            .collect();
        assert_eq!(
            spellings,
            [
                "push",
                "acked",
                "pull",
                "recover",
                "links_relayed",
                "anchors_relayed"
            ]
        );
    }

    #[test]
    fn an_unknown_stream_name_is_refused() {
        assert_eq!(
            "pushed".parse::<SyncStream>(),
            Err(UnknownSyncStream("pushed".to_owned()))
        );
    }
}
