-- What a received plain edit of a record is checked against and changes, beside its document
-- (issue 14: the changed round): the document's heads, largest operation counter, actors' last
-- sequence numbers and the operation holding each field (licnode_doc::EditState, ~150 bytes). NULL
-- when unknown — the record was written here, holds concurrent values, or predates this column —
-- and then an edit is merged into the document, which computes it again.
ALTER TABLE documents ADD COLUMN edit_state BLOB;
