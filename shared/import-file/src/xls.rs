//! What calamine's XLS reader would hold, counted before it reads a workbook.
//!
//! calamine trusts an XLS file. It follows the compound file's sector chains as far as they lead,
//! parses every sheet when it opens a workbook, reserves what a sheet's DIMENSIONS record declares,
//! lays each sheet out from its first to its last cell, reserves a string's declared length before
//! decoding it, copies a shared string into every cell that shows it, spells out each formula, and
//! walks a sheet again for each entry of the sheet list that names it. So calamine gets a copy it
//! can trust, made by [`checked_workbook`]:
//!
//! - a file over [`MAX_XLS_FILE_BYTES`], or whose sector table would be read more than once over,
//!   is refused; then the workbook stream is read through the `cfb` crate, which refuses sector
//!   chains that loop or point past the file, and at most [`MAX_XLS_STREAM_BYTES`] of it;
//! - its records are walked as calamine will walk them, counting cells (laid out, reserved and
//!   parsed) and bytes of text (strings' reserved and decoded lengths, sheet and defined names,
//!   formula placeholders) against the sheet limits, and refusing sheets that overlap each other
//!   or the globals, and more CONTINUE records than a stream within the limit could need;
//! - each formula's parsed tokens are cut to none (the import reads the value a FORMULA record
//!   keeps beside them), in place, so the offsets of the sheet list still hold;
//! - the stream goes into a fresh compound file that holds nothing else.

use std::{
    collections::BTreeMap,
    io::{Cursor, Read, Seek, SeekFrom, Write},
};

use crate::{FileError, check_sheet_limits, unreadable};

/// Most bytes an XLS workbook stream may have (an XLS sheet holds at most 65,536 rows).
pub const MAX_XLS_STREAM_BYTES: u64 = 32 * 1024 * 1024;

/// Most bytes an XLS file may have: `cfb` holds four bytes of sector table for each sector of it.
pub const MAX_XLS_FILE_BYTES: u64 = 2 * MAX_XLS_STREAM_BYTES;

/// Most CONTINUE records after one record, and in the whole stream: more than a stream within
/// the limit needs (at the 8,224 bytes a record holds). calamine takes them one by one off the
/// front of a list, so many of them cost it time by their square.
const MAX_CONTINUES: usize = 4_096;
const MAX_CONTINUES_IN_ALL: usize = 4 * MAX_CONTINUES;

/// Bytes of text a sheet-list entry or a defined name may take in calamine: a name of at most
/// 255 characters, reserved, decoded (at most six bytes each, see [`TextWidths`]) and kept in
/// three copies.
const NAME_TEXT: u64 = 3 * 255 * 6;

/// Bytes of text calamine keeps for a formula whose tokens were cut (an error placeholder).
const FORMULA_TEXT: u64 = 128;

/// The compound file's header: its first 512 bytes, with the first 109 entries of the list of
/// sector-table sectors (the DIFAT).
const HEADER_BYTES: usize = 512;
const HEADER_DIFAT_ENTRIES: usize = 109;
const END_OF_CHAIN: u32 = 0xFFFF_FFFE;
const FREE_SECTOR: u32 = 0xFFFF_FFFF;

const BOF: u16 = 0x0809;
const EOF: u16 = 0x000A;
const CONTINUE: u16 = 0x003C;
const BOUNDSHEET: u16 = 0x0085;
const SST: u16 = 0x00FC;
const DIMENSIONS: u16 = 0x0200;
const NUMBER: u16 = 0x0203;
const LABEL: u16 = 0x0204;
const BOOLERR: u16 = 0x0205;
const STRING: u16 = 0x0207;
const RK: u16 = 0x027E;
const RSTRING: u16 = 0x00D6;
const LABELSST: u16 = 0x00FD;
const MULRK: u16 = 0x00BD;
const MERGECELLS: u16 = 0x00E5;
const FORMULA: u16 = 0x0006;
const DEFINED_NAME: u16 = 0x0018;
const CODEPAGE: u16 = 0x0042;

/// Where a FORMULA record's token length sits: after the cell, its value and its flags.
const FORMULA_TOKENS_AT: usize = 20;

