//! What an ODS spreadsheet's `content.xml` would cost calamine, read before calamine opens it.
//!
//! calamine reads every sheet of an ODS file when it opens it, and trusts the file: a repeat
//! count (`table:number-columns-repeated`, `table:number-rows-repeated`, `text:s text:c`) becomes
//! that many cells, rows or spaces, and `content.xml` that ends before a sheet does keeps it
//! reading forever. This check streams `content.xml` once and refuses a file that is not
//! well-formed XML (every element closed, in order), or whose sheets calamine would lay out in
//! more than `MAX_SHEET_CELLS` cells or `MAX_SHEET_TEXT_BYTES` bytes of text. The count follows
//! calamine's layout of a sheet and errs high where it simplifies.

use std::io::{BufReader, Read, Seek};

use quick_xml::events::{BytesStart, Event};

use crate::{FileError, check_sheet_limits, unreadable};

/// A cell as calamine lays it out.
#[derive(Default)]
struct CellCount {
    /// Columns it is repeated over.
    repeats: u64,
    /// It has a value or a formula (calamine lays out a cell without either only when a later
    /// cell of its row has one).
    filled: bool,
    /// Bytes of its value and formula.
    text: u64,
}

/// A row of a sheet as calamine lays it out.
#[derive(Default)]
struct RowCount {
    /// Rows it is repeated over.
    repeats: u64,
    /// Cells it is laid out in before rows are repeated.
    cells: u64,
    /// Repeats of its last cell when that one is empty: calamine does not lay them out.
    trailing_empty: u64,
    filled: bool,
    text: u64,
}

/// A sheet as calamine lays it out: its rows each as wide as the widest, from the first to the
/// last row that holds anything, repeated; and, while it does so, the rows as they were read.
#[derive(Default)]
struct SheetCount {
    read_cells: u64,
    widest: u64,
    /// Rows from the first filled one to the last filled one.
    spanned_rows: u64,
    /// Rows since the last filled one (after the first).
    rows_after_filled: Option<u64>,
}

impl SheetCount {
    fn add(&mut self, row: &RowCount) {
        let cells = row.cells.saturating_sub(row.trailing_empty);
        self.read_cells = self.read_cells.saturating_add(cells);
        self.widest = self.widest.max(cells);
        if let Some(after) = &mut self.rows_after_filled {
            *after = after.saturating_add(row.repeats);
        }
        if row.filled {
            let rows = self.rows_after_filled.unwrap_or(row.repeats);
            self.spanned_rows = self.spanned_rows.saturating_add(rows);
            self.rows_after_filled = Some(0);
        }
    }

    /// Cells calamine holds for this sheet at once, at most: the rows as read and as laid out.
    fn cells(&self) -> u64 {
        self.read_cells
            .saturating_add(self.spanned_rows.saturating_mul(self.widest))
    }
}

/// Checks the `content.xml` of the ODS file in `source` (its zip directory already passed the
/// limits) against what calamine can read; see the module's documentation.
pub(crate) fn check_content<R: Read + Seek>(source: &mut R) -> Result<(), FileError> {
    source.rewind()?;
    let mut archive = zip::ZipArchive::new(BufReader::new(source)).map_err(unreadable)?;
    let content = archive.by_name("content.xml").map_err(unreadable)?;
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(content));
    let config = xml.config_mut();
    config.check_end_names = true;
    config.expand_empty_elements = true;

    let mut open_elements = 0usize;
    let (mut sheets, mut rows, mut cells) = (Vec::new(), Vec::new(), Vec::new());
    let (mut laid_out, mut text) = (0u64, 0u64);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match xml.read_event_into(&mut buffer).map_err(unreadable)? {
            Event::Start(element) => {
                open_elements += 1;
                match element.name().as_ref() {
                    "table:table" => sheets.push(SheetCount::default()),
                    "table:table-row" => rows.push(RowCount {
                        repeats: repeats(&element, "table:number-rows-repeated")?,
                        ..RowCount::default()
                    }),
                    "table:table-cell" | "table:covered-table-cell" => {
                        cells.push(cell(&element, "table:number-columns-repeated")?);
                    }
                    "text:s" => {
                        if let Some(cell) = cells.last_mut() {
                            cell.text = cell.text.saturating_add(repeats(&element, "text:c")?);
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(content) => {
                if let Some(cell) = cells.last_mut() {
                    cell.text = cell.text.saturating_add(content.len() as u64);
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(cell) = cells.last_mut() {
                    // `&name;` stands for at most as many bytes as it takes.
                    cell.text = cell.text.saturating_add(reference.len() as u64 + 2);
                }
            }
            Event::End(element) => {
                open_elements = open_elements.saturating_sub(1);
                match element.name().as_ref() {
                    "table:table" => {
                        if let Some(sheet) = sheets.pop() {
                            laid_out = laid_out.saturating_add(sheet.cells());
                        }
                    }
                    "table:table-row" => {
                        if let (Some(row), Some(sheet)) = (rows.pop(), sheets.last_mut()) {
                            sheet.add(&row);
                            // Calamine copies a row's values for each of its repeats.
                            let copies = row.repeats.saturating_add(1);
                            text = text.saturating_add(row.text.saturating_mul(copies));
                        }
                    }
                    "table:table-cell" | "table:covered-table-cell" => {
                        if let (Some(cell), Some(row)) = (cells.pop(), rows.last_mut()) {
                            row.cells = row.cells.saturating_add(cell.repeats);
                            row.trailing_empty = if cell.filled { 0 } else { cell.repeats };
                            row.filled |= cell.filled;
                            if cell.filled {
                                let copies = cell.text.saturating_mul(cell.repeats);
                                row.text = row.text.saturating_add(copies);
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof if open_elements > 0 => {
                return Err(FileError::Unreadable(
                    "the spreadsheet's content ends inside an element".to_owned(),
                ));
            }
            Event::Eof => break,
            _ => {}
        }
        let open_sheets = sheets.iter().map(SheetCount::cells);
        check_sheet_limits(laid_out.saturating_add(open_sheets.sum()), text)?;
    }
    Ok(())
}

/// A cell's repeats and whether it has a value or a formula, with their bytes.
fn cell(element: &BytesStart<'_>, repeated: &str) -> Result<CellCount, FileError> {
    let mut count = CellCount {
        repeats: repeats(element, repeated)?,
        ..CellCount::default()
    };
    for attribute in element.attributes() {
        let attribute = attribute.map_err(unreadable)?;
        if matches!(
            attribute.key.as_ref(),
            "office:value-type"
                | "office:value"
                | "office:string-value"
                | "office:date-value"
                | "office:time-value"
                | "office:boolean-value"
                | "table:formula"
        ) {
            count.filled = true;
            count.text = count.text.saturating_add(attribute.value.len() as u64);
        }
    }
    Ok(count)
}

/// The count an attribute repeats something by, 1 without it. One that is not a number is left
/// for calamine to refuse.
fn repeats(element: &BytesStart<'_>, name: &str) -> Result<u64, FileError> {
    let attribute = element.try_get_attribute(name).map_err(unreadable)?;
    Ok(attribute
        .and_then(|attribute| attribute.value.parse().ok())
        .unwrap_or(1))
}
