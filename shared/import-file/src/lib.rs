//! Reading a user list from an uploaded file: which format it is (by content, not by name), its
//! text encoding and delimiter for CSV, size limits for zip-based spreadsheets, and its rows as
//! strings. CSV is streamed row by row; spreadsheets are read through calamine (first sheet) after
//! their zip directory passed the limits, and held whole within the sheet limits.
//!
//! calamine trusts the files it reads. What this crate checks before calamine expands anything: a
//! zip's directory, an XLSX sheet's cells as they stream, an ODS file's `content.xml`
//! (`ods.rs`), an XLS file's compound file and records (`xls.rs`, which hands calamine a copy it
//! made). A panic inside calamine fails the file as unreadable.
//!
//! Everything reads from a `Read + Seek` source and seeks back to its start for each pass: the
//! import opens its local copy of the file (`Rows::open`, memory flat in the file's size), the
//! fuzz target reads bytes in memory (`Rows::read` over a `Cursor`).

#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
mod ods;
mod xls;
mod xlsx;

pub use xls::MAX_XLS_STREAM_BYTES;

use std::{
    fs::File,
    io::{BufReader, Cursor, Read, Seek},
    panic::{self, AssertUnwindSafe},
    path::Path,
};

use calamine::{Cell, Data, DataRef, Range, Reader};
use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, UTF_8};
use encoding_rs_io::DecodeReaderBytesBuilder;

/// Most entries a zip-based spreadsheet may have.
pub const MAX_ZIP_ENTRIES: usize = 1_000;
/// Most bytes a zip-based spreadsheet may expand to.
pub const MAX_UNCOMPRESSED_BYTES: u64 = 256 * 1024 * 1024;
/// Most columns a header may have: the import stops on a wider one before reading any row.
pub const MAX_COLUMNS: usize = 100;
/// Most cells a spreadsheet's first sheet may span, from its first to its last row and column that
/// hold anything: calamine holds a sheet whole, every cell of that range (and every sheet of an
/// ODS file, which count together).
pub const MAX_SHEET_CELLS: u64 = 2_000_000;
/// Most bytes one CSV row may span (its text, delimiters and quotes): what a reader holds at once,
/// so a quote that is never closed cannot pull the rest of a large file into memory.
pub const MAX_CSV_ROW_BYTES: u64 = 1024 * 1024;
/// Most bytes of text the cells of a spreadsheet's first sheet may hold (of every sheet, for ODS),
/// a shared string or a repeated cell counted once for each cell that shows it.
pub const MAX_SHEET_TEXT_BYTES: u64 = 32 * 1024 * 1024;

const SUPPORTED: &str = "CSV (UTF-8, UTF-16 or a Windows code page such as 1252; comma, \
     semicolon or tab), XLSX, XLS or ODS";

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("the file cannot be read: {0}")]
    Unreadable(String),
    #[error("the file has no header row")]
    Empty,
    #[error("reading the local copy: {0}")]
    Io(#[from] std::io::Error),
}

impl FileError {
    /// The code the import's failure carries.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unsupported(_) => "unsupported_format",
            Self::TooLarge(_) => "file_too_large",
            Self::Unreadable(_) | Self::Io(_) => "unreadable_file",
            Self::Empty => "empty_file",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    Xls,
    Ods,
}

const OLE2_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Decides the format from the file's first bytes (and, for zips, its directory), whatever its
/// name says; only an Apple Numbers name is refused by name. Reads `source` from its start.
pub fn sniff<R: Read + Seek>(source: &mut R, file_name: &str) -> Result<Format, FileError> {
    source.rewind()?;
    let mut head = Vec::with_capacity(OLE2_MAGIC.len());
    source
        .by_ref()
        .take(OLE2_MAGIC.len() as u64)
        .read_to_end(&mut head)?;
    if file_name.to_lowercase().ends_with(".numbers") {
        return Err(unsupported("Apple Numbers files"));
    }
    if head.starts_with(&OLE2_MAGIC) {
        return Ok(Format::Xls);
    }
    if head.starts_with(b"PK\x03\x04") {
        return zip_format(source);
    }
    Ok(Format::Csv)
}

fn unsupported(what: &str) -> FileError {
    FileError::Unsupported(format!(
        "{what} cannot be imported; export the list as {SUPPORTED}"
    ))
}

/// Checks a zip's directory against the limits, then tells XLSX from ODS (and refuses others).
fn zip_format<R: Read + Seek>(source: &mut R) -> Result<Format, FileError> {
    source.rewind()?;
    let mut archive = zip::ZipArchive::new(BufReader::new(source))
        .map_err(|e| FileError::Unreadable(format!("broken zip: {e}")))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(FileError::TooLarge(format!(
            "the spreadsheet has {} parts; at most {MAX_ZIP_ENTRIES} are accepted",
            archive.len()
        )));
    }
    let mut expanded: u64 = 0;
    let mut names = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let entry = archive
            .by_index_raw(index)
            .map_err(|e| FileError::Unreadable(format!("broken zip: {e}")))?;
        expanded = expanded.saturating_add(entry.size());
        let name = entry
            .name()
            .map_err(|e| FileError::Unreadable(format!("broken zip: {e}")))?;
        names.push(name.into_owned());
    }
    if expanded > MAX_UNCOMPRESSED_BYTES {
        return Err(FileError::TooLarge(format!(
            "the spreadsheet expands to {expanded} bytes; at most {MAX_UNCOMPRESSED_BYTES} are accepted"
        )));
    }
    let has = |name: &str| names.iter().any(|n| n == name);
    if has("xl/workbook.xml") {
        return Ok(Format::Xlsx);
    }
    if has("Index/Document.iwa") || has("Index.zip") {
        return Err(unsupported("Apple Numbers files"));
    }
    if has("mimetype") {
        let mut mimetype = String::new();
        archive
            .by_name("mimetype")
            .map_err(|e| FileError::Unreadable(e.to_string()))?
            .take(100)
            .read_to_string(&mut mimetype)
            .map_err(|e| FileError::Unreadable(e.to_string()))?;
        if mimetype.trim() == "application/vnd.oasis.opendocument.spreadsheet" {
            return Ok(Format::Ods);
        }
    }
    Err(unsupported("This zip file"))
}