/// The XLS file in `source` as a compound file holding only its workbook stream, once that stream
/// passed the checks of this module; what calamine reads instead of the upload.
pub fn checked_workbook<R: Read + Seek>(source: R) -> Result<Vec<u8>, FileError> {
    let mut stream = workbook_stream(source)?;
    let formulas = Workbook::walk(&stream)?;
    for at in formulas {
        stream[at..at + 2].copy_from_slice(&0u16.to_le_bytes());
    }
    compound_file(&stream)
}

/// The `Workbook` stream (`Book` in files older than Excel 97), as calamine picks it.
fn workbook_stream<R: Read + Seek>(mut source: R) -> Result<Vec<u8>, FileError> {
    check_sector_table(&mut source)?;
    source.rewind()?;
    let mut file = cfb::CompoundFile::open(source).map_err(unreadable)?;
    let name = ["/Workbook", "/Book"]
        .into_iter()
        .find(|name| file.is_stream(name))
        .ok_or_else(|| FileError::Unreadable("the XLS file has no workbook".to_owned()))?;
    let stream = file.open_stream(name).map_err(unreadable)?;
    if stream.len() > MAX_XLS_STREAM_BYTES {
        return Err(FileError::TooLarge(format!(
            "the XLS workbook has {} bytes; at most {MAX_XLS_STREAM_BYTES} are accepted",
            stream.len()
        )));
    }
    let mut bytes = Vec::new();
    stream
        .take(MAX_XLS_STREAM_BYTES)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    Ok(bytes)
}

/// Refuses a file over [`MAX_XLS_FILE_BYTES`], and one whose list of sector-table sectors (the
/// DIFAT, as `cfb` trims it) names more sectors than a table for the whole file needs: `cfb`
/// reads a whole sector into memory for each entry, before it checks the table against the file,
/// and an entry may repeat. Anything else malformed is left for `cfb` to refuse.
fn check_sector_table<R: Read + Seek>(source: &mut R) -> Result<(), FileError> {
    let len = source.seek(SeekFrom::End(0))?;
    if len > MAX_XLS_FILE_BYTES {
        return Err(FileError::TooLarge(format!(
            "the XLS file has {len} bytes; at most {MAX_XLS_FILE_BYTES} are accepted"
        )));
    }
    source.rewind()?;
    let mut header = [0u8; HEADER_BYTES];
    if source.read_exact(&mut header).is_err() {
        return Ok(());
    }
    let sector_len: u64 = match u16_at(&header, 30) {
        Some(9) => 512,
        Some(12) => 4096,
        _ => return Ok(()),
    };
    let sectors = (len / sector_len).saturating_sub(1);
    let entries_per_sector = (sector_len / 4) as usize;
    let declared_tables = u32_at(&header, 44).unwrap_or(0) as usize;
    let mut entries: Vec<u32> = (0..HEADER_DIFAT_ENTRIES)
        .filter_map(|index| u32_at(&header, 76 + 4 * index))
        .collect();
    let mut sector = vec![0u8; sector_len as usize];
    let mut next = u32_at(&header, 68).unwrap_or(END_OF_CHAIN);
    let mut walked = 0u64;
    while next != END_OF_CHAIN && next != FREE_SECTOR {
        walked += 1;
        if u64::from(next) >= sectors || walked > sectors {
            return Ok(());
        }
        source.seek(SeekFrom::Start((u64::from(next) + 1) * sector_len))?;
        if source.read_exact(&mut sector).is_err() {
            return Ok(());
        }
        entries.extend((0..entries_per_sector - 1).filter_map(|index| u32_at(&sector, 4 * index)));
        next = u32_at(&sector, sector.len() - 4).unwrap_or(END_OF_CHAIN);
    }
    // As cfb trims the list: zeros past the header's entries and the declared count, then free
    // entries.
    while entries.len() > HEADER_DIFAT_ENTRIES
        && entries.len() > declared_tables
        && entries.last() == Some(&0)
    {
        entries.pop();
    }
    while entries.last() == Some(&FREE_SECTOR) {
        entries.pop();
    }
    let needed = (sectors as usize).div_ceil(entries_per_sector);
    if entries.len() > HEADER_DIFAT_ENTRIES + needed {
        return Err(FileError::Unreadable(format!(
            "the XLS file lists {} sector-table sectors for {sectors} sectors",
            entries.len()
        )));
    }
    Ok(())
}

