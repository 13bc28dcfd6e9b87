//! The byte encoding of the scan's side files (the stat index, the records): a header line that
//! names the file and its version, little-endian integers, counts and lengths as LEB128 varints
//! (one byte for most), length-prefixed UTF-8 strings, and at the end
//! an xxh3-64 checksum of everything before it, so that a torn, cut or damaged file is rejected as
//! a whole instead of being half read. The files are small because every byte written costs: a
//! cold build writes them beside the BuildCache and the registry.
//!
//! ```text
//! header\n | fields ... | xxh3-64 of header and fields (8 bytes, little-endian)
//! ```

use xxhash_rust::xxh3::xxh3_64;

/// Builds a side file.
pub(crate) struct Writer {
    out: Vec<u8>,
}

impl Writer {
    /// A file that starts with `header` and a newline.
    pub(crate) fn new(header: &str, capacity: usize) -> Writer {
        let mut out = Vec::with_capacity(capacity + header.len() + 9);
        out.extend_from_slice(header.as_bytes());
        out.push(b'\n');
        Writer { out }
    }

    /// Bytes as they are.
    pub(crate) fn raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    pub(crate) fn i128(&mut self, value: i128) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    /// An unsigned LEB128 varint: 7 bits a byte, one byte below 128.
    pub(crate) fn varint(&mut self, value: u64) {
        let mut rest = value;
        while rest >= 0x80 {
            self.out.push(rest as u8 | 0x80);
            rest >>= 7;
        }
        self.out.push(rest as u8);
    }

    /// A count or a length, as a varint.
    pub(crate) fn len(&mut self, len: usize) {
        self.varint(len as u64);
    }

    /// A time in ns since the epoch: 8 bytes (a time outside the years 1678-2262 is written as
    /// `i64::MIN`, which no stat taken now equals, so such a file is read again).
    pub(crate) fn time(&mut self, ns: i128) {
        self.out
            .extend_from_slice(&i64::try_from(ns).unwrap_or(i64::MIN).to_le_bytes());
    }

    pub(crate) fn str(&mut self, text: &str) {
        self.len(text.len());
        self.out.extend_from_slice(text.as_bytes());
    }

    /// The bytes, with the checksum appended.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        let sum = xxh3_64(&self.out);
        self.out.extend_from_slice(&sum.to_le_bytes());
        self.out
    }
}

/// Reads a side file checked by [`Reader::open`]; every read is `None` past the end.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    /// The fields of `bytes` if it starts with `header` and its checksum holds.
    pub(crate) fn open(bytes: &'a [u8], header: &str) -> Option<Reader<'a>> {
        let (body, sum) = bytes.split_last_chunk::<8>()?;
        let fields = body.strip_prefix(header.as_bytes())?.strip_prefix(b"\n")?;
        (xxh3_64(body) == u64::from_le_bytes(*sum)).then_some(Reader { bytes: fields })
    }

    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.bytes.split_first_chunk::<N>()?;
        self.bytes = rest;
        Some(*head)
    }

    pub(crate) fn i128(&mut self) -> Option<i128> {
        self.take().map(i128::from_le_bytes)
    }

    /// A count or a length, bounded by what is left (so that a bad count cannot ask for a huge
    /// allocation: every item takes at least one byte).
    pub(crate) fn len(&mut self) -> Option<usize> {
        let len = usize::try_from(self.varint()?).ok()?;
        (len <= self.bytes.len()).then_some(len)
    }

    pub(crate) fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let [byte] = self.take::<1>()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(value);
            }
        }
        None
    }

    pub(crate) fn time(&mut self) -> Option<i128> {
        self.take().map(|b| i128::from(i64::from_le_bytes(b)))
    }

    pub(crate) fn str(&mut self) -> Option<&'a str> {
        let len = self.len()?;
        let (text, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        std::str::from_utf8(text).ok()
    }

    /// Everything not read yet.
    pub(crate) fn rest(self) -> &'a [u8] {
        self.bytes
    }

    /// Whether every field was read.
    pub(crate) fn at_end(&self) -> bool {
        self.bytes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_any_damage() {
        let mut w = Writer::new("test 1", 64);
        w.varint(7);
        w.str("naïve\tname");
        w.i128(-5);
        for len in [0, 1, 2] {
            w.len(len);
        }
        w.varint(u64::MAX);
        w.time(-1_700_000_000_123_456_789);
        w.time(i128::MAX);
        let bytes = w.finish();
        let mut r = Reader::open(&bytes, "test 1").unwrap();
        assert_eq!(
            (r.varint(), r.str(), r.i128()),
            (Some(7), Some("naïve\tname"), Some(-5))
        );
        for len in [0, 1, 2] {
            assert_eq!(r.len(), Some(len));
        }
        assert_eq!(r.varint(), Some(u64::MAX));
        assert_eq!(
            (r.time(), r.time()),
            (Some(-1_700_000_000_123_456_789), Some(i64::MIN.into()))
        );
        assert!(r.at_end());
        assert_eq!(r.varint(), None);
        assert!(Reader::open(&bytes, "test 2").is_none(), "another version");
        for cut in 0..bytes.len() {
            assert!(
                Reader::open(&bytes[..cut], "test 1").is_none(),
                "cut at {cut}"
            );
        }
        for at in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x10;
            assert!(
                Reader::open(&damaged, "test 1").is_none(),
                "byte {at} flipped"
            );
        }
    }

    #[test]
    fn long_strings_and_varints_of_every_width() {
        let mut w = Writer::new("t", 8);
        let widths = [0, 127, 128, 300, 1 << 20, 1 << 40, u64::MAX];
        for value in widths {
            w.varint(value);
        }
        w.str(&"x".repeat(1 << 20));
        let bytes = w.finish();
        let mut r = Reader::open(&bytes, "t").unwrap();
        for value in widths {
            assert_eq!(r.varint(), Some(value));
        }
        assert_eq!(r.str().map(str::len), Some(1 << 20));
        assert!(r.at_end());
    }

    #[test]
    fn a_count_larger_than_the_file_is_refused() {
        let mut w = Writer::new("t", 8);
        w.len(1000);
        w.varint(0);
        let bytes = w.finish();
        assert_eq!(Reader::open(&bytes, "t").unwrap().len(), None);
    }
}
