//! Provenance: one record per stored message, saying what the memory is,
//! where it came from and when it was tracked, chained by hash so a record
//! that is removed, edited or written out of order shows.
//!
//! A record's `hash` is the sha256 of a JSON array of its previous record's
//! hash and its own content (the fields below and the message it tracks), so
//! the chain covers the messages too. The first record's previous hash is
//! [`GENESIS`].

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::json;

use crate::store::{name, Faults};

/// The previous hash of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What every stored message is tracked as.
pub const SOURCE_TYPE: &str = "chat_message";

#[derive(Debug, PartialEq, Eq)]
pub struct Record {
    pub id: i64,
    pub message_id: i64,
    pub memory_id: String,
    pub source_type: String,
    pub tracked_at: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash a record must carry: over its previous hash, its fields and the
/// message it tracks (keep in sync with `audit.rs`, which recomputes it).
pub fn hash(
    prev_hash: &str,
    memory_id: &str,
    source_type: &str,
    tracked_at: &str,
    message: (i64, &str, &str),
) -> String {
    let (session_id, text, reply) = message;
    let content = json!([
        prev_hash,
        memory_id,
        source_type,
        tracked_at,
        session_id,
        text,
        reply
    ]);
    common::digest::sha256_hex(content.to_string().as_bytes())
}

/// Appends the record for `message_id`, linked to the last record.
pub fn append(
    c: &Connection,
    faults: &Faults,
    message_id: i64,
    tracked_at: &str,
) -> rusqlite::Result<()> {
    let (session_id, text, reply): (i64, String, String) = c.query_row(
        "SELECT session_id, message, reply FROM messages WHERE id = ?1",
        [message_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    // The last two records: the previous one, and the one before it (which
    // --skip-chain-every links to instead).
    let mut last = c.prepare_cached("SELECT id, hash FROM provenance ORDER BY id DESC LIMIT 2")?;
    let tail: Vec<(i64, String)> = last
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let next_id = tail.first().map_or(1, |(id, _)| id + 1);
    let every = |n: Option<u64>| n.is_some_and(|n| (next_id as u64).is_multiple_of(n));
    let prev_hash = if every(faults.skip_chain_every) {
        tail.get(1).map_or(GENESIS, |(_, h)| h.as_str())
    } else {
        tail.first().map_or(GENESIS, |(_, h)| h.as_str())
    };
    let memory_id = name('m', message_id);
    let source_type = if every(faults.blank_provenance_every) {
        ""
    } else {
        SOURCE_TYPE
    };
    let hash = hash(
        prev_hash,
        &memory_id,
        source_type,
        tracked_at,
        (session_id, &text, &reply),
    );
    c.execute(
        "INSERT INTO provenance (id, message_id, memory_id, source_type, tracked_at, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![next_id, message_id, memory_id, source_type, tracked_at, prev_hash, hash],
    )?;
    Ok(())
}

/// The record tracking message `message_id`, if there is one.
pub fn for_message(c: &Connection, message_id: i64) -> rusqlite::Result<Option<Record>> {
    c.query_row(
        "SELECT id, message_id, memory_id, source_type, tracked_at, prev_hash, hash
         FROM provenance WHERE message_id = ?1 ORDER BY id LIMIT 1",
        [message_id],
        |r| {
            Ok(Record {
                id: r.get(0)?,
                message_id: r.get(1)?,
                memory_id: r.get(2)?,
                source_type: r.get(3)?,
                tracked_at: r.get(4)?,
                prev_hash: r.get(5)?,
                hash: r.get(6)?,
            })
        },
    )
    .optional()
}