/// `stream` as the one stream of a new compound file, of the version Excel writes (512-byte
/// sectors).
pub fn compound_file(stream: &[u8]) -> Result<Vec<u8>, FileError> {
    let mut file =
        cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new()))?;
    file.create_stream("/Workbook")?.write_all(stream)?;
    file.flush()?;
    Ok(file.into_inner().into_inner())
}

/// One record with the CONTINUE records that follow it, as calamine's record iterator joins them.
struct Record<'a> {
    typ: u16,
    data: &'a [u8],
    continues: Vec<&'a [u8]>,
}

/// The records of `stream` from its start, each with its CONTINUE records.
struct Records<'a> {
    stream: &'a [u8],
    start: usize,
}

impl<'a> Records<'a> {
    /// The offset the next record starts at.
    fn offset(&self) -> usize {
        self.start
    }

    fn split(&mut self) -> Option<(u16, &'a [u8])> {
        let header = self.stream.get(..4)?;
        let typ = u16::from_le_bytes([header[0], header[1]]);
        let len = u16::from_le_bytes([header[2], header[3]]) as usize;
        let data = self.stream.get(4..4 + len)?;
        self.stream = &self.stream[4 + len..];
        self.start += 4 + len;
        Some((typ, data))
    }
}

impl<'a> Iterator for Records<'a> {
    /// A record, or an error where calamine's iterator would fail (or loop too long).
    type Item = Result<Record<'a>, FileError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.stream.is_empty() {
            return None;
        }
        let Some((typ, data)) = self.split() else {
            return Some(Err(cut_short()));
        };
        let mut continues = Vec::new();
        while self.stream.len() > 4 && self.stream.starts_with(&CONTINUE.to_le_bytes()) {
            if continues.len() == MAX_CONTINUES {
                return Some(Err(FileError::Unreadable(format!(
                    "an XLS record goes on in more than {MAX_CONTINUES} CONTINUE records"
                ))));
            }
            match self.split() {
                Some((_, more)) => continues.push(more),
                None => return Some(Err(cut_short())),
            }
        }
        Some(Ok(Record {
            typ,
            data,
            continues,
        }))
    }
}

