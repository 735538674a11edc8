//! A buffered reader whose seek to a place inside its buffer keeps the
//! buffer. The `zip` crate seeks to each member's local header, reads it,
//! then seeks to the member's data a few bytes on: under a plain
//! `BufReader` every seek drops the buffer, so the bytes after each header
//! were read twice and every data read was an 8 KiB call (a trace of a
//! 4.8 GB part: 14 KB more per member, 590,000 reads; docs/benchmarks.md).

use std::io::{self, BufReader, Read, Seek, SeekFrom};

/// The buffer's size: a member's local header and the start of its data
/// in one read; reads of at least this size go past it.
const CAPACITY: usize = 256 * 1024;

pub(super) struct SeekInBuffer<R>(BufReader<R>);

impl<R: Read> SeekInBuffer<R> {
    pub(super) fn new(inner: R) -> Self {
        Self(BufReader::with_capacity(CAPACITY, inner))
    }
}

impl<R: Read> Read for SeekInBuffer<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read + Seek> Seek for SeekInBuffer<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        if let SeekFrom::Start(to) = pos {
            let at = self.0.stream_position()?;
            if let Ok(delta) = i64::try_from(i128::from(to) - i128::from(at)) {
                // Within the buffer: kept; else one seek of the file.
                self.0.seek_relative(delta)?;
                return Ok(to);
            }
        }
        self.0.seek(pos)
    }

    fn stream_position(&mut self) -> io::Result<u64> {
        self.0.stream_position()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader over `bytes` that counts the reads that reach it.
    struct Counted<'a> {
        inner: io::Cursor<&'a [u8]>,
        reads: usize,
    }

    impl Read for Counted<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.reads += 1;
            self.inner.read(buf)
        }
    }

    impl Seek for Counted<'_> {
        fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
            self.inner.seek(pos)
        }
    }

    #[test]
    fn a_seek_inside_the_buffer_reads_nothing_again_and_lands_right() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
        let mut r = SeekInBuffer::new(Counted {
            inner: io::Cursor::new(&bytes),
            reads: 0,
        });
        let mut header = [0u8; 30];
        r.seek(SeekFrom::Start(1000)).unwrap();
        r.read_exact(&mut header).unwrap();
        assert_eq!(header[..], bytes[1000..1030]);
        let reads = r.0.get_ref().reads;
        // On to the data, forwards and back, inside the buffer.
        for to in [1100u64, 1050, 1000 + CAPACITY as u64 - 10] {
            assert_eq!(r.seek(SeekFrom::Start(to)).unwrap(), to);
            let mut b = [0u8; 4];
            r.read_exact(&mut b).unwrap();
            let to = usize::try_from(to).unwrap();
            assert_eq!(b[..], bytes[to..to + 4]);
        }
        assert!(r.0.get_ref().reads <= reads + 1, "nothing read twice");
        // Outside the buffer, either way: the file's place.
        for to in [0u64, 900_000] {
            assert_eq!(r.seek(SeekFrom::Start(to)).unwrap(), to);
            assert_eq!(r.stream_position().unwrap(), to);
            let mut b = [0u8; 3];
            r.read_exact(&mut b).unwrap();
            let to = usize::try_from(to).unwrap();
            assert_eq!(b[..], bytes[to..to + 3]);
        }
        assert_eq!(r.seek(SeekFrom::End(-1)).unwrap(), (1 << 20) - 1);
    }
}
