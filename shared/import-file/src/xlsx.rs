//! What an XLSX workbook's shared strings would cost calamine, read before calamine opens it.
//!
//! calamine reads the whole shared-string table when it opens a workbook, before any sheet, and
//! first reserves room for as many strings as the table's `uniqueCount` claims: a file of a
//! kilobyte can ask for gigabytes, and an allocation that fails aborts the process (it does not
//! unwind, so no `catch_unwind` saves the import). This check streams each shared-string part
//! once and refuses a file whose part is larger than `MAX_SHARED_STRINGS_BYTES`, or that claims
//! or holds more than `MAX_SHEET_CELLS` strings or `MAX_SHEET_TEXT_BYTES` bytes of text.

use std::io::{BufReader, Read, Seek};

use quick_xml::events::Event;

use crate::{FileError, MAX_SHEET_CELLS, MAX_SHEET_TEXT_BYTES, unreadable};

/// Most bytes a shared-string part may expand to: its text and the markup around it.
pub const MAX_SHARED_STRINGS_BYTES: u64 = 128 * 1024 * 1024;

fn too_large(what: String) -> FileError {
    FileError::TooLarge(format!(
        "the spreadsheet {what}; at most that many are accepted"
    ))
}

/// Checks every shared-string part of the XLSX file in `source` (its zip directory already
/// passed the limits), whichever folder the workbook keeps it in; see the module's documentation.
pub(crate) fn check_shared_strings<R: Read + Seek>(source: &mut R) -> Result<(), FileError> {
    source.rewind()?;
    let mut archive = zip::ZipArchive::new(BufReader::new(source)).map_err(unreadable)?;
    for index in 0..archive.len() {
        let is_shared_strings = archive
            .by_index_raw(index)
            .and_then(|entry| entry.name().map(|name| name.to_ascii_lowercase()))
            .map_err(unreadable)?
            .ends_with("sharedstrings.xml");
        if !is_shared_strings {
            continue;
        }
        let entry = archive.by_index(index).map_err(unreadable)?;
        if entry.size() > MAX_SHARED_STRINGS_BYTES {
            return Err(too_large(format!(
                "has a shared-string part of more than {MAX_SHARED_STRINGS_BYTES} bytes"
            )));
        }
        check_part(BufReader::new(entry))?;
    }
    Ok(())
}

fn check_part(part: impl std::io::BufRead) -> Result<(), FileError> {
    let mut xml = quick_xml::Reader::from_reader(part);
    // As calamine reads it: end tags are not matched to their start.
    xml.config_mut().check_end_names = false;
    let mut buf = Vec::new();
    let (mut strings, mut text) = (0_u64, 0_u64);
    loop {
        match xml.read_event_into(&mut buf).map_err(unreadable)? {
            Event::Start(element) | Event::Empty(element) => match element.local_name().as_ref() {
                "sst" => {
                    let claimed = element
                        .try_get_attribute("uniqueCount")
                        .map_err(unreadable)?
                        .map(|count| count.value.trim().parse::<u64>().ok());
                    match claimed {
                        None => {}
                        Some(Some(count)) if count <= MAX_SHEET_CELLS => {}
                        Some(_) => {
                            return Err(too_large(format!(
                                "claims more than {MAX_SHEET_CELLS} shared strings"
                            )));
                        }
                    }
                }
                "si" => {
                    strings += 1;
                    if strings > MAX_SHEET_CELLS {
                        return Err(too_large(format!(
                            "holds more than {MAX_SHEET_CELLS} shared strings"
                        )));
                    }
                }
                _ => {}
            },
            Event::Text(content) => text += content.len() as u64,
            Event::CData(content) => text += content.len() as u64,
            Event::Eof => return Ok(()),
            _ => {}
        }
        if text > MAX_SHEET_TEXT_BYTES {
            return Err(too_large(format!(
                "holds more than {MAX_SHEET_TEXT_BYTES} bytes of shared text"
            )));
        }
        buf.clear();
    }
}
