//! A user list as text: header detection, the column mapping's checks and each row's rules, as the
//! import runs them once the file is decoded into cells (`import_file` fuzzes the decoding).
//!
//! Input: an optional first line holding an explicit mapping (`{"Header": "first_name"}`, as
//! `POST /v1/admin/imports` takes it), then comma-separated rows, the first of them the header.

#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_domain::import::{ExplicitMapping, parse_mapping};
use roster_fuzz::import::check_user_list;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (explicit, list) = match text.split_once('\n') {
        Some((first, rest)) if first.starts_with('{') => {
            let Ok(value) = serde_json::from_str(first) else {
                return;
            };
            let Ok(explicit) = parse_mapping(&value) else {
                return;
            };
            (explicit, rest)
        }
        _ => (ExplicitMapping::new(), &*text),
    };
    let mut rows = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(list.as_bytes())
        .into_records()
        .map_while(Result::ok)
        .map(|record| record.iter().map(str::to_owned).collect::<Vec<String>>())
        .filter(|cells| cells.iter().any(|cell| !cell.trim().is_empty()));
    let Some(headers) = rows.next() else {
        return;
    };
    check_user_list(&headers, rows, &explicit);
});
