//! When the camera says a photo or video was taken, read from the media
//! file itself: issue 19 dates a Takeout photo by its JSON
//! `photoTakenTime`, else by this, else by the JSON's creation (upload)
//! time. Photos whose JSON went missing, or never had a taken time, still
//! land in the day they were taken.
//!
//! Still images: EXIF `DateTimeOriginal`, else `DateTimeDigitized`, else
//! `DateTime`, each with its offset tag when the camera wrote one (EXIF
//! 2.31 `OffsetTimeOriginal` ..., else `OffsetTime`), read by the
//! `kamadak-exif` crate from JPEG, HEIF/HEIC, PNG (`eXIf`), WebP and
//! TIFF/DNG. Videos (MP4, MOV, 3GP, Google's motion-photo `.MP4`): the
//! `QuickTime` metadata key `com.apple.quicktime.creationdate` (local time
//! with its offset, written by iPhones), else the movie header's (`mvhd`)
//! creation time, seconds since 1904 in UTC, where 0 (and anything not
//! after 1970) means unset.
//!
//! Media files are untrusted input: anything unreadable is `None`, never a
//! panic; every read is bounded ([`MAX_READ`] bytes per file, whatever box
//! or segment sizes the file declares), and a video's boxes are walked by
//! seeking past them, so a 4 GB video costs a few small reads.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc,
};

/// The most bytes read from one file. EXIF sits in the first kilobytes of
/// a JPEG or HEIC; the exif crate reads a TIFF whole, so a TIFF/DNG whose
/// EXIF lies past this is read as far as this and, usually, not dated.
pub const MAX_READ: u64 = 64 << 20;

/// The largest video metadata box (`moov/meta`) read into memory; Apple's
/// are a few kilobytes.
const MAX_META_BOX: u64 = 1 << 20;

/// The most boxes looked at on one level of a video: real files have a
/// handful; a file of tiny boxes is not walked for ever.
const MAX_BOXES: usize = 4096;

/// Seconds from 1904-01-01 (`QuickTime`'s epoch) to 1970-01-01.
const SECONDS_1904_TO_1970: i64 = 2_082_844_800;

/// The `QuickTime` metadata key of the capture time (with offset).
const CREATION_DATE_KEY: &[u8] = b"com.apple.quicktime.creationdate";

/// When a file says it was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CameraTime {
    /// The time on the camera's clock with its offset from UTC (EXIF with
    /// an offset tag, `QuickTime`'s creation date).
    Zoned(DateTime<FixedOffset>),
    /// The time on the camera's clock, offset unknown (older EXIF).
    Local(NaiveDateTime),
    /// An instant without the place's offset (a movie header's time).
    Instant(DateTime<Utc>),
}

impl CameraTime {
    /// As shown where it was taken: at its own offset when it has one,
    /// else in `zone` (the `[[takeout]]`'s `time_zone`). A local time keeps
    /// its clock time, even one that `zone` skips (a daylight-saving gap).
    #[must_use]
    pub fn shown(self, zone: &jiff::tz::TimeZone) -> DateTime<FixedOffset> {
        match self {
            CameraTime::Zoned(at) => at,
            CameraTime::Instant(at) => super::metadata::shown_at(at, None, zone),
            CameraTime::Local(local) => {
                let offset = i16::try_from(local.year())
                    .ok()
                    .and_then(|year| {
                        jiff::civil::DateTime::new(
                            year,
                            local.month() as i8,
                            local.day() as i8,
                            local.hour() as i8,
                            local.minute() as i8,
                            local.second() as i8,
                            0,
                        )
                        .ok()
                    })
                    .and_then(|civil| zone.to_ambiguous_timestamp(civil).compatible().ok())
                    .map_or(0, |at| zone.to_offset(at).seconds());
                let offset = FixedOffset::east_opt(offset).unwrap_or_else(|| Utc.fix());
                offset
                    .from_local_datetime(&local)
                    .earliest()
                    .unwrap_or_else(|| local.and_utc().fixed_offset())
            }
        }
    }
}

/// The capture time of the media file at `path`, `None` when it has none
/// that can be read (or cannot be opened).
#[must_use]
pub fn read(path: &Path) -> Option<CameraTime> {
    read_from(File::open(path).ok()?)
}

