//! Formats whose text pii-scrub cannot see: compressed streams other than
//! gzip (which is decoded; a second gzip layer is not), archives (tar,
//! also inside gzip) and systemd journal files. Scanned as
//! bytes they passed `--check` (a hostile trial: a rotated `.xz` log held an
//! address nobody saw), and rewritten in place they were corrupted (`lz4 -t`
//! failed afterwards). They are told by their magic bytes, not their names,
//! and refused before a byte of them is written: an error for that input,
//! with the command that turns it into text.

use std::io::{BufRead, Cursor, ErrorKind, Read};

use common::{Error, Result};

/// Bytes enough to tell every format below but tar (bzip2 needs 10).
const HEAD: usize = 16;

/// A tar header says `ustar` at byte 257. Its first 262 bytes hold no
/// newline (names, octal fields, NULs), so a head holding one is text and
/// is not read further: a live pipe's short first line is not held back.
const TAR_MAGIC: std::ops::Range<usize> = 257..262;

/// True when `head` is enough to judge.
fn enough(head: &[u8]) -> bool {
    head.len() >= TAR_MAGIC.end || (head.len() >= HEAD && head.contains(&b'\n'))
}

/// A format pii-scrub does not read, and how to read it instead.
struct Opaque {
    /// `is {what}, not text`
    what: &'static str,
    /// The command that writes its text to stdout, given the file.
    read_with: &'static str,
}

/// Refuses `reader` (the input called `name`) when it starts like a format
/// whose text is not in its bytes; else gives back a reader of every byte.
/// A first read too short to judge (see [`enough`]) is read on, so a header that a pipe's
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
    if first.is_empty() || enough(first) {
        refuse(name, first)?;
        return Ok(Box::new(reader));
    }
    let mut head = Vec::with_capacity(TAR_MAGIC.end);
    while !enough(&head) {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(reading(e)),
        };
        if buf.is_empty() {
            break;
        }
        let take = buf.len().min(TAR_MAGIC.end - head.len());
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
    let how = if o.what.contains("compressed data") {
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
        // Gzip is decoded before this is asked, so gzip here is a second
        // layer (logrotate's `compress` over a glob holding .gz files).
        [0x1F, 0x8B, ..] => is("gzip-compressed data inside gzip", "gzip -dc"),
        // A tar of rotated logs (or a .tgz, decoded): its members, often
        // .gz themselves, are not lines.
        _ if head.get(TAR_MAGIC) == Some(b"ustar") => is("a tar archive", "tar -xOf"),
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

    /// Gives `chunks` one read at a time, then fails the test if read again.
    struct Pipe(Vec<&'static [u8]>);

    impl std::io::Read for Pipe {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            assert!(
                !self.0.is_empty(),
                "read past what the writer has sent: blocked"
            );
            let c = self.0.remove(0);
            buf[..c.len()].copy_from_slice(c);
            Ok(c.len())
        }
    }

    #[test]
    fn a_short_first_line_of_a_pipe_is_not_held_back_for_a_tar_header() {
        let mut r = std::io::BufReader::new(Pipe(vec![b"mail a", b"@acme.com\n"]));
        let mut out = String::new();
        let mut s = screen("<stdin>", &mut r).unwrap();
        s.read_line(&mut out).unwrap();
        assert_eq!(out, "mail a@acme.com\n");
    }

    #[test]
    fn a_tar_header_split_across_writes_is_still_seen() {
        let mut header = vec![0u8; 512];
        header[..9].copy_from_slice(b"z.log.gz\0");
        header[100..108].copy_from_slice(b"0000644\0");
        header[257..263].copy_from_slice(b"ustar\0");
        let header: &'static [u8] = header.leak();
        let mut r = std::io::BufReader::new(Pipe(vec![&header[..10], &header[10..300]]));
        let e = screen("<stdin>", &mut r).err().unwrap();
        assert_eq!(e.message(), "<stdin>: is a tar archive, not text: not read");
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
