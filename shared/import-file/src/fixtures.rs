//! The smallest workbooks calamine opens, around the parts a test gives: for the unit tests and
//! the `import_file` fuzz target (feature `fixtures`), which mutate a sheet's XML or records rather
//! than compressed bytes, checksums and sector chains.

use std::io::{Cursor, Write};

use zip::{CompressionMethod, ZipWriter, write::SimpleFileOptions};

/// An XLSX workbook whose first sheet is `sheet` (a worksheet part) and whose shared strings, if
/// any, are `strings` (a `sharedStrings.xml` part).
pub fn xlsx(sheet: &[u8], strings: Option<&[u8]>) -> Vec<u8> {
    let mut parts: Vec<(&str, &[u8])> = vec![
        (
            "_rels/.rels",
            br#"<Relationships><Relationship Id="rId1" Target="xl/workbook.xml" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            br#"<workbook><sheets><sheet name="Users" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            br#"<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/></Relationships>"#,
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    if let Some(strings) = strings {
        parts.push(("xl/sharedStrings.xml", strings));
    }
    stored_zip(&parts)
}

/// An OpenDocument spreadsheet whose `content.xml` is `content`.
pub fn ods(content: &[u8]) -> Vec<u8> {
    stored_zip(&[
        (
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet",
        ),
        (
            "META-INF/manifest.xml",
            br#"<manifest:manifest><manifest:file-entry manifest:full-path="content.xml"/></manifest:manifest>"#,
        ),
        ("content.xml", content),
    ])
}

/// A zip of `parts` in order, uncompressed.
fn stored_zip(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, body) in parts {
        zip.start_file(*name, options)
            .expect("a zip in memory takes any part");
        zip.write_all(body).expect("a zip in memory takes any part");
    }
    zip.finish().expect("a zip in memory finishes").into_inner()
}

/// A BIFF record: its type, its length and `data`.
pub fn biff(typ: u16, data: &[u8]) -> Vec<u8> {
    let len = u16::try_from(data.len()).expect("a BIFF record holds at most 65,535 bytes");
    [&typ.to_le_bytes()[..], &len.to_le_bytes(), data].concat()
}

/// An XLS workbook (BIFF8) whose globals end with the records `globals` (an SST, say) and whose
/// sheets hold the records `sheets`.
pub fn xls(globals: &[u8], sheets: &[&[u8]]) -> Vec<u8> {
    compound_file(&xls_stream(globals, sheets))
}

/// The workbook stream of [`xls`].
pub fn xls_stream(globals: &[u8], sheets: &[&[u8]]) -> Vec<u8> {
    let bof = |kind: u16| {
        let mut data = [0u8; 16];
        data[..2].copy_from_slice(&0x0600u16.to_le_bytes());
        data[2..4].copy_from_slice(&kind.to_le_bytes());
        biff(0x0809, &data)
    };
    let eof = biff(0x000A, &[]);
    let sheet_entry = |index: usize, at: usize| {
        let mut data = (at as u32).to_le_bytes().to_vec();
        data.extend_from_slice(&[0, 0, 5, 0]);
        data.extend_from_slice(format!("S{index:04}").as_bytes());
        biff(0x0085, &data)
    };
    let entries_len = sheets.len() * sheet_entry(0, 0).len();
    let mut at = bof(0x0005).len() + entries_len + globals.len() + eof.len();
    let mut stream = bof(0x0005);
    let mut bodies = Vec::new();
    for (index, sheet) in sheets.iter().enumerate() {
        stream.extend(sheet_entry(index, at));
        let body = [bof(0x0010), sheet.to_vec(), eof.clone()].concat();
        at += body.len();
        bodies.extend(body);
    }
    [stream, globals.to_vec(), eof, bodies].concat()
}

/// `stream` as the workbook stream of a compound file (an XLS file).
pub fn compound_file(stream: &[u8]) -> Vec<u8> {
    crate::xls::compound_file(stream).expect("a compound file in memory takes any stream")
}

/// An XLS workbook whose first sheet holds `rows`, every cell a shared string.
pub fn xls_rows(rows: &[&[&str]]) -> Vec<u8> {
    let strings: Vec<&str> = rows.iter().flat_map(|row| row.iter().copied()).collect();
    let mut cells = Vec::new();
    let mut index = 0u32;
    for (row, values) in rows.iter().enumerate() {
        for col in 0..values.len() {
            cells.extend(label_sst(row as u16, col as u16, index));
            index += 1;
        }
    }
    xls(&sst(&strings), &[&cells])
}

/// An SST record holding `strings`, each stored as UTF-16.
pub fn sst(strings: &[&str]) -> Vec<u8> {
    let count = (strings.len() as u32).to_le_bytes();
    let mut data = [count, count].concat();
    for text in strings {
        let units: Vec<u16> = text.encode_utf16().collect();
        data.extend_from_slice(&(units.len() as u16).to_le_bytes());
        data.push(0x01);
        data.extend(units.iter().flat_map(|unit| unit.to_le_bytes()));
    }
    biff(0x00FC, &data)
}

/// A LABELSST record: the cell at `row`, `col` shows shared string `index`.
pub fn label_sst(row: u16, col: u16, index: u32) -> Vec<u8> {
    let data = [
        &row.to_le_bytes()[..],
        &col.to_le_bytes(),
        &0u16.to_le_bytes(),
        &index.to_le_bytes(),
    ]
    .concat();
    biff(0x00FD, &data)
}

/// A NUMBER record: the cell at `row`, `col` holds `value`.
pub fn number(row: u16, col: u16, value: f64) -> Vec<u8> {
    let data = [
        &row.to_le_bytes()[..],
        &col.to_le_bytes(),
        &0u16.to_le_bytes(),
        &value.to_le_bytes(),
    ]
    .concat();
    biff(0x0203, &data)
}