/// Rows as they are read, each with its place in the file (1-based, counting every row, blank
/// ones too) and its cells.
type RowIter = Box<dyn Iterator<Item = Result<(u64, Vec<String>), FileError>> + Send>;

/// A data row of a user list and where it is in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Counts the rows after the header from 1, blank ones included: the row a spreadsheet shows
    /// it on, less the header's row.
    pub number: u64,
    pub cells: Vec<String>,
}

/// The rows of a user list: its header, then the data rows that are not blank.
pub struct Rows {
    pub headers: Vec<String>,
    rows: RowIter,
    /// The header's place in the file.
    header_place: u64,
}

impl Iterator for Rows {
    type Item = Result<Row, FileError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.rows.next()? {
                Ok((_, cells)) if blank(&cells) => continue,
                Ok((place, cells)) => {
                    return Some(Ok(Row {
                        number: place - self.header_place,
                        cells,
                    }));
                }
                Err(error) => return Some(Err(error)),
            }
        }
    }
}

impl Rows {
    /// Opens the file at `path` (named `file_name` by whoever uploaded it) and reads it as
    /// [`Rows::read`] does.
    pub fn open(path: &Path, file_name: &str) -> Result<Self, FileError> {
        Self::read(File::open(path)?, file_name)
    }

    /// The user list in `source` (named `file_name` by whoever uploaded it), read from its start:
    /// the first row that is not blank is the header, ending at its last cell that is not blank
    /// (a spreadsheet pads it to its widest row, an export may pad it with delimiters), and the
    /// rows that follow are its data rows, less the blank ones (a row is blank when every cell is
    /// empty or whitespace).
    pub fn read<R>(mut source: R, file_name: &str) -> Result<Self, FileError>
    where
        R: Read + Seek + Send + 'static,
    {
        let mut rows: RowIter = match sniff(&mut source, file_name)? {
            Format::Csv => csv_rows(source)?,
            Format::Xlsx => sheet_rows(source, xlsx_sheet)?,
            Format::Xls => sheet_rows(source, xls_sheet)?,
            Format::Ods => sheet_rows(source, ods_sheet)?,
        };
        let (header_place, mut headers) = loop {
            match rows.next() {
                Some(Ok((_, cells))) if blank(&cells) => continue,
                Some(header) => break header?,
                None => return Err(FileError::Empty),
            }
        };
        let named = headers.len()
            - headers
                .iter()
                .rev()
                .take_while(|h| h.trim().is_empty())
                .count();
        headers.truncate(named);
        Ok(Self {
            headers,
            rows,
            header_place,
        })
    }
}

fn blank(row: &[String]) -> bool {
    row.iter().all(|cell| cell.trim().is_empty())
}

/// How much of a CSV file decides its encoding and delimiter.
const SNIFF_BYTES: usize = 64 * 1024;
/// How much of a file that is not UTF-8, from its start, decides which code page it is in.
const CODE_PAGE_SNIFF_BYTES: usize = 1024 * 1024;

/// UTF-8 when the file is UTF-8 but for a few stray bytes (fewer than half as many as its
/// characters beyond ASCII: a cell pasted from another system, an export that cut a character
/// in half; each reads as U+FFFD, which refuses its row's cell), checked in one streaming pass so
/// that an accent deep in a Windows file is not misread. Else the legacy code page its bytes
/// point to, guessed as browsers guess (chardetng): Windows-1252 for Western text, 1250, 1251 or
/// 1254 for Central European, Cyrillic or Turkish, Shift_JIS or GBK for Japanese or Chinese, as
/// Excel saves "CSV" in those languages. A BOM (UTF-8, UTF-16LE/BE) overrides both.
fn text_encoding<R: Read + Seek>(source: &mut R) -> Result<&'static Encoding, FileError> {
    source.rewind()?;
    let mut file = BufReader::new(source);
    let mut carried = Vec::new();
    let mut buffer = vec![0u8; SNIFF_BYTES];
    let (mut beyond_ascii, mut stray) = (0usize, 0usize);
    // The first bytes of characters beyond ASCII in valid UTF-8.
    let leads = |bytes: &[u8]| bytes.iter().filter(|b| **b >= 0xC0).count();
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            // A character cut off by the end of the file.
            stray += usize::from(!carried.is_empty());
            break;
        }
        carried.extend_from_slice(&buffer[..read]);
        let mut start = 0;
        loop {
            match std::str::from_utf8(&carried[start..]) {
                Ok(text) => {
                    beyond_ascii += leads(text.as_bytes());
                    start = carried.len();
                    break;
                }
                Err(error) => {
                    let valid = error.valid_up_to();
                    beyond_ascii += leads(&carried[start..start + valid]);
                    start += valid;
                    match error.error_len() {
                        // A character cut off where this read ended: its bytes go with the next.
                        None => break,
                        Some(bytes) => {
                            stray += 1;
                            start += bytes;
                        }
                    }
                }
            }
        }
        carried.drain(..start);
    }
    if stray == 0 || beyond_ascii >= 2 * stray {
        Ok(UTF_8)
    } else {
        code_page(&mut file, &mut buffer)
    }
}

/// The code page of a file that is not UTF-8, judged (as chardetng expects, from its start) on
/// up to [`CODE_PAGE_SNIFF_BYTES`].
fn code_page(
    file: &mut (impl Read + Seek),
    buffer: &mut [u8],
) -> Result<&'static Encoding, FileError> {
    file.rewind()?;
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    let mut fed = 0;
    while fed < CODE_PAGE_SNIFF_BYTES {
        let read = file.read(buffer)?;
        if read == 0 {
            break;
        }
        detector.feed(&buffer[..read], false);
        fed += read;
    }
    Ok(detector.guess(None, Utf8Detection::Deny))
}

