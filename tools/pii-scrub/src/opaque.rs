//! Formats whose text pii-scrub cannot see: compressed streams other than
//! gzip (which is decoded), archives and systemd journal files. Scanned as
//! bytes they passed `--check` (a hostile trial: a rotated `.xz` log held an
//! address nobody saw), and rewritten in place they were corrupted (`lz4 -t`
//! failed afterwards). They are told by their magic bytes, not their names,
//! and refused before a byte of them is written: an error for that input,
//! with the command that turns it into text.

use std::io::{BufRead, Cursor, ErrorKind, Read};

use common::{Error, Result};

/// Bytes enough to tell every format below (bzip2 needs 10).
const HEAD: usize = 16;

/// A format pii-scrub does not read, and how to read it instead.
struct Opaque {
    /// `is {what}, not text`
    what: &'static str,
    /// The command that writes its text to stdout, given the file.
    read_with: &'static str,
}

/// Refuses `reader` (the input called `name`) when it starts like a format
/// whose text is not in its bytes; else gives back a reader of every byte.
/// A first read shorter than `HEAD` (16 bytes) is read on, so a header that a pipe's
/// writer wrote in pieces is still seen whole (`\xFD7z`, then the rest,
/// passed as text).
pub fn screen<'a>(name: &str, reader: &'a mut dyn BufRead) -> Result<Box<dyn BufRead + 'a>> {
    let reading = |e| Error::io(name, e).context("reading");
    let first = loop {
        match reader.fill_buf() {
            Ok(b) => break b,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(reading(e)),
        }
    };
    if first.is_empty() || first.len() >= HEAD {
        refuse(name, first)?;
        return Ok(Box::new(reader));
    }
    let mut head = Vec::with_capacity(HEAD);
    while head.len() < HEAD {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(reading(e)),
        };
        if buf.is_empty() {
            break;
        }
        let take = buf.len().min(HEAD - head.len());
        head.extend_from_slice(&buf[..take]);
        reader.consume(take);
    }
    refuse(name, &head)?;
    Ok(Box::new(Cursor::new(head).chain(reader)))
}

/// Refuses `head` (the first bytes of the input called `name`) when it
/// starts like a format whose text is not in its bytes.
fn refuse(name: &str, head: &[u8]) -> Result<()> {
    let Some(o) = sniff(head) else {
        return Ok(());
    };
    let file = if name == common::input::STDIN_NAME {
        "FILE".to_string()
    } else {
        shell_quote(name)
    };
    let how = if o.what.ends_with("compressed data") {
        "decompress it first"
    } else {
        "read its text with"
    };
    Err(
        Error::new(format!("{name}: is {}, not text: not read", o.what)).with_hint(format!(
            "{how}: {} {file} | pii-scrub --check -",
            o.read_with
        )),
    )
}

fn sniff(head: &[u8]) -> Option<Opaque> {
    let is = |what, read_with| Some(Opaque { what, read_with });
    let bzip2_block = |rest: &[u8]| {
        rest.starts_with(b"\x31\x41\x59\x26\x53\x59")
            || rest.starts_with(b"\x17\x72\x45\x38\x50\x90")
    };
    match head {
        [0xFD, b'7', b'z', b'X', b'Z', 0, ..] => is("xz-compressed data", "xz -dc"),
        [b'B', b'Z', b'h', b'1'..=b'9', rest @ ..] if bzip2_block(rest) => {
            is("bzip2-compressed data", "bzip2 -dc")
        }
        [0x28, 0xB5, 0x2F, 0xFD, ..] => is("zstd-compressed data", "zstd -dc"),
        // A skippable frame (seekable zstd, pzstd) comes before the data.
        [0x50..=0x5F, 0x2A, 0x4D, 0x18, ..] => is("zstd-compressed data", "zstd -dc"),
        [0x04, 0x22, 0x4D, 0x18, ..] | [0x02, 0x21, 0x4C, 0x18, ..] => {
            is("lz4-compressed data", "lz4 -dc")
        }
        [b'L', b'Z', b'I', b'P', 0 | 1, ..] => is("lzip-compressed data", "lzip -dc"),
        [0x1F, 0x9D, ..] => is("compress(1)-compressed data", "gzip -dc"),
        [b'P', b'K', 3, 4, ..] | [b'P', b'K', 5, 6, ..] | [b'P', b'K', 7, 8, ..] => {
            is("a zip archive", "unzip -p")
        }
        [b'7', b'z', 0xBC, 0xAF, 0x27, 0x1C, ..] => is("a 7z archive", "7z x -so"),
        // Journal fields above a size are stored compressed.
        [b'L', b'P', b'K', b'S', b'H', b'H', b'R', b'H', ..] => {
            is("a systemd journal file", "journalctl -o json --file")
        }
        _ => None,
    }
}

/// `name` as one shell word, so the hint can be pasted.
fn shell_quote(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./+,:@%=".contains(&b));
    if plain {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_looks_a_little_like_a_magic_is_text() {
        for text in [
            &b"BZh9 is not a bzip2 header\n"[..],
            b"PK one two\n",
            b"LZIP notes\n",
            b"7z archive listing\n",
            b"LPKSHHR\n",
            b"",
        ] {
            assert!(refuse("a.log", text).is_ok(), "{text:?}");
        }
    }

    #[test]
    fn hints_quote_names_for_the_shell() {
        let e = refuse("my logs/it's.xz", b"\xFD7zXZ\0rest").unwrap_err();
        assert_eq!(
            e.message(),
            "my logs/it's.xz: is xz-compressed data, not text: not read"
        );
        assert_eq!(
            e.hint(),
            Some(r"decompress it first: xz -dc 'my logs/it'\''s.xz' | pii-scrub --check -")
        );
        let e = refuse("<stdin>", b"\x28\xB5\x2F\xFD....").unwrap_err();
        assert_eq!(
            e.hint(),
            Some("decompress it first: zstd -dc FILE | pii-scrub --check -")
        );
    }
}