fn cut_short() -> FileError {
    FileError::Unreadable("the XLS workbook ends inside a record".to_owned())
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// What calamine holds of a workbook, counted as the checks go.
#[derive(Default)]
struct Workbook {
    /// Bytes of text each shared string takes (reserved or decoded, whichever is more).
    shared_strings: Vec<u64>,
    /// Cells laid out, reserved or parsed (and shared strings), over every sheet.
    cells: u64,
    /// Bytes of text, over every sheet.
    text: u64,
    /// CONTINUE records walked.
    continues: usize,
    /// How calamine decodes text, as the CODEPAGE records so far say.
    widths: TextWidths,
}

impl Workbook {
    /// Walks the workbook's globals and each sheet they list; the offsets of the FORMULA records'
    /// token lengths calamine will parse.
    fn walk(stream: &[u8]) -> Result<Vec<usize>, FileError> {
        let mut workbook = Self::default();
        let mut sheets = Vec::new();
        let mut globals = Records { stream, start: 0 };
        for record in globals.by_ref() {
            let record = workbook.counted(record?)?;
            match record.typ {
                BOUNDSHEET => {
                    sheets.push(u32_at(record.data, 0).unwrap_or(0) as usize);
                    workbook.add(1, NAME_TEXT)?;
                }
                DEFINED_NAME => workbook.add(0, NAME_TEXT)?,
                CODEPAGE => workbook.widths = TextWidths::of(u16_at(record.data, 0)),
                SST => workbook.read_shared_strings(record)?,
                EOF => break,
                _ => {}
            }
        }
        // Each part of the stream is walked once: the globals, then each sheet. A sheet that
        // overlaps another part would be read with other record boundaries than those checked.
        let mut parts = BTreeMap::from([(0, globals.offset())]);
        let mut formulas = Vec::new();
        for at in sheets {
            let sheet = stream.get(at..).ok_or_else(|| {
                FileError::Unreadable("the XLS sheet list points past the workbook".to_owned())
            })?;
            let end = at + workbook.walk_sheet(sheet, at, &mut formulas)?;
            let before = parts.range(..=at).next_back();
            let after = parts.range(at..).next();
            if before.is_some_and(|(_, &before_end)| before_end > at)
                || after.is_some_and(|(&after_start, _)| after_start < end)
            {
                return Err(FileError::Unreadable(
                    "the XLS workbook's sheets overlap".to_owned(),
                ));
            }
            parts.insert(at, end);
        }
        Ok(formulas)
    }

    /// `record`, its CONTINUE records counted against [`MAX_CONTINUES_IN_ALL`].
    fn counted<'a>(&mut self, record: Record<'a>) -> Result<Record<'a>, FileError> {
        self.continues += record.continues.len();
        if self.continues > MAX_CONTINUES_IN_ALL {
            return Err(FileError::Unreadable(format!(
                "the XLS workbook has more than {MAX_CONTINUES_IN_ALL} CONTINUE records"
            )));
        }
        Ok(record)
    }

    fn add(&mut self, cells: u64, text: u64) -> Result<(), FileError> {
        self.cells = self.cells.saturating_add(cells);
        self.text = self.text.saturating_add(text);
        check_sheet_limits(self.cells, self.text)
    }

    /// The shared string table: each string's text, walked as calamine decodes it.
    fn read_shared_strings(&mut self, record: Record<'_>) -> Result<(), FileError> {
        let mut strings = SharedStrings {
            data: record.data.get(8..).unwrap_or_default(),
            continues: record.continues.into_iter(),
            widths: self.widths,
        };
        self.shared_strings.clear();
        while let Some(text) = strings.next_string()? {
            self.shared_strings.push(text);
            self.add(1, text)?;
        }
        Ok(())
    }

    /// One sheet from its BOF record to its EOF record, nested substreams (charts) skipped; the
    /// bytes walked.
    fn walk_sheet(
        &mut self,
        sheet: &[u8],
        at: usize,
        formulas: &mut Vec<usize>,
    ) -> Result<usize, FileError> {
        let (mut values, mut formula_cells) = (Extent::default(), Extent::default());
        let mut records = Records {
            stream: sheet,
            start: 0,
        };
        let (mut seen_bof, mut depth) = (false, 0usize);
        let mut formula_cell = (0, 0);
        loop {
            let start = at + records.offset();
            let Some(record) = records.next() else { break };
            let record = self.counted(record?)?;
            let data = record.data;
            if depth > 0 {
                match record.typ {
                    BOF => depth += 1,
                    EOF => depth -= 1,
                    _ => {}
                }
                continue;
            }
            let cell = || {
                let at = |offset| u32::from(u16_at(data, offset).unwrap_or(0));
                (at(0), at(2))
            };
            match record.typ {
                BOF if seen_bof => depth += 1,
                BOF => seen_bof = true,
                DIMENSIONS => self.add(reserved_cells(data), 0)?,
                NUMBER | BOOLERR | RK => values.add(cell(), 1),
                LABEL | RSTRING => {
                    values.add(cell(), 1);
                    self.add(0, self.widths.string(data.get(6..).unwrap_or_default()))?;
                }
                STRING => {
                    values.add(formula_cell, 1);
                    self.add(0, self.widths.string(data))?;
                }
                LABELSST => {
                    let index = u32_at(data, 6).unwrap_or(u32::MAX) as usize;
                    if let Some(&text) = self.shared_strings.get(index) {
                        values.add(cell(), 1);
                        self.add(0, text)?;
                    }
                }
                MULRK if data.len() >= 6 => {
                    // calamine numbers the values from the first column on, however many.
                    let (row, first) = cell();
                    let count = (data.len() - 6).div_ceil(6) as u32;
                    if count > 0 {
                        values.add((row, first), 1);
                        values.add((row, first + count - 1), u64::from(count - 1));
                    }
                }
                MERGECELLS => self.add(u64::from(u16_at(data, 0).unwrap_or(0)), 0)?,
                FORMULA => {
                    formula_cell = cell();
                    values.add(formula_cell, 1);
                    formula_cells.add(formula_cell, 1);
                    self.add(0, FORMULA_TEXT)?;
                    if data.len() >= FORMULA_TOKENS_AT + 2 {
                        formulas.push(start + 4 + FORMULA_TOKENS_AT);
                    }
                }
                EOF => break,
                _ => {}
            }
            self.add(values.take() + formula_cells.take(), 0)?;
        }
        self.add(values.laid_out() + formula_cells.laid_out(), 0)?;
        Ok(records.offset())
    }
}