/// The one of `,` `;` tab that occurs most in the first line outside quotes (`,` on a tie).
fn delimiter(first_line: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for c in first_line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => counts[0].1 += 1,
            ';' if !quoted => counts[1].1 += 1,
            '\t' if !quoted => counts[2].1 += 1,
            _ => {}
        }
    }
    counts
        .iter()
        .rev()
        .max_by_key(|(_, count)| *count)
        .filter(|(_, count)| *count > 0)
        .map_or(b',', |(d, _)| *d)
}

/// The text of `source` from its start, in `encoding` unless a BOM names another.
fn decoded<R: Read + Seek + Send>(
    mut source: R,
    encoding: &'static Encoding,
) -> Result<impl Read + Send + use<R>, FileError> {
    source.rewind()?;
    Ok(DecodeReaderBytesBuilder::new()
        .encoding(Some(encoding))
        .bom_override(true)
        .build(BufReader::new(source)))
}

fn csv_rows<R: Read + Seek + Send + 'static>(mut source: R) -> Result<RowIter, FileError> {
    source.rewind()?;
    let mut sample = Vec::with_capacity(SNIFF_BYTES);
    source
        .by_ref()
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut sample)?;
    let utf16 = sample.starts_with(&[0xFF, 0xFE]) || sample.starts_with(&[0xFE, 0xFF]);
    if !utf16 && sample.contains(&0) {
        return Err(unsupported("This binary file"));
    }
    let encoding = if utf16 {
        UTF_8
    } else {
        text_encoding(&mut source)?
    };
    // The sample decoded as a whole; a character cut off at its end only spoils text after the
    // first line.
    let head = match Encoding::for_bom(&sample) {
        Some((with_bom, _)) => with_bom.decode_with_bom_removal(&sample).0,
        None => encoding.decode_without_bom_handling(&sample).0,
    };
    // The header row is the first that is not blank, and so is the line that names the
    // delimiter.
    let first_line = head
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or_default();
    let delimiter = delimiter(first_line);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(QuoteGuard::new(decoded(source, encoding)?, delimiter));
    let mut record = csv::StringRecord::new();
    let mut failed = false;
    Ok(Box::new(std::iter::from_fn(move || {
        // The first error ends the rows: what follows a broken row is not the file's.
        if failed {
            return None;
        }
        match reader.read_record(&mut record) {
            Ok(false) => None,
            Ok(true) => {
                let place = reader.get_mut().rows_read.pop_front().unwrap_or_default();
                Some(Ok((place, record.iter().map(str::to_owned).collect())))
            }
            Err(error) => {
                failed = true;
                Some(Err(csv_error(error)))
            }
        }
    })))
}

/// A CSV error as the file's (`Unreadable`), but for a failed read of the copy itself (`Io`).
fn csv_error(error: csv::Error) -> FileError {
    let message = error.to_string();
    match error.into_kind() {
        csv::ErrorKind::Io(error)
            if !error.get_ref().is_some_and(|inner| inner.is::<BrokenCsv>()) =>
        {
            FileError::Io(error)
        }
        _ => FileError::Unreadable(message),
    }
}

/// What a [`QuoteGuard`] found wrong with the text.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BrokenCsv(String);

/// Where a [`QuoteGuard`] is in the CSV text, as the csv crate reads it (RFC 4180 with `""` for
/// a quote inside quotes; a quote that does not open a cell is an ordinary character).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CsvState {
    CellStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted cell: it closes the cell unless another quote follows.
    QuoteInQuoted,
}

/// Passes decoded CSV text through and follows its quoting, failing the read (an `InvalidData`
/// error naming the line) when one row spans more than [`MAX_CSV_ROW_BYTES`] or the text ends
/// inside a quoted cell. Without it a quote that is never closed makes the rest of the file one
/// cell: a large file read into memory, or the people after it silently missing from the import.
///
/// It also tells each record's place among the file's rows, which the csv crate cannot: the
/// crate passes over empty lines, which a spreadsheet shows as rows.
struct QuoteGuard<R> {
    inner: R,
    delimiter: u8,
    state: CsvState,
    /// Line of the text being read (1-based; `\r\n`, `\n` and a lone `\r` end a line).
    line: u64,
    after_cr: bool,
    /// Line where the row being read started, and where its open quote is.
    row_line: u64,
    quote_line: u64,
    row_bytes: u64,
    /// Place of the row being read among the rows (1-based): as lines, but a line break inside
    /// quotes does not end a row.
    row: u64,
    /// Whether the row being read holds anything, which makes it a record of the csv crate's.
    row_started: bool,
    /// The places of the records read through so far that the csv crate has not yet answered
    /// (it reads ahead by its buffer).
    rows_read: std::collections::VecDeque<u64>,
}

impl<R> QuoteGuard<R> {
    fn new(inner: R, delimiter: u8) -> Self {
        Self {
            inner,
            delimiter,
            state: CsvState::CellStart,
            line: 1,
            after_cr: false,
            row_line: 1,
            quote_line: 1,
            row_bytes: 0,
            row: 1,
            row_started: false,
            rows_read: std::collections::VecDeque::new(),
        }
    }

    /// The row being read ends (at a line break outside quotes, or at the text's end).
    fn end_row(&mut self) {
        if self.row_started {
            self.rows_read.push_back(self.row);
        }
        self.row += 1;
        self.row_started = false;
    }