/// The capture time of the media bytes `source`.
pub fn read_from<R: Read + Seek>(source: R) -> Option<CameraTime> {
    let mut source = Budget {
        inner: source,
        left: MAX_READ,
    };
    let mut head = [0u8; 12];
    let got = read_up_to(&mut source, &mut head).ok()?;
    let head = &head[..got];
    source.seek(SeekFrom::Start(0)).ok()?;
    let iso_bmff = head.get(4..8) == Some(b"ftyp");
    let mut buffered = BufReader::new(source);
    if let Some(time) = exif_time(&mut buffered) {
        return Some(time);
    }
    if !iso_bmff {
        return None;
    }
    let mut source = buffered.into_inner();
    video_time(&mut source)
}

/// Reads until `buf` is full or the end.
fn read_up_to(source: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match source.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// A reader that ends (reads nothing more) once `left` bytes were read;
/// seeking is free.
struct Budget<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let most = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(&mut buf[..most])?;
        self.left -= n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for Budget<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// The first of the EXIF times with its offset.
fn exif_time<R: io::BufRead + Seek>(source: &mut R) -> Option<CameraTime> {
    use exif::Tag;
    let exif = exif::Reader::new().read_from_container(source).ok()?;
    let ascii = |tag: Tag| -> Option<Vec<u8>> {
        match &exif.get_field(tag, exif::In::PRIMARY)?.value {
            exif::Value::Ascii(values) => values.first().cloned(),
            _ => None,
        }
    };
    [
        (Tag::DateTimeOriginal, Tag::OffsetTimeOriginal),
        (Tag::DateTimeDigitized, Tag::OffsetTimeDigitized),
        (Tag::DateTime, Tag::OffsetTime),
    ]
    .into_iter()
    .find_map(|(time, offset)| {
        let mut parsed = exif::DateTime::from_ascii(&ascii(time)?).ok()?;
        let local = NaiveDate::from_ymd_opt(
            i32::from(parsed.year),
            u32::from(parsed.month),
            u32::from(parsed.day),
        )?
        .and_hms_opt(
            u32::from(parsed.hour),
            u32::from(parsed.minute),
            u32::from(parsed.second),
        )?;
        // The offset of this time, else `OffsetTime`; `parse_offset` sets
        // it only when the text is one.
        for text in [offset, Tag::OffsetTime].into_iter().filter_map(ascii) {
            if parsed.parse_offset(&text).is_ok() {
                break;
            }
        }
        let zoned = parsed
            .offset
            .and_then(|minutes| FixedOffset::east_opt(i32::from(minutes) * 60))
            .and_then(|offset| offset.from_local_datetime(&local).single());
        Some(zoned.map_or(CameraTime::Local(local), CameraTime::Zoned))
    })
}

/// A box: its type and where its body starts and ends in the file.
#[derive(Debug, Clone, Copy)]
struct BoxAt {
    kind: [u8; 4],
    body: u64,
    end: u64,
}

/// The boxes between `start` and `end` of a file, read by seeking from one
/// header to the next; stops at the first header that does not fit.
fn boxes<R: Read + Seek>(source: &mut R, start: u64, end: u64) -> Vec<BoxAt> {
    let mut out = Vec::new();
    let mut at = start;
    while out.len() < MAX_BOXES && end.saturating_sub(at) >= 8 {
        let Some(next) = box_header(source, at, end) else {
            break;
        };
        out.push(next);
        at = next.end;
    }
    out
}

/// The header of the box at `at`, which must end by `end`.
fn box_header<R: Read + Seek>(source: &mut R, at: u64, end: u64) -> Option<BoxAt> {
    source.seek(SeekFrom::Start(at)).ok()?;
    let mut header = [0u8; 8];
    source.read_exact(&mut header).ok()?;
    let size = u64::from(u32::from_be_bytes(header[..4].try_into().ok()?));
    let kind: [u8; 4] = header[4..].try_into().ok()?;
    let (size, header_len) = match size {
        0 => (end - at, 8),
        1 => {
            let mut large = [0u8; 8];
            source.read_exact(&mut large).ok()?;
            (u64::from_be_bytes(large), 16)
        }
        n => (n, 8),
    };
    if size < header_len || size > end - at {
        return None;
    }
    Some(BoxAt {
        kind,
        body: at + header_len,
        end: at + size,
    })
}

/// The body of `b` read whole, when it is at most `most` bytes.
fn body<R: Read + Seek>(source: &mut R, b: BoxAt, most: u64) -> Option<Vec<u8>> {
    let len = b.end - b.body;
    if len > most {
        return None;
    }
    source.seek(SeekFrom::Start(b.body)).ok()?;
    let mut buf = Vec::new();
    source.take(len).read_to_end(&mut buf).ok()?;
    (buf.len() as u64 == len).then_some(buf)
}

/// A video's `QuickTime` creation date, else its movie header's time.
fn video_time<R: Read + Seek>(source: &mut R) -> Option<CameraTime> {
    let len = source.seek(SeekFrom::End(0)).ok()?;
    let moov = boxes(source, 0, len)
        .into_iter()
        .find(|b| &b.kind == b"moov")?;
    let mut header = None;
    let mut metas = Vec::new();
    for child in boxes(source, moov.body, moov.end) {
        match &child.kind {
            b"mvhd" => header = body(source, child, 128).and_then(|b| movie_header_time(&b)),
            b"meta" => metas.push(child),
            b"udta" => metas.extend(
                boxes(source, child.body, child.end)
                    .into_iter()
                    .filter(|b| &b.kind == b"meta"),
            ),
            _ => {}
        }
    }
    metas
        .into_iter()
        .find_map(|meta| {
            body(source, meta, MAX_META_BOX).and_then(|bytes| quicktime_creation_date(&bytes))
        })
        .or(header)
}

/// The creation time in an `mvhd` body (version 0: 32-bit, 1: 64-bit
/// seconds since 1904 UTC); `None` when unset.
fn movie_header_time(body: &[u8]) -> Option<CameraTime> {
    let seconds = match body.first()? {
        0 => u64::from(u32::from_be_bytes(body.get(4..8)?.try_into().ok()?)),
        1 => u64::from_be_bytes(body.get(4..12)?.try_into().ok()?),
        _ => return None,
    };
    let unix = i64::try_from(seconds).ok()? - SECONDS_1904_TO_1970;
    if unix <= 0 {
        return None;
    }
    Utc.timestamp_opt(unix, 0).single().map(CameraTime::Instant)
}

/// The children of a box body held in memory: (type, body).
fn children(mut bytes: &[u8]) -> Vec<([u8; 4], &[u8])> {
    let mut out = Vec::new();
    while out.len() < MAX_BOXES && bytes.len() >= 8 {
        let size = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        let kind = [bytes[4], bytes[5], bytes[6], bytes[7]];
        let size = if size == 0 { bytes.len() } else { size };
        if size < 8 || size > bytes.len() {
            break;
        }
        out.push((kind, &bytes[8..size]));
        bytes = &bytes[size..];
    }
    out
}

/// `com.apple.quicktime.creationdate` in a `meta` body (`QuickTime`'s, no
/// version field, or ISO's, with one): the key's index in `keys`, its
/// value in `ilst`.
fn quicktime_creation_date(meta: &[u8]) -> Option<CameraTime> {
    let meta = if meta.get(4..8) == Some(b"hdlr") {
        meta
    } else {
        meta.get(4..)?
    };
    let boxes = children(meta);
    let keys = boxes.iter().find(|(k, _)| k == b"keys")?.1;
    let ilst = boxes.iter().find(|(k, _)| k == b"ilst")?.1;
    // keys: version and flags, a count, then (size, namespace, name).
    let count = u32::from_be_bytes(keys.get(4..8)?.try_into().ok()?);
    let mut rest = keys.get(8..)?;
    let mut index = None;
    for i in 1..=count.min(MAX_BOXES as u32) {
        let size = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let name = rest.get(8..size)?;
        if name == CREATION_DATE_KEY {
            index = Some(i);
            break;
        }
        rest = rest.get(size..)?;
    }
    let index = index?.to_be_bytes();
    let item = children(ilst).into_iter().find(|(k, _)| *k == index)?.1;
    let data = children(item).into_iter().find(|(k, _)| k == b"data")?.1;
    // data: type (1 is UTF-8), locale, value.
    if data.get(..4)? != [0, 0, 0, 1] {
        return None;
    }
    parse_creation_date(std::str::from_utf8(data.get(8..)?).ok()?)
}

/// An ISO 8601 time as Apple writes it (`2019-07-04T18:30:12+0200`), with
/// `+02:00`, `Z`, fractions or no offset accepted.
fn parse_creation_date(text: &str) -> Option<CameraTime> {
    let text = text.trim_end_matches('\0').trim();
    if let Some(utc) = text.strip_suffix('Z') {
        let local = NaiveDateTime::parse_from_str(utc, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
        return Some(CameraTime::Zoned(local.and_utc().fixed_offset()));
    }
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .map(CameraTime::Zoned)
        .or_else(|_| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").map(CameraTime::Local)
        })
        .ok()
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn boxed(kind: [u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = u32::try_from(body.len() + 8)
            .unwrap()
            .to_be_bytes()
            .to_vec();
        out.extend_from_slice(&kind);
        out.extend_from_slice(body);
        out
    }

    fn mvhd(seconds_1904: u32) -> Vec<u8> {
        let mut body = vec![0u8; 100];
        body[4..8].copy_from_slice(&seconds_1904.to_be_bytes());
        boxed(*b"mvhd", &body)
    }

    /// A `QuickTime` `meta` with the creation date as the second key.
    fn quicktime_meta(date: &str) -> Vec<u8> {
        let mut keys = vec![0, 0, 0, 0, 0, 0, 0, 2];
        for name in [&b"com.apple.quicktime.make"[..], CREATION_DATE_KEY] {
            keys.extend_from_slice(&u32::try_from(name.len() + 8).unwrap().to_be_bytes());
            keys.extend_from_slice(b"mdta");
            keys.extend_from_slice(name);
        }
        let value = |v: &[u8]| boxed(*b"data", &[&[0, 0, 0, 1, 0, 0, 0, 0][..], v].concat());
        let ilst = [
            boxed(1u32.to_be_bytes(), &value(b"Apple")),
            boxed(2u32.to_be_bytes(), &value(date.as_bytes())),
        ]
        .concat();
        let hdlr = boxed(*b"hdlr", &[0u8; 25]);
        boxed(
            *b"meta",
            &[hdlr, boxed(*b"keys", &keys), boxed(*b"ilst", &ilst)].concat(),
        )
    }

    fn video(moov_children: &[Vec<u8>], big_mdat_first: bool) -> Vec<u8> {
        let ftyp = boxed(*b"ftyp", b"qt  \0\0\0\0qt  ");
        let mdat = boxed(*b"mdat", &[7u8; 1000]);
        let moov = boxed(*b"moov", &moov_children.concat());
        if big_mdat_first {
            [ftyp, mdat, moov].concat()
        } else {
            [ftyp, moov, mdat].concat()
        }
    }

    fn time(bytes: &[u8]) -> Option<CameraTime> {
        read_from(Cursor::new(bytes))
    }

    // 2019-07-04 16:30:12 UTC.
    const JULY_4: u32 = 1_562_257_812 + SECONDS_1904_TO_1970 as u32;

    #[test]
    fn a_video_is_dated_by_its_quicktime_date_else_its_header() {
        let zoned = time(&video(
            &[mvhd(JULY_4), quicktime_meta("2019-07-04T18:30:12+0200")],
            true,
        ));
        assert_eq!(
            zoned.map(|t| t.shown(&jiff::tz::TimeZone::UTC).to_rfc3339()),
            Some("2019-07-04T18:30:12+02:00".into())
        );
        let header_only = time(&video(&[mvhd(JULY_4)], false));
        assert_eq!(
            header_only,
            Some(CameraTime::Instant(
                Utc.timestamp_opt(1_562_257_812, 0).unwrap()
            ))
        );
        assert_eq!(time(&video(&[mvhd(0)], false)), None, "0 is unset");
        // Inside udta, as an ISO full box.
        let meta = quicktime_meta("2020-01-02T03:04:05-05:00");
        let iso_meta = boxed(*b"meta", &[&[0u8; 4][..], &meta[8..]].concat());
        let udta = boxed(*b"udta", &iso_meta);
        assert_eq!(
            time(&video(&[udta, mvhd(JULY_4)], true)).map(|t| t.shown(&jiff::tz::TimeZone::UTC)),
            DateTime::parse_from_rfc3339("2020-01-02T03:04:05-05:00").ok()
        );
    }

    #[test]
    fn creation_dates_as_written() {
        let zoned = |s| match parse_creation_date(s) {
            Some(CameraTime::Zoned(at)) => Some(at.to_rfc3339()),
            _ => None,
        };
        assert_eq!(
            zoned("2019-07-04T18:30:12+0200"),
            Some("2019-07-04T18:30:12+02:00".into())
        );
        assert_eq!(
            zoned("2019-07-04T18:30:12.250-03:30\0"),
            Some("2019-07-04T18:30:12.250-03:30".into())
        );
        assert_eq!(
            zoned("2019-07-04T18:30:12Z"),
            Some("2019-07-04T18:30:12+00:00".into())
        );
        assert!(matches!(
            parse_creation_date("2019-07-04T18:30:12"),
            Some(CameraTime::Local(_))
        ));
        for bad in ["", "2019-13-04T18:30:12+0200", "yesterday", "2019-07-04"] {
            assert_eq!(parse_creation_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_local_time_takes_the_configured_zone() {
        let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        let local = NaiveDate::from_ymd_opt(2023, 7, 1)
            .unwrap()
            .and_hms_opt(23, 30, 0)
            .unwrap();
        assert_eq!(
            CameraTime::Local(local).shown(&berlin).to_rfc3339(),
            "2023-07-01T23:30:00+02:00"
        );
        // 02:30 on 2023-03-26 does not exist in Berlin: the day stays.
        let gap = NaiveDate::from_ymd_opt(2023, 3, 26)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        let shown = CameraTime::Local(gap).shown(&berlin);
        assert_eq!(shown.naive_local(), gap);
    }

    #[test]
    fn damaged_videos_are_none_and_never_read_whole() {
        let good = video(
            &[mvhd(JULY_4), quicktime_meta("2019-07-04T18:30:12+0200")],
            true,
        );
        // Cut anywhere: a time or none, never a panic.
        for cut in 0..good.len() {
            let _ = time(&good[..cut]);
        }
        // Garbage after a valid ftyp.
        let mut garbage = boxed(*b"ftyp", b"isom\0\0\0\0isom");
        garbage.extend((0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        assert_eq!(time(&garbage), None);
        // Box sizes far beyond the file: stopped, not read.
        let mut huge = boxed(*b"ftyp", b"isom\0\0\0\0isom");
        huge.extend_from_slice(&[0, 0, 0, 1]);
        huge.extend_from_slice(b"moov");
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(time(&huge), None);
        let mut meta = quicktime_meta("2019-07-04T18:30:12+0200");
        meta[..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(time(&video(&[meta], false)), None);
        // A key count and sizes that lie.
        let mut lying = quicktime_meta("2019-07-04T18:30:12+0200");
        let keys = lying.windows(4).position(|w| w == b"keys").unwrap();
        lying[keys + 8..keys + 12].copy_from_slice(&u32::MAX.to_be_bytes());
        lying[keys + 12..keys + 16].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(time(&video(&[lying], false)), None);
    }

    #[test]
    fn the_budget_ends_reading() {
        let mut limited = Budget {
            inner: Cursor::new(vec![1u8; 100]),
            left: 10,
        };
        let mut all = Vec::new();
        limited.read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), 10);
        limited.seek(SeekFrom::Start(50)).unwrap();
        assert_eq!(limited.read(&mut [0u8; 4]).unwrap(), 0);
    }

    /// A file of `len` bytes, zeros but for `parts` at their offsets,
    /// counting what is read from it.
    struct Sparse {
        len: u64,
        at: u64,
        parts: Vec<(u64, Vec<u8>)>,
        read: u64,
    }

    impl Read for Sparse {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = (self.len.saturating_sub(self.at)).min(buf.len() as u64) as usize;
            buf[..n].fill(0);
            for (start, bytes) in &self.parts {
                for (i, b) in buf[..n].iter_mut().enumerate() {
                    let pos = self.at + i as u64;
                    if pos >= *start && pos < start + bytes.len() as u64 {
                        *b = bytes[(pos - start) as usize];
                    }
                }
            }
            self.at += n as u64;
            self.read += n as u64;
            Ok(n)
        }
    }

    impl Seek for Sparse {
        fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
            self.at = match pos {
                SeekFrom::Start(at) => at,
                SeekFrom::End(back) => self.len.saturating_add_signed(back),
                SeekFrom::Current(by) => self.at.saturating_add_signed(by),
            };
            Ok(self.at)
        }
    }

    #[test]
    fn a_4_gb_video_costs_a_few_small_reads() {
        // ftyp, a 4 GB mdat (64-bit size), then the moov.
        let ftyp = boxed(*b"ftyp", b"mp42\0\0\0\0mp42isom");
        let mdat_len: u64 = 4 << 30;
        let mut mdat = vec![0, 0, 0, 1];
        mdat.extend_from_slice(b"mdat");
        mdat.extend_from_slice(&mdat_len.to_be_bytes());
        let moov_at = ftyp.len() as u64 + mdat_len;
        let moov = boxed(
            *b"moov",
            &[mvhd(JULY_4), quicktime_meta("2019-07-04T18:30:12+0200")].concat(),
        );
        let mut file = Sparse {
            len: moov_at + moov.len() as u64,
            at: 0,
            parts: vec![(0, [ftyp.clone(), mdat].concat()), (moov_at, moov)],
            read: 0,
        };
        let at = video_time(&mut file);
        assert!(matches!(at, Some(CameraTime::Zoned(_))), "{at:?}");
        assert!(file.read < 4096, "read {} bytes", file.read);
        // Through `read_from`: the exif crate gives up early too.
        let mut file = Sparse {
            at: 0,
            read: 0,
            ..file
        };
        assert!(read_from(&mut file).is_some());
        assert!(file.read < 64 << 10, "read {} bytes", file.read);
    }

    #[test]
    fn damaged_jpegs_are_none_or_their_time() {
        let good = synthetic::camera::jpeg_with_exif("2019:07:04 23:30:00", Some("-05:00"), 1, 200);
        let want = DateTime::parse_from_rfc3339("2019-07-04T23:30:00-05:00").unwrap();
        assert_eq!(time(&good), Some(CameraTime::Zoned(want)));
        for cut in 0..good.len() {
            let got = time(&good[..cut]);
            assert!(
                got.is_none() || got == Some(CameraTime::Zoned(want)),
                "{cut}: {got:?}"
            );
        }
        // Every byte of the EXIF block flipped in turn: whatever it reads,
        // never a panic.
        let exif_end = 4 + usize::from(u16::from_be_bytes([good[4], good[5]]));
        for i in 4..exif_end {
            let mut bad = good.clone();
            bad[i] ^= 0xff;
            let _ = time(&bad);
        }
        // A segment length past the end; a date that is no date.
        let mut long = good.clone();
        long[4..6].copy_from_slice(&[0xff, 0xff]);
        assert_eq!(time(&long), None);
        let no_date = synthetic::camera::jpeg_with_exif("2019:02:30 25:00:00", None, 1, 10);
        assert_eq!(time(&no_date), None);
        let blank = synthetic::camera::jpeg_with_exif("    :  :     :  :  ", None, 1, 10);
        assert_eq!(time(&blank), None);
        let local = synthetic::camera::jpeg_with_exif("2019:07:04 23:30:00", Some("bad"), 1, 10);
        assert!(matches!(time(&local), Some(CameraTime::Local(_))));
    }

    #[test]
    fn png_webp_and_tiff_carry_exif_too() {
        let jpeg = synthetic::camera::jpeg_with_exif("2021:02:03 04:05:06", Some("+09:30"), 1, 10);
        let len = usize::from(u16::from_be_bytes([jpeg[4], jpeg[5]]));
        // After the marker, the length and `Exif\0\0`: a TIFF block.
        let tiff = &jpeg[12..4 + len];
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut c = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
            c.extend_from_slice(kind);
            c.extend_from_slice(data);
            c.extend_from_slice(&[0; 4]); // CRC, not checked
            c
        };
        let png = [
            &b"\x89PNG\r\n\x1a\n"[..],
            &chunk(b"IHDR", &[0; 13]),
            &chunk(b"IDAT", &[7; 100]),
            &chunk(b"eXIf", tiff),
            &chunk(b"IEND", &[]),
        ]
        .concat();
        let riff = |kind: &[u8], data: &[u8]| {
            let mut c = kind.to_vec();
            c.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
            c.extend_from_slice(data);
            if data.len() % 2 == 1 {
                c.push(0);
            }
            c
        };
        let chunks = [
            riff(b"VP8X", &[8, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            riff(b"EXIF", tiff),
        ]
        .concat();
        let webp = [
            &b"RIFF"[..],
            &u32::try_from(chunks.len() + 4).unwrap().to_le_bytes(),
            b"WEBP",
            &chunks,
        ]
        .concat();
        let want = DateTime::parse_from_rfc3339("2021-02-03T04:05:06+09:30").unwrap();
        for (kind, bytes) in [("png", png), ("webp", webp), ("tiff", tiff.to_vec())] {
            assert_eq!(time(&bytes), Some(CameraTime::Zoned(want)), "{kind}");
        }
    }

    #[test]
    fn garbage_and_empty_images_are_none() {
        assert_eq!(time(b""), None);
        assert_eq!(time(b"\xff\xd8\xff\xe1\xff\xff"), None);
        assert_eq!(time(b"\x89PNG\r\n\x1a\n\xff\xff\xff\xffeXIf"), None);
        assert_eq!(time(b"II*\0\xff\xff\xff\xff"), None);
        assert_eq!(time(b"RIFF\xff\xff\xff\xffWEBPEXIF"), None);
        assert_eq!(time(&[0u8; 4096]), None);
    }
}
