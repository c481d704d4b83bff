-- What a peer is sent, read by collection (issue 14): a pull asks for the changes after a cursor
-- in the collections that go to that child, and a push batch for those that go up. In the log
-- of a province or the national node most rows are what the children sent up, which go to no
-- other child; read in number order, every pull passed over all of them. With this index each
-- collection is read from the cursor on, its first rows only, and the origin is checked in the
-- index (`Store::changes_after_not_from`).
CREATE INDEX changes_collection_seq ON changes (collection, seq, origin);
