//! A reader that turns UTF-16 text into UTF-8, so a tool's output saved
//! by Windows PowerShell 5 (`tool > out.jsonl` writes UTF-16LE with a BOM)
//! is searched like any other text. Unpaired surrogates become U+FFFD.

use std::io::{self, BufRead, Read};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

/// The byte order a UTF-16 byte-order mark announces, if `head` starts with one.
pub fn bom(head: &[u8]) -> Option<Endian> {
    match head {
        [0xff, 0xfe, ..] => Some(Endian::Little),
        [0xfe, 0xff, ..] => Some(Endian::Big),
        _ => None,
    }
}

/// Decodes UTF-16 from `inner` (its BOM, if any, is passed through as
/// U+FEFF, which JSON readers here skip at a line's start).
pub struct Utf16ToUtf8<R> {
    inner: R,
    endian: Endian,
    /// A high surrogate waiting for its pair.
    high: Option<u16>,
    /// A lone byte of a code unit split across reads.
    odd: Option<u8>,
    /// Encoded UTF-8 not yet handed out.
    pending: Vec<u8>,
    start: usize,
}

impl<R: BufRead> Utf16ToUtf8<R> {
    pub fn new(inner: R, endian: Endian) -> Self {
        Utf16ToUtf8 {
            inner,
            endian,
            high: None,
            odd: None,
            pending: Vec::new(),
            start: 0,
        }
    }

    fn push(&mut self, c: char) {
        let mut b = [0u8; 4];
        self.pending
            .extend_from_slice(c.encode_utf8(&mut b).as_bytes());
    }

    fn unit(&mut self, u: u16) {
        match (self.high.take(), u) {
            (Some(h), 0xDC00..=0xDFFF) => {
                let c = 0x10000 + ((u32::from(h) - 0xD800) << 10) + (u32::from(u) - 0xDC00);
                self.push(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            (h, 0xD800..=0xDBFF) => {
                if h.is_some() {
                    self.push(char::REPLACEMENT_CHARACTER);
                }
                self.high = Some(u);
            }
            (h, _) => {
                if h.is_some() {
                    self.push(char::REPLACEMENT_CHARACTER);
                }
                self.push(char::from_u32(u32::from(u)).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
        }
    }

    /// Decodes the next block of input into `pending`; false at the end.
    fn refill(&mut self) -> io::Result<bool> {
        self.pending.clear();
        self.start = 0;
        let block = loop {
            match self.inner.fill_buf() {
                Ok(b) => break b.to_vec(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        self.inner.consume(block.len());
        if block.is_empty() {
            if self.high.take().is_some() || self.odd.take().is_some() {
                self.push(char::REPLACEMENT_CHARACTER);
            }
            return Ok(!self.pending.is_empty());
        }
        let mut bytes = block.as_slice();
        if let Some(first) = self.odd.take() {
            let pair = [first, bytes[0]];
            bytes = &bytes[1..];
            self.unit(self.decode(pair));
        }
        let mut chunks = bytes.chunks_exact(2);
        for pair in &mut chunks {
            self.unit(self.decode([pair[0], pair[1]]));
        }
        if let [last] = chunks.remainder() {
            self.odd = Some(*last);
        }
        Ok(true)
    }

    fn decode(&self, pair: [u8; 2]) -> u16 {
        match self.endian {
            Endian::Little => u16::from_le_bytes(pair),
            Endian::Big => u16::from_be_bytes(pair),
        }
    }
}

impl<R: BufRead> Read for Utf16ToUtf8<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.start == self.pending.len() {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.pending.len() - self.start);
        buf[..n].copy_from_slice(&self.pending[self.start..self.start + n]);
        self.start += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn decode(bytes: &[u8], endian: Endian, read_size: usize) -> String {
        // A reader that hands out `read_size` bytes at a time splits code
        // units and surrogate pairs across reads.
        let r = io::BufReader::with_capacity(read_size, bytes);
        let mut d = Utf16ToUtf8::new(r, endian);
        let mut out = Vec::new();
        d.read_to_end(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn decodes_both_byte_orders_across_any_split() {
        let text = "{\"kind\":\"summary\"} é 😀\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for size in [1, 2, 3, 5, 64] {
            assert_eq!(decode(&le, Endian::Little, size), text);
            assert_eq!(decode(&be, Endian::Big, size), text);
        }
        assert_eq!(bom(&[0xff, 0xfe, 0x7b, 0]), Some(Endian::Little));
        assert_eq!(bom(b"{}"), None);
    }

    #[test]
    fn broken_surrogates_and_odd_lengths_become_replacement_characters() {
        // A lone low surrogate, a high surrogate followed by 'a', a final odd byte.
        let bytes = [0x00, 0xdc, 0x3d, 0xd8, 0x61, 0x00, 0x62];
        assert_eq!(
            decode(&bytes, Endian::Little, 3),
            "\u{fffd}\u{fffd}a\u{fffd}"
        );
    }
}