/// The cells calamine reserves for a DIMENSIONS record, with its arithmetic (which wraps when the
/// last row comes before the first).
fn reserved_cells(data: &[u8]) -> u64 {
    let (first_row, last_row, first_col, last_col) = match data.len() {
        10 => (
            u32::from(u16_at(data, 0).unwrap_or(0)),
            u32::from(u16_at(data, 2).unwrap_or(0)),
            u32::from(u16_at(data, 4).unwrap_or(0)),
            u32::from(u16_at(data, 6).unwrap_or(0)),
        ),
        14 | 16 => (
            u32_at(data, 0).unwrap_or(0),
            u32_at(data, 4).unwrap_or(0),
            u32::from(u16_at(data, 8).unwrap_or(0)),
            u32::from(u16_at(data, 10).unwrap_or(0)),
        ),
        _ => return 0,
    };
    let first_col = if first_col > 0xFF || last_col < first_col {
        0
    } else {
        first_col
    };
    if last_row == 0 || last_col == 0 {
        return 1;
    }
    let rows = (last_row - 1).wrapping_sub(first_row).wrapping_add(1);
    let cols = (last_col - 1).wrapping_sub(first_col).wrapping_add(1);
    u64::from(rows).saturating_mul(u64::from(cols))
}

/// Most bytes of UTF-8 calamine makes of text, by the code page it decodes with. In UTF-16 (code
/// page 1200, what Excel writes) a one-byte character becomes at most two bytes and a two-byte
/// one three. In any other code page calamine decodes a one-byte character padded with a NUL to
/// two bytes, each of which may become three, and a two-byte character as two such bytes.
#[derive(Clone, Copy)]
struct TextWidths {
    narrow: u64,
    wide: u64,
    /// Per byte of a string read as it lies.
    per_byte: u64,
}

impl Default for TextWidths {
    fn default() -> Self {
        Self::of(Some(1200))
    }
}

impl TextWidths {
    fn of(codepage: Option<u16>) -> Self {
        if codepage == Some(1200) {
            Self {
                narrow: 2,
                wide: 3,
                per_byte: 2,
            }
        } else {
            Self {
                narrow: 4,
                wide: 6,
                per_byte: 4,
            }
        }
    }

    /// Bytes of text an `XLUnicodeString` (a LABEL's, a STRING's) takes: calamine reserves its
    /// declared length, then decodes what the record holds.
    fn string(self, data: &[u8]) -> u64 {
        let declared = u64::from(u16_at(data, 0).unwrap_or(0));
        let held = data.len().saturating_sub(2) as u64;
        declared.max(self.per_byte * held.min(2 * declared))
    }
}

/// The first and last row and column holding a cell, and the cells parsed since last taken.
#[derive(Default)]
struct Extent {
    bounds: Option<((u32, u32), (u32, u32))>,
    parsed: u64,
}

impl Extent {
    fn add(&mut self, (row, col): (u32, u32), parsed: u64) {
        let ((top, left), (bottom, right)) = self.bounds.unwrap_or(((row, col), (row, col)));
        self.bounds = Some((
            (top.min(row), left.min(col)),
            (bottom.max(row), right.max(col)),
        ));
        self.parsed += parsed;
    }

    fn take(&mut self) -> u64 {
        std::mem::take(&mut self.parsed)
    }

