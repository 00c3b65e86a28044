//! An uploaded file as bytes, decoded as the import decodes it (`roster_import_file`: format
//! sniffing, text encoding and delimiter, CSV, XLSX, XLS and ODS through calamine, the zip, XLS
//! and sheet limits), then header detection and each row's rules (`import_rows`'
//! checks). Nothing may panic outside calamine (the import fails a file calamine panics on as
//! unreadable), hang or take more memory than libFuzzer allows; the format is the content's
//! whatever the file is named, no row read is blank, a spreadsheet yields no more cells than the
//! sheet limit, and decoded CSV text is never more than its encoding explains.
//!
//! Input: a selector byte, then the file. The selector's two low bits name the file (`users.csv`,
//! `.xlsx`, `.ods`, `.txt`); its next two bits say what the rest is: 1 an XLSX worksheet's XML,
//! optionally followed by a NUL and the workbook's shared strings XML; 2 an ODS `content.xml`;
//! 3 an XLS workbook stream (BIFF records); otherwise the file itself. The target packs the parts
//! it is given into the smallest workbook calamine opens (`roster_import_file::fixtures`), so the
//! fuzzer mutates spreadsheet XML and records rather than compressed bytes, checksums and sector
//! chains.

#![no_main]

use std::{io::Cursor, iter, panic};

use libfuzzer_sys::fuzz_target;
use roster_domain::import::ExplicitMapping;
use roster_fuzz::import::check_user_list;
use roster_import_file::{
    Format, MAX_SHEET_CELLS, Rows,
    fixtures::{compound_file, ods, xlsx},
    sniff,
};

const NAMES: [&str; 4] = ["users.csv", "users.xlsx", "users.ods", "users.txt"];

/// UTF-8 bytes a byte of CSV may decode to: a Windows-1252 byte becomes up to three (`€`), as
/// does a byte that is not valid in its encoding (U+FFFD); a UTF-16 unit of two bytes, at most
/// three.
const MOST_DECODED_PER_BYTE: usize = 3;

fn blank(row: &[String]) -> bool {
    row.iter().all(|cell| cell.trim().is_empty())
}

/// Lets a panic inside calamine unwind to `roster_import_file`, which fails the import as
/// unreadable (a malformed workbook); any other panic stays a crash. libFuzzer's own hook aborts
/// on every panic before it unwinds.
fn crash_unless_in_calamine() {
    let crash = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if !info
            .location()
            .is_some_and(|at| at.file().contains("/calamine-"))
        {
            crash(info);
        }
    }));
}

fuzz_target!(init: crash_unless_in_calamine(), |data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(selector & 3)];
    let file = match (selector >> 2) & 3 {
        1 => match rest.iter().position(|&byte| byte == 0) {
            Some(end) => xlsx(&rest[..end], Some(&rest[end + 1..])),
            None => xlsx(rest, None),
        },
        2 => ods(rest),
        3 => compound_file(rest),
        _ => rest.to_vec(),
    };

    let format = sniff(&mut Cursor::new(&file), name).map_err(|error| error.to_string());
    assert_eq!(
        format,
        sniff(&mut Cursor::new(&file), "upload").map_err(|error| error.to_string()),
        "the name {name} changed the format"
    );
    let Ok(rows) = Rows::read(Cursor::new(file.clone()), name) else {
        return;
    };
    let headers = rows.headers.clone();
    assert!(!blank(&headers), "a blank header: {headers:?}");
    let rows: Vec<Vec<String>> = rows.map_while(Result::ok).map(|row| row.cells).collect();
    for row in &rows {
        assert!(!blank(row), "a blank row: {row:?}");
    }
    if format == Ok(Format::Csv) {
        let decoded: usize = iter::once(&headers)
            .chain(&rows)
            .flatten()
            .map(String::len)
            .sum();
        assert!(
            decoded <= MOST_DECODED_PER_BYTE * file.len(),
            "{} bytes of CSV decoded to {decoded} bytes of text",
            file.len()
        );
    } else {
        let cells: usize = iter::once(&headers).chain(&rows).map(Vec::len).sum();
        assert!(cells as u64 <= MAX_SHEET_CELLS, "a sheet of {cells} cells");
    }
    check_user_list(&headers, rows.into_iter(), &ExplicitMapping::new());
});