    fn follow(&mut self, byte: u8) {
        let ends_row = matches!(byte, b'\n' | b'\r');
        self.state = match (self.state, byte) {
            (CsvState::Quoted, b'"') => CsvState::QuoteInQuoted,
            (CsvState::Quoted, _) | (CsvState::QuoteInQuoted, b'"') => CsvState::Quoted,
            (CsvState::CellStart, b'"') => {
                self.quote_line = self.line;
                CsvState::Quoted
            }
            (_, byte) if byte == self.delimiter || ends_row => CsvState::CellStart,
            _ => CsvState::Unquoted,
        };
        let crlf = byte == b'\n' && self.after_cr;
        if byte == b'\r' || (byte == b'\n' && !crlf) {
            self.line += 1;
        }
        self.after_cr = byte == b'\r';
        if ends_row && self.state == CsvState::CellStart {
            if !crlf {
                self.end_row();
            }
            self.row_bytes = 0;
            self.row_line = self.line;
        } else {
            self.row_started = true;
            self.row_bytes += 1;
        }
    }

    fn broken(&self, what: String) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, BrokenCsv(what))
    }
}

impl<R: Read> Read for QuoteGuard<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        if read == 0 && !buffer.is_empty() && self.state != CsvState::Quoted {
            self.end_row();
        }
        if read == 0 && !buffer.is_empty() && self.state == CsvState::Quoted {
            return Err(self.broken(format!(
                "the quote opened on line {} is never closed, so every line after it would be one \
                 cell; close it or remove it",
                self.quote_line
            )));
        }
        for &byte in &buffer[..read] {
            self.follow(byte);
            if self.row_bytes > MAX_CSV_ROW_BYTES {
                return Err(self.broken(format!(
                    "the row starting on line {} is longer than {MAX_CSV_ROW_BYTES} bytes{}",
                    self.row_line,
                    if self.state == CsvState::Quoted {
                        format!(" (is the quote opened on line {} closed?)", self.quote_line)
                    } else {
                        String::new()
                    }
                )));
            }
        }
        Ok(read)
    }
}

/// A spreadsheet cell as the text a person typed: whole numbers without `.0`, booleans as 1/0.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) => text.clone(),
        Data::Float(value) if value.fract() == 0.0 && value.abs() < 1e15 => {
            format!("{}", *value as i64)
        }
        Data::Float(value) => value.to_string(),
        Data::Int(value) => value.to_string(),
        Data::Bool(value) => if *value { "1" } else { "0" }.to_owned(),
        Data::DateTime(value) => value.to_string(),
        Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
        // As Excel shows it, and writes it into a CSV: the row refuses it (`formula_error`).
        Data::Error(error) => error.to_string(),
    }
}

/// The first sheet's rows, read whole (calamine's readers hold a sheet whole) by `read_sheet`.
///
/// calamine panics on some malformed workbooks (a cell naming a shared string the workbook lacks):
/// such a panic is the file's fault, so it fails the import as `Unreadable`, as calamine's errors
/// do, rather than ending the process that runs the import. Catching it needs panics to unwind,
/// which every profile of the workspace has them do.
fn sheet_rows<R>(
    source: R,
    read_sheet: fn(R) -> Result<Vec<Vec<String>>, FileError>,
) -> Result<RowIter, FileError> {
    let rows = panic::catch_unwind(AssertUnwindSafe(|| read_sheet(source)))
        .map_err(|_| FileError::Unreadable("the spreadsheet is malformed".to_owned()))??;
    Ok(Box::new(
        rows.into_iter()
            .zip(1..)
            .map(|(row, place)| Ok((place, row))),
    ))
}

fn unreadable(error: impl std::fmt::Display) -> FileError {
    FileError::Unreadable(error.to_string())
}

/// The first sheet of an XLSX workbook: its cells stream and are checked against the sheet limits
/// as they come, and are laid out as a range (every cell from the first to the last row and column
/// that hold anything, as calamine's own reading does) once that range is within them.
fn xlsx_sheet<R: Read + Seek>(mut source: R) -> Result<Vec<Vec<String>>, FileError> {
    xlsx::check_shared_strings(&mut source)?;
    source.rewind()?;
    let mut workbook = calamine::Xlsx::new(BufReader::new(source)).map_err(unreadable)?;
    let name = workbook
        .sheet_names()
        .into_iter()
        .next()
        .ok_or(FileError::Empty)?;
    let mut cells = match workbook.worksheet_cells_reader(&name) {
        Ok(cells) => cells,
        // As calamine's own range reading does: a chart sheet has no cells.
        Err(calamine::XlsxError::NotAWorksheet(_)) => return Ok(Vec::new()),
        Err(error) => return Err(unreadable(error)),
    };
    let mut filled = Vec::new();
    let mut text = 0;
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        if *cell.get_value() == DataRef::Empty {
            continue;
        }
        let value = Data::from(cell.get_value().clone());
        text += text_len(&value);
        // The range spans at least the cells that hold something.
        check_sheet_limits(filled.len() as u64 + 1, text)?;
        filled.push(Cell::new(cell.get_position(), value));
    }
    let extent = |axis: fn((u32, u32)) -> u32| {
        let along = filled.iter().map(|cell| axis(cell.get_position()));
        match (along.clone().min(), along.max()) {
            (Some(first), Some(last)) => u64::from(last - first) + 1,
            _ => 0,
        }
    };
    let span = extent(|(row, _)| row) * extent(|(_, column)| column);
    check_sheet_limits(span, text)?;
    Ok(range_rows(&Range::from_sparse(filled)))
}

/// The first sheet of an ODS spreadsheet, once its content passed the checks of [`ods`].
fn ods_sheet<R: Read + Seek>(mut source: R) -> Result<Vec<Vec<String>>, FileError> {
    ods::check_content(&mut source)?;
    first_sheet::<calamine::Ods<_>, _>(source)
}

/// The first sheet of an XLS workbook, read from the copy [`xls::checked_workbook`] makes.
fn xls_sheet<R: Read + Seek>(source: R) -> Result<Vec<Vec<String>>, FileError> {
    let workbook = xls::checked_workbook(source)?;
    first_sheet::<calamine::Xls<_>, _>(Cursor::new(workbook))
}