    /// The cells calamine lays the extent out in.
    fn laid_out(&self) -> u64 {
        self.bounds.map_or(0, |((top, left), (bottom, right))| {
            u64::from(bottom - top + 1) * u64::from(right - left + 1)
        })
    }
}

/// The strings of an SST record and its CONTINUE records, each an `XLUnicodeRichExtendedString`.
struct SharedStrings<'a, I> {
    data: &'a [u8],
    continues: I,
    widths: TextWidths,
}

impl<'a, I: Iterator<Item = &'a [u8]>> SharedStrings<'a, I> {
    /// The bytes of text the next string takes, `None` after the last.
    fn next_string(&mut self) -> Result<Option<u64>, FileError> {
        if self.data.is_empty() {
            match self.continues.next() {
                Some(more) => self.data = more,
                None => return Ok(None),
            }
            if self.data.is_empty() {
                return Ok(Some(0));
            }
        }
        let broken = || FileError::Unreadable("the XLS shared strings are cut short".to_owned());
        let declared = usize::from(u16_at(self.data, 0).ok_or_else(broken)?);
        let flags = *self.data.get(2).ok_or_else(broken)?;
        self.data = &self.data[3..];
        let mut runs = 0usize;
        if flags & 0x8 != 0 {
            runs = usize::from(u16_at(self.data, 0).ok_or_else(broken)?);
            self.data = &self.data[2..];
        }
        let mut extension = 0usize;
        if flags & 0x4 != 0 {
            extension = u32_at(self.data, 0).ok_or_else(broken)? as usize;
            self.data = &self.data[4..];
        }
        let (mut left, mut wide, mut text) = (declared, flags & 0x1 != 0, 0u64);
        while left > 0 {
            let width = if wide { 2 } else { 1 };
            let taken = left.min(self.data.len() / width);
            self.data = &self.data[taken * width..];
            let per_char = if wide {
                self.widths.wide
            } else {
                self.widths.narrow
            };
            text += taken as u64 * per_char;
            left -= taken;
            if left > 0 {
                let more = self.continues.next().ok_or_else(broken)?;
                wide = *more.first().ok_or_else(broken)? & 0x1 != 0;
                self.data = &more[1..];
            }
        }
        self.skip(runs * 4 + extension).ok_or_else(broken)?;
        Ok(Some(text.max(declared as u64)))
    }

    fn skip(&mut self, mut bytes: usize) -> Option<()> {
        while bytes > 0 {
            if self.data.is_empty() {
                self.data = self.continues.next()?;
            }
            let taken = bytes.min(self.data.len());
            self.data = &self.data[taken..];
            bytes -= taken;
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::{
        MAX_SHEET_TEXT_BYTES, Rows,
        fixtures::{biff, compound_file, label_sst, number, sst, xls, xls_rows, xls_stream},
    };

    fn read(file: Vec<u8>) -> Result<Vec<Vec<String>>, FileError> {
        let rows = Rows::read(Cursor::new(file), "users.xls")?;
        let mut read = vec![rows.headers.clone()];
        read.extend(
            rows.map(|row| row.map(|r| r.cells))
                .collect::<Result<Vec<_>, _>>()?,
        );
        Ok(read)
    }

    /// A FORMULA record at `row`, `col` whose cached value is `value` and whose tokens are `=value`.
    fn formula(row: u16, col: u16, value: f64) -> Vec<u8> {
        let tokens = [0x1Fu8].into_iter().chain(value.to_le_bytes());
        let mut data = [
            &row.to_le_bytes()[..],
            &col.to_le_bytes(),
            &0u16.to_le_bytes(),
        ]
        .concat();
        data.extend(value.to_le_bytes());
        data.extend([0u8; 6]);
        data.extend(9u16.to_le_bytes());
        data.extend(tokens);
        biff(FORMULA, &data)
    }

    #[test]
    fn an_xls_sheet_reads_its_shared_strings_numbers_and_formula_values() {
        let header = xls_rows(&[&["Email", "Prénom"], &["zoe@example.com", "Zoë"]]);
        assert_eq!(
            read(header).unwrap(),
            [["Email", "Prénom"], ["zoe@example.com", "Zoë"]]
        );

        let cells = [
            label_sst(0, 0, 0),
            label_sst(0, 1, 1),
            number(1, 0, 7.0),
            formula(1, 1, 42.0),
        ]
        .concat();
        let file = xls(&sst(&["Badge", "Floor"]), &[&cells]);
        assert_eq!(read(file).unwrap(), [["Badge", "Floor"], ["7", "42"]]);
    }

    #[test]
    fn an_xls_file_written_by_xlwt_reads_its_first_sheet() {
        // testdata/make_people_xls.py wrote it; xlwt keeps no value beside a formula, and a date
        // reads as its serial number, as calamine reads the upload itself.
        let file = include_bytes!("../testdata/people.xls").to_vec();
        assert_eq!(
            read(file).unwrap(),
            [
                ["Vorname", "Nachname", "E-Mail", "Telefon", "CSV_EHBO"],
                [
                    "Jürgen",
                    "Groß",
                    "juergen@example.com",
                    "+49 30 1234567",
                    "1"
                ],
                ["Zoë", "Lefèvre", "zoe@example.com", "", "0"],
                ["李", "小龙", "li@example.com", "", ""],
                ["46348", "", "", "", ""],
            ]
        );
    }

    #[test]
    fn xls_files_calamine_would_blow_up_on_are_refused_before_it_reads_them() {
        let first = [label_sst(0, 0, 0), label_sst(1, 0, 0)].concat();
        let header = sst(&["Email"]);
        let refused = |sheets: &[&[u8]]| read(xls(&header, sheets)).unwrap_err();
        // The first sheet alone is fine.
        assert_eq!(
            read(xls(&header, &[&first])).unwrap(),
            [["Email"], ["Email"]]
        );

        let far_apart = [number(0, 0, 1.0), number(2_000, 2_000, 1.0)].concat();
        let laid_out = refused(&[&first, &far_apart]);
        assert!(matches!(laid_out, FileError::TooLarge(_)), "{laid_out:?}");

        let mut dimensions = 0u32.to_le_bytes().to_vec();
        dimensions.extend(20_001u32.to_le_bytes());
        dimensions.extend([0, 0, 151, 0, 0, 0]);
        let reserved = refused(&[&first, &biff(DIMENSIONS, &dimensions)]);
        assert!(matches!(reserved, FileError::TooLarge(_)), "{reserved:?}");

        let long = "長".repeat(8_000);
        let copies = (MAX_SHEET_TEXT_BYTES / (3 * 8_000)) as u16 + 1;
        let shown: Vec<u8> = (0..copies).flat_map(|row| label_sst(row, 0, 1)).collect();
        let text = read(xls(&sst(&["Email", &long]), &[&first, &shown])).unwrap_err();
        assert!(matches!(text, FileError::TooLarge(_)), "{text:?}");

        let mut continued = biff(0x0001, &[0; 8]);
        for _ in 0..=MAX_CONTINUES {
            continued.extend(biff(CONTINUE, &[0; 4]));
        }
        let continues = refused(&[&first, &continued]);
        assert!(
            matches!(continues, FileError::Unreadable(_)),
            "{continues:?}"
        );
    }

    #[test]
    fn an_xls_file_whose_sheets_overlap_is_unreadable() {
        // Sheet list entries that all point at the globals: calamine walks them once each.
        let mut entry = 0u32.to_le_bytes().to_vec();
        entry.extend([0, 0, 1, 0, b'x']);
        let entries: Vec<u8> = (0..1_000).flat_map(|_| biff(BOUNDSHEET, &entry)).collect();
        let cells = label_sst(0, 0, 0);
        let globals = [sst(&["Email"]), entries].concat();
        let overlap = read(xls(&globals, &[&cells])).unwrap_err();
        assert!(
            overlap.to_string().contains("sheets overlap"),
            "{overlap:?}"
        );
    }

    #[test]
    fn an_xls_sheet_that_starts_inside_another_is_unreadable() {
        let sheet = [number(0, 0, 1.0), number(1, 0, 2.0)].concat();
        let placeholder = biff(BOUNDSHEET, &[0xAB, 0xAB, 0xAB, 0xAB, 0, 0, 1, 0, b'B']);
        let globals = [sst(&["Email"]), placeholder.clone()].concat();
        let mut stream = xls_stream(&globals, &[&sheet]);
        // The first sheet-list entry follows the globals' BOF record (20 bytes).
        let sheet_at = u32_at(&stream, 24).unwrap();
        let second_number = sheet_at + 20 + number(0, 0, 1.0).len() as u32;
        let entry = stream
            .windows(placeholder.len())
            .position(|window| window == placeholder)
            .unwrap();
        stream[entry + 4..entry + 8].copy_from_slice(&second_number.to_le_bytes());
        let refused = read(compound_file(&stream)).unwrap_err();
        assert!(
            refused.to_string().contains("sheets overlap"),
            "{refused:?}"
        );
    }

    #[test]
    fn calamine_reads_each_formula_without_its_tokens() {
        let sheet = [label_sst(0, 0, 0), formula(1, 0, 42.0)].concat();
        let file = xls(&sst(&["Badge"]), &[&sheet]);
        let checked = checked_workbook(Cursor::new(file)).unwrap();
        let stream = workbook_stream(Cursor::new(checked)).unwrap();
        let formula = Records {
            stream: &stream,
            start: 0,
        }
        .map(Result::unwrap)
        .find(|record| record.typ == FORMULA)
        .unwrap();
        assert_eq!(u16_at(formula.data, FORMULA_TOKENS_AT), Some(0));
        assert_eq!(formula.data[6..14], 42.0f64.to_le_bytes());
    }

    #[test]
    fn an_xls_file_that_lists_its_sector_table_over_and_over_is_unreadable() {
        let mut file = xls(&sst(&["Email"]), &[&label_sst(0, 0, 0)]);
        // Sector 1, named as a sector-table sector by every entry (cfb trims trailing zeros).
        let table = 1u32;
        let first_extra = (file.len() / 512 - 1) as u32;
        for index in 0..8 {
            let next = if index == 7 {
                END_OF_CHAIN
            } else {
                first_extra + index + 1
            };
            let sector: Vec<u8> = std::iter::repeat_n(table, 127)
                .chain([next])
                .flat_map(u32::to_le_bytes)
                .collect();
            file.extend(sector);
        }
        for entry in 0..HEADER_DIFAT_ENTRIES {
            file[76 + 4 * entry..80 + 4 * entry].copy_from_slice(&table.to_le_bytes());
        }
        file[68..72].copy_from_slice(&first_extra.to_le_bytes());
        file[72..76].copy_from_slice(&8u32.to_le_bytes());
        let refused = read(file).unwrap_err();
        assert!(
            refused.to_string().contains("sector-table sectors"),
            "{refused:?}"
        );
    }

    #[test]
    fn an_xls_workbook_over_the_size_limit_is_refused() {
        let filler = biff(0x0001, &[0; 8_000]);
        let records = (MAX_XLS_STREAM_BYTES as usize / filler.len()) + 1;
        let big = filler.repeat(records);
        let refused = read(xls(&sst(&["Email"]), &[&label_sst(0, 0, 0), &big])).unwrap_err();
        assert!(matches!(refused, FileError::TooLarge(_)), "{refused:?}");
    }

    #[test]
    fn an_xls_file_whose_directory_chain_loops_is_unreadable() {
        let file = compound_file(&xls_stream(&sst(&["Email"]), &[&label_sst(0, 0, 0)]));
        // A version 3 compound file: 512-byte sectors after the header; the header says where
        // the directory starts and which sector holds the FAT.
        let sector = |id: u32| 512 + id as usize * 512;
        let directory = u32::from_le_bytes(file[48..52].try_into().unwrap());
        let fat = u32::from_le_bytes(file[76..80].try_into().unwrap());
        let mut looped = file.clone();
        let entry = sector(fat) + directory as usize * 4;
        looped[entry..entry + 4].copy_from_slice(&directory.to_le_bytes());
        let refused = read(looped).unwrap_err();
        assert!(matches!(refused, FileError::Unreadable(_)), "{refused:?}");
    }
}
