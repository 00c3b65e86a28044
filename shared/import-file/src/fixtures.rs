//! The smallest workbooks calamine opens, around the parts a test gives: for the unit tests and
//! the `import_file` fuzz target (feature `fixtures`), which mutate a sheet's XML rather than
//! compressed bytes and checksums.

use std::io::{Cursor, Write};

use zip::{CompressionMethod, ZipWriter, write::SimpleFileOptions};

/// An XLSX workbook whose first sheet is `sheet` (a worksheet part) and whose shared strings, if
/// any, are `strings` (a `sharedStrings.xml` part).
pub fn xlsx(sheet: &[u8], strings: Option<&[u8]>) -> Vec<u8> {
    let mut parts: Vec<(&str, &[u8])> = vec![
        (
            "xl/workbook.xml",
            br#"<workbook><sheets><sheet name="Users" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            br#"<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>"#,
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