/// The first sheet of an XLS or ODS workbook, which calamine reads whole when it opens one, once
/// the workbook passed the checks of its format.
fn first_sheet<S, R>(mut source: R) -> Result<Vec<Vec<String>>, FileError>
where
    S: Reader<BufReader<R>>,
    S::Error: std::fmt::Display,
    R: Read + Seek,
{
    source.rewind()?;
    let mut workbook = S::new(BufReader::new(source)).map_err(unreadable)?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or(FileError::Empty)?
        .map_err(unreadable)?;
    let text = range.used_cells().map(|(_, _, cell)| text_len(cell)).sum();
    check_sheet_limits((range.width() * range.height()) as u64, text)?;
    Ok(range_rows(&range))
}

/// The rows of a sheet's range, blank ones included.
fn range_rows(range: &Range<Data>) -> Vec<Vec<String>> {
    range
        .rows()
        .map(|row| row.iter().map(cell_text).collect::<Vec<_>>())
        .collect()
}

/// Bytes of text a cell holds (a shared string once for each cell that shows it).
fn text_len(cell: &Data) -> u64 {
    match cell {
        Data::String(text) | Data::DateTimeIso(text) | Data::DurationIso(text) => text.len() as u64,
        _ => 0,
    }
}

/// `span`: the cells calamine lays a spreadsheet out in (for a sheet, from its first to its last
/// row and column that hold anything); `text`: bytes of text in them.
fn check_sheet_limits(span: u64, text: u64) -> Result<(), FileError> {
    if span > MAX_SHEET_CELLS {
        return Err(FileError::TooLarge(format!(
            "the spreadsheet spans more than {MAX_SHEET_CELLS} cells; at most that many are accepted"
        )));
    }
    if text > MAX_SHEET_TEXT_BYTES {
        return Err(FileError::TooLarge(format!(
            "the spreadsheet holds more than {MAX_SHEET_TEXT_BYTES} bytes of text; at most that \
             many are accepted"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use encoding_rs::WINDOWS_1252;

    use super::*;

    #[test]
    fn the_delimiter_is_the_most_frequent_separator_outside_quotes() {
        assert_eq!(delimiter("a,b,c"), b',');
        assert_eq!(delimiter("Vorname;Nachname;E-Mail"), b';');
        assert_eq!(delimiter("a\tb\tc"), b'\t');
        assert_eq!(delimiter("\"Jansen, Jan\";b;c"), b';');
        assert_eq!(delimiter("single"), b',');
    }

    #[test]
    fn a_file_is_utf8_only_when_all_of_it_is() {
        let encoding_of = |bytes: &[u8]| text_encoding(&mut Cursor::new(bytes)).unwrap();
        assert_eq!(encoding_of("Zoë".as_bytes()), UTF_8);
        assert_eq!(encoding_of(b"Zo\xEB"), WINDOWS_1252);
        let mut late_accent = vec![b'a'; SNIFF_BYTES * 2];
        late_accent.extend(b"Zo\xEB\n");
        assert_eq!(
            encoding_of(&late_accent),
            WINDOWS_1252,
            "an accent after the first read"
        );
        let mut cut = vec![b'a'; SNIFF_BYTES - 1];
        cut.extend("ëë".as_bytes());
        assert_eq!(
            encoding_of(&cut),
            UTF_8,
            "a character split between two reads"
        );
    }

    #[test]
    fn a_multibyte_character_at_the_sample_edge_does_not_spoil_the_file() {
        let mut text = String::from("Имя;Фамилия;Email\n");
        while text.len() < SNIFF_BYTES * 2 {
            text.push_str("Иван;Петров;ivan@example.com\n");
        }
        for offset in 0..3 {
            let padded = "Ж".repeat(offset) + &text;
            let (headers, rows) = rows_of(padded.as_bytes());
            assert_eq!(headers.len(), 3, "offset {offset}");
            assert!(rows.len() > 1000);
        }
    }

    fn rows_of(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
        let rows = Rows::read(Cursor::new(bytes.to_vec()), "list.csv").unwrap();
        let headers = rows.headers.clone();
        (headers, rows.map(|row| row.unwrap().cells).collect())
    }

    #[test]
    fn a_header_ends_at_its_last_named_cell() {
        let padded = format!(
            "First name;Last name;Email{}\nJan;Jansen;j@example.com\n",
            ";".repeat(150)
        );
        let rows = Rows::read(Cursor::new(padded.into_bytes()), "list.csv").unwrap();
        assert_eq!(rows.headers, ["First name", "Last name", "Email"]);
        let cells: Vec<Vec<String>> = rows.map(|row| row.unwrap().cells).collect();
        assert_eq!(cells[0][..3], ["Jan", "Jansen", "j@example.com"]);
        // A note far to the right of a row widens the whole sheet, its header row included.
        let sheet = br#"<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>First name</t></is></c><c r="B1" t="inlineStr"><is><t>Email</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>Jan</t></is></c><c r="DZ2" t="inlineStr"><is><t>note</t></is></c></row></sheetData></worksheet>"#;
        let (headers, rows) = read_spreadsheet(fixtures::xlsx(sheet, None)).unwrap();
        assert_eq!(headers, ["First name", "Email"]);
        assert_eq!(rows[0].len(), 130);
    }

    /// A cell whose formula failed reads as Excel shows it, for the row to refuse (was: `#NA`,
    /// calamine's debug name, which passed as a department).
    #[test]
    fn a_formula_error_cell_reads_as_excel_shows_it() {
        let sheet = br#"<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>First name</t></is></c><c r="B1" t="inlineStr"><is><t>Department</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>Jan</t></is></c><c r="B2" t="e"><v>#N/A</v></c></row></sheetData></worksheet>"#;
        let (_, rows) = read_spreadsheet(fixtures::xlsx(sheet, None)).unwrap();
        assert_eq!(rows, [["Jan", "#N/A"]]);
    }

    #[test]
    fn a_local_file_reads_as_its_bytes_do() {
        let bytes = "\u{FEFF}Vorname;Nachname\nJürgen;Groß\n".as_bytes();
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, bytes).unwrap();
        let rows = Rows::open(file.path(), "list.csv").unwrap();
        let headers = rows.headers.clone();
        let read = (
            headers,
            rows.map(|row| row.unwrap().cells).collect::<Vec<_>>(),
        );
        assert_eq!(read, rows_of(bytes));
        assert_eq!(read.1, [["Jürgen", "Groß"]]);
    }

    #[test]
    fn csv_in_every_accepted_encoding_reads_the_same() {
        let text = "Prénom\tNom\nZoë\tLefèvre\n";
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let mut utf16be = vec![0xFE, 0xFF];
        utf16be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend(text.as_bytes());
        let (latin, _, _) = WINDOWS_1252.encode(text);
        for bytes in [
            utf16,
            utf16be,
            bom,
            latin.into_owned(),
            text.as_bytes().to_vec(),
        ] {
            let (headers, rows) = rows_of(&bytes);
            assert_eq!(headers, ["Prénom", "Nom"]);
            assert_eq!(rows, [["Zoë", "Lefèvre"]]);
        }
    }

    /// A UTF-8 file with a stray byte (a cell pasted from a Windows system) reads as UTF-8, the
    /// stray byte as U+FFFD (which refuses that cell alone); was: read in a Windows code page,
    /// which garbled every accented name in the file (`RenÃ©e`).
    #[test]
    fn a_utf8_file_with_a_stray_byte_reads_as_utf8() {
        let mut bytes = "First name,Last name\nRenée,Dupont\nZoë,Lefèvre\n"
            .as_bytes()
            .to_vec();
        bytes.extend(b"Jos\xE9,Smith\n");
        let (_, rows) = rows_of(&bytes);
        assert_eq!(
            rows,
            [
                ["Renée", "Dupont"],
                ["Zoë", "Lefèvre"],
                ["Jos\u{FFFD}", "Smith"]
            ]
        );
        // A Windows file with a character that happens to be valid UTF-8 is still Windows.
        let (latin, _, _) = WINDOWS_1252.encode("Prénom,Nom\nÂ©lie,Lefèvre\nRenée,Müller\n");
        assert_eq!(rows_of(&latin).1[1], ["Renée", "Müller"]);
    }

    #[test]
    fn csv_saved_in_the_code_page_of_another_language_reads_as_written() {
        let files = [
            (
                encoding_rs::WINDOWS_1250,
                "Vezetéknév;Keresztnév;E-mail\nErdős;Dénes;denes@example.hu\nKovács;Zsófia;zsofia@example.hu\nŁukasz;Wąsik;lukasz@example.pl\n",
            ),
            (
                encoding_rs::WINDOWS_1251,
                "Фамилия;Имя;E-mail\nПетров;Иван;ivan@example.ru\nСмирнова;Анна;anna@example.ru\n",
            ),
            (
                encoding_rs::WINDOWS_1254,
                "Soyadı;Ad;E-posta\nŞahin;Ayşe;ayse@example.com.tr\nYılmaz;Çağrı;cagri@example.com.tr\n",
            ),
            (
                encoding_rs::SHIFT_JIS,
                "姓;名;メール\n山田;太郎;taro@example.jp\n佐藤;花子;hanako@example.jp\n",
            ),
            (
                encoding_rs::GBK,
                "姓;名;电子邮件\n王;小明;xiaoming@example.cn\n李;华;hua@example.cn\n",
            ),
        ];
        for (code_page, text) in files {
            let (bytes, _, unmappable) = code_page.encode(text);
            assert!(!unmappable, "{}", code_page.name());
            let expected = rows_of(text.as_bytes());
            assert_eq!(rows_of(&bytes), expected, "{}", code_page.name());
        }
    }

    #[test]
    fn quoted_cells_keep_delimiters_and_newlines_and_blank_rows_are_skipped() {
        let (_, rows) = rows_of(b"a;b\n\"x;y\";\"one\ntwo\"\n;\n\nc;d\n");
        assert_eq!(rows, [["x;y", "one\ntwo"], ["c", "d"]]);
    }

    /// The numbers of a list's data rows.
    fn numbers(rows: Rows) -> Vec<u64> {
        rows.map(|row| row.unwrap().number).collect()
    }

    #[test]
    fn blank_rows_keep_their_numbers() {
        let csv = |text: &str| Rows::read(Cursor::new(text.as_bytes().to_vec()), "list.csv");
        // An empty line, a line of delimiters, a cell across two lines, line ends of all kinds.
        let text = "\na;b\nx;y\n\n;\n\"one\ntwo\";z\nc;d\n\n";
        assert_eq!(numbers(csv(text).unwrap()), [1, 4, 5]);
        assert_eq!(
            numbers(csv(&text.replace('\n', "\r\n")).unwrap()),
            [1, 4, 5]
        );
        assert_eq!(numbers(csv("a;b\r\rx;y\r\r\rc;d").unwrap()), [2, 5]);
        let sheet = br#"<worksheet><sheetData><row r="2"><c r="A2" t="inlineStr"><is><t>Email</t></is></c></row><row r="3"><c r="A3" t="inlineStr"><is><t>a@example.com</t></is></c></row><row r="5"><c r="A5" t="inlineStr"><is><t> </t></is></c></row><row r="7"><c r="A7" t="inlineStr"><is><t>b@example.com</t></is></c></row></sheetData></worksheet>"#;
        let rows = Rows::read(Cursor::new(fixtures::xlsx(sheet, None)), "users.xlsx");
        assert_eq!(numbers(rows.unwrap()), [1, 5]);
    }

    #[test]
    fn blank_lines_before_the_header_do_not_decide_the_delimiter() {
        let (headers, rows) = rows_of(b"\r\n \r\nVorname;Nachname\r\nJan;Jansen, Sr.\r\n");
        assert_eq!(headers, ["Vorname", "Nachname"]);
        assert_eq!(rows, [["Jan", "Jansen, Sr."]]);
    }

    fn first_error(bytes: &[u8]) -> (usize, String) {
        let rows = Rows::read(Cursor::new(bytes.to_vec()), "list.csv").unwrap();
        let read: Vec<_> = rows.collect();
        let good = read.iter().take_while(|row| row.is_ok()).count();
        assert_eq!(good + 1, read.len(), "the rows end at the first error");
        match read.last() {
            Some(Err(FileError::Unreadable(message))) => (good, message.clone()),
            other => panic!("the file's fault, not {other:?}"),
        }
    }

    #[test]
    fn a_quote_that_is_never_closed_fails_the_file_naming_its_line() {
        let (good, error) = first_error(b"a;b\nx;y\n\"open;z\nc;d\ne;f\n");
        assert_eq!(good, 1, "the row before the quote");
        assert!(
            error.contains("quote opened on line 3 is never closed"),
            "{error}"
        );
    }

    #[test]
    fn a_row_longer_than_the_limit_fails_before_the_rest_of_the_file_is_held() {
        let mut text = b"a;b\nx;\"starts here\n".to_vec();
        let line = b"c;d\n";
        while (text.len() as u64) < 3 * MAX_CSV_ROW_BYTES {
            text.extend(line);
        }
        text.extend(b"closes late\"\n");
        let (good, error) = first_error(&text);
        assert_eq!(good, 0);
        assert!(
            error.contains(&format!(
                "row starting on line 2 is longer than {MAX_CSV_ROW_BYTES}"
            )) && error.contains("quote opened on line 2 closed?"),
            "{error}"
        );
        let unquoted = [
            b"a,b\n".as_slice(),
            &vec![b'x'; 2 * MAX_CSV_ROW_BYTES as usize],
        ]
        .concat();
        let (_, error) = first_error(&unquoted);
        assert!(
            error.contains("row starting on line 2 is longer"),
            "{error}"
        );
    }

    #[test]
    fn the_unclosed_quote_is_found_whatever_the_line_ends_delimiter_and_encoding() {
        for text in [
            "a\tb\r\nx\ty\r\n\"open\tz\r\nc\td\r\n",
            "a;b\rx;y\r\"open;z\rc;d\r",
            "\u{feff}\"a\",b\nx,y\n\"open,z\nc,d\n",
        ] {
            let (good, error) = first_error(text.as_bytes());
            assert_eq!(good, 1, "{text:?}");
            assert!(
                error.contains("quote opened on line 3"),
                "{text:?}: {error}"
            );
        }
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(
            "a,b\nx,y\n\"open,z\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        assert!(first_error(&utf16).1.contains("quote opened on line 3"));
    }

    #[test]
    fn a_failed_read_of_the_copy_is_not_the_files_fault() {
        let failed = csv::Error::from(std::io::Error::other("disk gone"));
        assert!(matches!(csv_error(failed), FileError::Io(_)));
        let broken = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            BrokenCsv("the quote opened on line 3 is never closed".to_owned()),
        );
        assert!(matches!(
            csv_error(csv::Error::from(broken)),
            FileError::Unreadable(message) if message.contains("line 3")
        ));
    }

    #[test]
    fn quotes_inside_cells_and_doubled_quotes_read_as_written() {
        let (_, rows) = rows_of("a,b\n5\" screen,\"say \"\"hi\"\"\"\n\"x\"y,z\n".as_bytes());
        assert_eq!(rows, [["5\" screen", "say \"hi\""], ["xy", "z"]]);
    }

    fn read_spreadsheet(workbook: Vec<u8>) -> Result<(Vec<String>, Vec<Vec<String>>), FileError> {
        let rows = Rows::read(Cursor::new(workbook), "users.xlsx")?;
        let headers = rows.headers.clone();
        Ok((
            headers,
            rows.map(|row| row.map(|r| r.cells))
                .collect::<Result<_, _>>()?,
        ))
    }

    #[test]
    fn the_test_workbooks_read() {
        let sheet = br#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="inlineStr"><is><t>Email</t></is></c></row><row r="3"><c r="B3"><v>3120123456</v></c></row></sheetData></worksheet>"#;
        let strings = br#"<sst><si><t>Nombre</t></si></sst>"#;
        assert_eq!(
            read_spreadsheet(fixtures::xlsx(sheet, Some(strings))).unwrap(),
            (
                vec!["Nombre".to_owned(), String::new(), "Email".to_owned()],
                vec![vec![String::new(), "3120123456".to_owned(), String::new()]]
            )
        );
        let content = br#"<office:document-content><office:body><office:spreadsheet><table:table table:name="Users"><table:table-row><table:table-cell office:value-type="string"><text:p>Nome</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#;
        assert_eq!(
            read_spreadsheet(fixtures::ods(content)).unwrap(),
            (vec!["Nome".to_owned()], vec![])
        );
    }

    /// Found by the `import_file` fuzz target: calamine indexes the shared strings unchecked.
    #[test]
    fn a_spreadsheet_calamine_panics_on_is_unreadable() {
        let minimised = br#"t><sheetData><c t="s"><v></v>"#;
        let read = read_spreadsheet(fixtures::xlsx(minimised, None));
        assert!(matches!(read, Err(FileError::Unreadable(_))), "{read:?}");
    }

    /// Found by the `import_file` fuzz target (minimised by hand): calamine lays a sheet out as
    /// a dense range, here of 49,301,232 rows by 5 columns, 7.9 GB.
    #[test]
    fn a_sheet_whose_cells_span_too_many_cells_is_refused_before_it_is_laid_out() {
        let far_apart = br#"<worksheet><sheetData><row r="4"><c r="A4" t="inlineStr"><is><t>Ana</t></is></c></row><row r="49301232"><c r="E49301232" t="b"><v>1</v></c></row></sheetData></worksheet>"#;
        let read = read_spreadsheet(fixtures::xlsx(far_apart, None));
        assert!(matches!(read, Err(FileError::TooLarge(_))), "{read:?}");
    }

    /// calamine reserves room for the strings `uniqueCount` claims before reading them: this
    /// claim of a kilobyte's file is 24 GB, an allocation that fails aborts the process.
    #[test]
    fn shared_strings_that_claim_or_hold_too_many_are_refused_before_calamine_reads_them() {
        let sheet = br#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>"#;
        let claiming = br#"<sst uniqueCount="1000000000"><si><t>Name</t></si></sst>"#;
        let many: String = std::iter::once(r#"<sst uniqueCount="1">"#)
            .chain(std::iter::repeat_n("<si/>", MAX_SHEET_CELLS as usize + 1))
            .chain(std::iter::once("</sst>"))
            .collect();
        let wordy = format!(
            "<sst><si><t>{}</t></si></sst>",
            "x".repeat(MAX_SHEET_TEXT_BYTES as usize + 1)
        );
        for strings in [&claiming[..], many.as_bytes(), wordy.as_bytes()] {
            let read = read_spreadsheet(fixtures::xlsx(sheet, Some(strings)));
            assert!(matches!(read, Err(FileError::TooLarge(_))), "{read:?}");
        }
        let honest = br#"<sst uniqueCount="1"><si><t>Name</t></si></sst>"#;
        assert_eq!(
            read_spreadsheet(fixtures::xlsx(sheet, Some(honest)))
                .unwrap()
                .0,
            ["Name"]
        );
    }

    #[test]
    fn a_shared_string_counts_once_for_each_cell_that_shows_it() {
        let long = "x".repeat(1024 * 1024);
        let strings = format!("<sst><si><t>{long}</t></si></sst>");
        let cells = |count: usize| {
            let row: String = (0..count)
                .map(|column| format!(r#"<c r="{}1" t="s"><v>0</v></c>"#, column_name(column)))
                .collect();
            format!("<worksheet><sheetData><row r=\"1\">{row}</row></sheetData></worksheet>")
        };
        let read = |count| {
            read_spreadsheet(fixtures::xlsx(
                cells(count).as_bytes(),
                Some(strings.as_bytes()),
            ))
        };
        assert_eq!(read(32).unwrap().0.len(), 32);
        assert!(matches!(read(33), Err(FileError::TooLarge(_))));
    }

    /// An ODS `content.xml` whose first sheet holds `rows`.
    fn ods_content(rows: &str) -> Vec<u8> {
        format!(
            r#"<office:document-content><office:body><office:spreadsheet><table:table table:name="Users">{rows}</table:table></office:spreadsheet></office:body></office:document-content>"#
        )
        .into_bytes()
    }

    const ODS_HEADER: &str = r#"<table:table-row><table:table-cell office:value-type="string"><text:p>Nome</text:p></table:table-cell></table:table-row>"#;

    /// Found by the `import_file` fuzz target (minimised by hand): calamine reads a sheet until
    /// its end tag, and past the end of the file for ever.
    #[test]
    fn an_ods_file_whose_content_ends_inside_a_sheet_is_unreadable() {
        let mut content = ods_content(ODS_HEADER);
        content.truncate(
            content.len()
                - "</table:table></office:spreadsheet></office:body></office:document-content>"
                    .len(),
        );
        let read = read_spreadsheet(fixtures::ods(&content));
        assert!(matches!(read, Err(FileError::Unreadable(_))), "{read:?}");
    }

    #[test]
    fn ods_repeats_count_as_the_cells_calamine_makes_of_them() {
        let too_large = |rows: &str| {
            let read = read_spreadsheet(fixtures::ods(&ods_content(rows)));
            matches!(read, Err(FileError::TooLarge(_)))
        };
        let cell_repeated = |times: u64| {
            format!(
                r#"<table:table-row><table:table-cell office:value-type="float" office:value="1" table:number-columns-repeated="{times}"/></table:table-row>"#
            )
        };
        assert!(!too_large(&cell_repeated(MAX_SHEET_CELLS / 4)));
        assert!(too_large(&cell_repeated(1_000_000_000)));
        let row_repeated = |times: u64| {
            format!(
                r#"{ODS_HEADER}<table:table-row table:number-rows-repeated="{times}"><table:table-cell office:value-type="float" office:value="1"/></table:table-row>"#
            )
        };
        assert!(!too_large(&row_repeated(MAX_SHEET_CELLS / 4)));
        assert!(too_large(&row_repeated(MAX_SHEET_CELLS)));
        let spaces = |count: u64| {
            format!(
                r#"<table:table-row><table:table-cell office:value-type="string"><text:p>a<text:s text:c="{count}"/>b</text:p></table:table-cell></table:table-row>"#
            )
        };
        assert!(!too_large(&spaces(1000)));
        assert!(too_large(&spaces(MAX_SHEET_TEXT_BYTES)));
        // Empty rows and cells after the last value are not laid out (as LibreOffice writes
        // every sheet).
        let trailer = format!(
            r#"{ODS_HEADER}<table:table-row table:number-rows-repeated="1048575"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>"#
        );
        assert!(!too_large(&trailer));
    }

    /// A spreadsheet column's letters: 0 is A, 26 is AA.
    fn column_name(index: usize) -> String {
        let letter = (b'A' + (index % 26) as u8) as char;
        match index / 26 {
            0 => letter.to_string(),
            above => format!("{}{letter}", column_name(above - 1)),
        }
    }

    #[test]
    fn spreadsheet_numbers_read_as_typed() {
        assert_eq!(cell_text(&Data::Float(3120123456.0)), "3120123456");
        assert_eq!(cell_text(&Data::Float(1.0)), "1");
        assert_eq!(cell_text(&Data::Float(1.5)), "1.5");
        assert_eq!(cell_text(&Data::Bool(true)), "1");
    }
}
