//! The byte encoding of the scan's side files (the stat index, the records): a header line that
//! names the file and its version, little-endian integers, length-prefixed UTF-8 strings, and
//! at the end an xxh3-64 checksum of everything before it, so that a torn, cut or damaged file is
//! rejected as a whole instead of being half read.
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

    pub(crate) fn u32(&mut self, value: u32) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    pub(crate) fn u64(&mut self, value: u64) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    pub(crate) fn i128(&mut self, value: i128) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    /// A count or a length (a side file never holds 4 G of anything).
    pub(crate) fn len(&mut self, len: usize) {
        self.u32(u32::try_from(len).expect("fewer than 2^32 items"));
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

    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }

    pub(crate) fn i128(&mut self) -> Option<i128> {
        self.take().map(i128::from_le_bytes)
    }

    /// A count, bounded by what is left (so a damaged count cannot ask for a huge allocation).
    pub(crate) fn len(&mut self) -> Option<usize> {
        let len = self.u32()? as usize;
        (len <= self.bytes.len()).then_some(len)
    }

    pub(crate) fn str(&mut self) -> Option<&'a str> {
        let len = self.len()?;
        let (text, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        std::str::from_utf8(text).ok()
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
        w.u32(7);
        w.str("naïve\tname");
        w.i128(-5);
        w.u64(u64::MAX);
        let bytes = w.finish();
        let mut r = Reader::open(&bytes, "test 1").unwrap();
        assert_eq!(
            (r.u32(), r.str(), r.i128(), r.u64()),
            (Some(7), Some("naïve\tname"), Some(-5), Some(u64::MAX))
        );
        assert!(r.at_end());
        assert_eq!(r.u32(), None);
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
    fn a_count_larger_than_the_file_is_refused() {
        let mut w = Writer::new("t", 8);
        w.u32(u32::MAX);
        let bytes = w.finish();
        assert_eq!(Reader::open(&bytes, "t").unwrap().len(), None);
    }
}
