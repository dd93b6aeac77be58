//! Streaming import of vendor inventory files. `CsvImporter` reads a CSV with a header row and
//! yields, row by row, either a `NewNumber` ready for the store or a `RejectedRow` listing every
//! problem of that row with its line number, so an operator can fix a file in one pass.
//!
//! The header is checked before any row: `e164` is required, and unknown or repeated columns
//! fail the whole file, because a misspelt optional column (`monthy_price`) would otherwise be
//! silently ignored on every row. Header names are matched trimmed and case-insensitively.
//!
//! Memory: rows are read one at a time into a reused buffer. The one thing that grows is the
//! duplicate check, which remembers each distinct number and the line it was first seen on
//! (about 32 bytes per number); `without_duplicate_check` turns it off for very large files
//! whose duplicates the store's uniqueness constraint will catch anyway.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Read;

use numbers_core::Error;
use numbers_core::number::e164::ParsedE164;
use numbers_core::number::{
    Capabilities, Capability, Classification, E164, Location, NewNumber, NumberType, Price,
};
use serde::Serialize;

use crate::generate::{ClassificationCache, known_plan};

/// Every column the importer understands, in the order the example file uses.
pub const COLUMNS: [&str; 16] = [
    "e164",
    "type",
    "capabilities",
    "classification",
    "rate_center",
    "state",
    "city",
    "lata",
    "zip",
    "tier",
    "vendor_id",
    "vendor_name",
    "setup_price",
    "monthly_price",
    "currency",
    "protected",
];

/// Indexes into `COLUMNS`, so a row lookup is an array access rather than a string compare.
#[derive(Clone, Copy)]
enum Col {
    E164,
    Type,
    Capabilities,
    Classification,
    RateCenter,
    State,
    City,
    Lata,
    Zip,
    Tier,
    VendorId,
    VendorName,
    SetupPrice,
    MonthlyPrice,
    Currency,
    Protected,
}

impl Col {
    fn name(self) -> &'static str {
        COLUMNS[self as usize]
    }
}

/// A problem with the file as a whole: nothing was imported.
#[derive(Debug, thiserror::Error)]
pub enum CsvImportError {
    #[error("the CSV file is empty: it needs a header row naming at least the e164 column")]
    Empty,
    #[error("{}", describe_header(.missing, .unknown, .repeated))]
    Header {
        /// Required columns that are absent (only `e164` is required).
        missing: Vec<String>,
        /// Columns the importer does not know, as written in the file.
        unknown: Vec<String>,
        /// Known columns that appear more than once.
        repeated: Vec<String>,
    },
    #[error("could not read the CSV header: {0}")]
    Read(#[source] csv::Error),
}

fn describe_header(missing: &[String], unknown: &[String], repeated: &[String]) -> String {
    let quote = |names: &[String]| {
        names
            .iter()
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("missing required column {}", quote(missing)));
    }
    if !unknown.is_empty() {
        parts.push(format!(
            "unknown column(s) {} (known columns: {})",
            quote(unknown),
            COLUMNS.join(", ")
        ));
    }
    if !repeated.is_empty() {
        parts.push(format!(
            "column(s) given more than once: {}",
            quote(repeated)
        ));
    }
    format!("invalid CSV header: {}", parts.join("; "))
}

/// A row that was not imported, and every reason why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedRow {
    /// 1-based line in the file where the row starts; the header is line 1.
    pub line: u64,
    /// The `e164` cell as written (trimmed), when the row has one, to help find the row.
    pub e164: Option<String>,
    /// Each problem as `column: what is wrong`.
    pub reasons: Vec<String>,
}

impl fmt::Display for RejectedRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(e164) = &self.e164 {
            write!(f, " ({e164})")?;
        }
        write!(f, ": {}", self.reasons.join("; "))
    }
}

impl std::error::Error for RejectedRow {}

/// Reads inventory rows from a CSV stream; see the module documentation for the format.
///
/// Iterating yields one item per data row. A read failure in the middle of the file (an I/O
/// error) yields one last `RejectedRow` saying the import stopped there, then the iterator ends;
/// `read_error` tells callers that the file was not read to the end.
pub struct CsvImporter<R: Read> {
    reader: csv::Reader<R>,
    /// Position of each known column in the file's rows, indexed by `Col`.
    positions: [Option<usize>; COLUMNS.len()],
    width: usize,
    record: csv::ByteRecord,
    /// Canonical number (as an integer: E.164 digits never start with 0) → first line seen.
    seen: Option<HashMap<u64, u64, BuildHasherDefault<NumberHasher>>>,
    classes: ClassificationCache,
    read_error: Option<csv::Error>,
    done: bool,
}

impl<R: Read> CsvImporter<R> {
    /// Reads and checks the header row.
    pub fn new(input: R) -> Result<Self, CsvImportError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            // Rows with a wrong number of fields are rejected one by one rather than failing
            // the whole stream, so the reader must not enforce it.
            .flexible(true)
            .from_reader(input);
        let headers = reader.byte_headers().map_err(CsvImportError::Read)?.clone();
        if headers.is_empty() {
            return Err(CsvImportError::Empty);
        }
        let mut positions = [None; COLUMNS.len()];
        let (mut unknown, mut repeated) = (Vec::new(), Vec::new());
        for (index, raw) in headers.iter().enumerate() {
            let name = String::from_utf8_lossy(raw).trim().to_ascii_lowercase();
            match COLUMNS.iter().position(|c| *c == name) {
                Some(col) if positions[col].is_some() => {
                    if !repeated.contains(&name) {
                        repeated.push(name);
                    }
                }
                Some(col) => positions[col] = Some(index),
                None if name.is_empty() => {
                    unknown.push(format!("(empty name, column {})", index + 1))
                }
                None => unknown.push(String::from_utf8_lossy(raw).trim().to_string()),
            }
        }
        let missing: Vec<String> = if positions[Col::E164 as usize].is_none() {
            vec![Col::E164.name().to_string()]
        } else {
            Vec::new()
        };
        if !missing.is_empty() || !unknown.is_empty() || !repeated.is_empty() {
            return Err(CsvImportError::Header {
                missing,
                unknown,
                repeated,
            });
        }
        Ok(CsvImporter {
            reader,
            positions,
            width: headers.len(),
            record: csv::ByteRecord::new(),
            seen: Some(HashMap::default()),
            classes: ClassificationCache::default(),
            read_error: None,
            done: false,
        })
    }

    /// Stops remembering numbers, so memory stays constant however large the file; duplicates
    /// inside the file are then left for the store to refuse.
    pub fn without_duplicate_check(mut self) -> Self {
        self.seen = None;
        self
    }

    /// The I/O error that ended the iteration early, if any.
    pub fn read_error(&self) -> Option<&csv::Error> {
        self.read_error.as_ref()
    }

    /// The trimmed cell of `col`; `None` when the column is absent or the cell blank. A cell
    /// that is not UTF-8 records a reason and counts as blank.
    fn cell(&self, col: Col, reasons: &mut Vec<String>) -> Option<&str> {
        let raw = self.record.get(self.positions[col as usize]?)?;
        match std::str::from_utf8(raw) {
            Ok(text) => Some(text.trim()).filter(|t| !t.is_empty()),
            Err(_) => {
                reasons.push(format!("{}: is not valid UTF-8", col.name()));
                None
            }
        }
    }

    fn parse_row(&mut self, line: u64) -> Result<NewNumber, RejectedRow> {
        let mut reasons = Vec::new();
        let raw_e164 = self.cell(Col::E164, &mut reasons).map(str::to_string);
        if self.record.len() != self.width {
            // Cells cannot be trusted to be in their columns, so nothing else is checked.
            let reasons = vec![format!(
                "row has {} fields but the header has {}",
                self.record.len(),
                self.width
            )];
            return Err(RejectedRow {
                line,
                e164: raw_e164,
                reasons,
            });
        }

        let parsed = match raw_e164.as_deref() {
            None => {
                reasons.push("e164: is required".to_string());
                None
            }
            Some(raw) => match parse_e164(raw) {
                Ok(parsed) => Some(parsed),
                Err(err) => {
                    reasons.extend(reasons_of(err));
                    None
                }
            },
        };
        let country = match &parsed {
            Some(p) if p.country.is_none() => {
                reasons.push(
                    "e164: belongs to a non-geographic country code, so it has no country"
                        .to_string(),
                );
                None
            }
            Some(p) => p.country.clone(),
            None => None,
        };
        if let (Some(p), Some(seen)) = (&parsed, self.seen.as_mut()) {
            // Canonical digits, so "+1 206 555 0100" and "+12065550100" are the same number.
            // A row claims its number even when rejected for another reason: the file still
            // lists the number twice, and fixing the first row must not surprise the second.
            if let Ok(key) = p.e164.digits().parse::<u64>() {
                match seen.get(&key) {
                    Some(first) => reasons.push(format!("e164: duplicate of line {first}")),
                    None => {
                        seen.insert(key, line);
                    }
                }
            }
        }

        let number_type = match self.cell(Col::Type, &mut reasons) {
            Some(text) => parse_type(text).map_err(|r| reasons.push(r)).ok(),
            None => match &parsed {
                Some(p) => p.number_type.or_else(|| {
                    reasons.push(
                        "type: not given, and libphonenumber cannot tell this number's type; \
                         give one of MOBILE, LOCAL, TOLL_FREE, SHORT_CODE"
                            .to_string(),
                    );
                    None
                }),
                // Nothing to derive it from; the e164 reason already explains the row.
                None => None,
            },
        };

        let capabilities = match self.cell(Col::Capabilities, &mut reasons) {
            Some(text) => match Capabilities::parse_list([text], "capabilities") {
                Ok(caps) if caps.is_empty() => {
                    reasons.push(
                        "capabilities: must name at least one of SMS, MMS, VOICE, FAX, TTS"
                            .to_string(),
                    );
                    None
                }
                Ok(caps) => Some(caps),
                Err(err) => {
                    reasons.extend(reasons_of(err));
                    None
                }
            },
            None => number_type.map(default_capabilities),
        };

        let classification = match self.cell(Col::Classification, &mut reasons) {
            Some(text) => Classification::parse_field(text, "classification")
                .map_err(|e| reasons.extend(reasons_of(e)))
                .ok(),
            None => parsed
                .as_ref()
                .map(|p| self.classes.classify(p.e164.digits())),
        };

        let rate_center = self
            .cell(Col::RateCenter, &mut reasons)
            .map(str::to_ascii_uppercase);
        let city = self
            .cell(Col::City, &mut reasons)
            .map(str::to_ascii_uppercase);
        let state = self
            .cell(Col::State, &mut reasons)
            .and_then(|s| check(parse_state(s), &mut reasons));
        let lata = self
            .cell(Col::Lata, &mut reasons)
            .and_then(|s| check(parse_lata(s), &mut reasons));
        let zip = self
            .cell(Col::Zip, &mut reasons)
            .and_then(|s| check(parse_zip(s), &mut reasons));
        let tier = self
            .cell(Col::Tier, &mut reasons)
            .and_then(|s| check(parse_tier(s), &mut reasons));
        let vendor_id = self.cell(Col::VendorId, &mut reasons).map(str::to_string);
        let vendor_name = self.cell(Col::VendorName, &mut reasons).map(str::to_string);
        let price = self.parse_price(&mut reasons);
        let protected = match self.cell(Col::Protected, &mut reasons) {
            None => false,
            Some(text) if text.eq_ignore_ascii_case("true") => true,
            Some(text) if text.eq_ignore_ascii_case("false") => false,
            Some(text) => {
                reasons.push(format!("protected: must be true or false, got '{text}'"));
                false
            }
        };

        match (parsed, country, number_type, capabilities, classification) {
            (
                Some(parsed),
                Some(country),
                Some(number_type),
                Some(capabilities),
                Some(classification),
            ) if reasons.is_empty() => Ok(NewNumber {
                e164: parsed.e164,
                country,
                number_type,
                capabilities,
                classification,
                location: Location {
                    rate_center,
                    state,
                    city,
                    lata,
                    zip,
                },
                tier,
                vendor_id,
                vendor_name,
                price,
                protected,
            }),
            _ => Err(RejectedRow {
                line,
                e164: raw_e164,
                reasons,
            }),
        }
    }

    /// The three price columns go together: a price without its currency is meaningless.
    fn parse_price(&self, reasons: &mut Vec<String>) -> Option<Price> {
        let setup = self.cell(Col::SetupPrice, reasons);
        let monthly = self.cell(Col::MonthlyPrice, reasons);
        let currency = self.cell(Col::Currency, reasons);
        match (setup, monthly, currency) {
            (None, None, None) => None,
            (Some(setup), Some(monthly), Some(currency)) => Price::parse(setup, monthly, currency)
                .map_err(|e| reasons.extend(reasons_of(e)))
                .ok(),
            _ => {
                let missing: Vec<&str> = [
                    (Col::SetupPrice, setup),
                    (Col::MonthlyPrice, monthly),
                    (Col::Currency, currency),
                ]
                .iter()
                .filter(|(_, value)| value.is_none())
                .map(|(col, _)| col.name())
                .collect();
                reasons.push(format!(
                    "setup_price, monthly_price, currency: give all three or none; missing {}",
                    missing.join(", ")
                ));
                None
            }
        }
    }
}

impl<R: Read> Iterator for CsvImporter<R> {
    type Item = Result<NewNumber, RejectedRow>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                let line = self.record.position().map_or(0, csv::Position::line);
                Some(self.parse_row(line))
            }
            Err(err) => {
                self.done = true;
                let line = err
                    .position()
                    .map_or_else(|| self.reader.position().line(), csv::Position::line);
                let reasons = vec![format!(
                    "file: could not read the file from this line on ({err}); the import stopped here"
                )];
                self.read_error = Some(err);
                Some(Err(RejectedRow {
                    line,
                    e164: None,
                    reasons,
                }))
            }
        }
    }
}

/// `column: reason` for each field error of a validation error.
fn reasons_of(err: Error) -> Vec<String> {
    match err {
        Error::Validation(fields) => fields
            .into_iter()
            .map(|f| format!("{}: {}", f.field, f.reason))
            .collect(),
        other => vec![other.to_string()],
    }
}

fn check<T>(result: Result<T, String>, reasons: &mut Vec<String>) -> Option<T> {
    result.map_err(|r| reasons.push(r)).ok()
}

/// The canonical type names, plus LANDLINE (MessageMedia's word for LOCAL).
fn parse_type(text: &str) -> Result<NumberType, String> {
    if text.eq_ignore_ascii_case("LANDLINE") {
        return Ok(NumberType::Local);
    }
    NumberType::parse_field(text, "type").map_err(|_| {
        format!("type: unknown value '{text}'; expected one of MOBILE, LOCAL (or LANDLINE), TOLL_FREE, SHORT_CODE")
    })
}

/// `E164::parse_detailed`, without libphonenumber for a cell written canonically (`+` and
/// digits only) in one of the ranges `generate` emits: those are answered from the generator's
/// tables (`known_plan`, tested to agree with libphonenumber), which is what lets an import of
/// millions of numbers run at hundreds of thousands a second. Anything else is parsed in full.
fn parse_e164(raw: &str) -> Result<ParsedE164, Error> {
    if let Some(digits) = raw.strip_prefix('+')
        && let Some((country, number_type)) = known_plan(digits.as_bytes())
    {
        return Ok(ParsedE164 {
            e164: E164::from_trusted(raw.to_string()),
            country: Some(country.to_string()),
            number_type: Some(number_type),
        });
    }
    E164::parse_detailed(raw)
}

/// Hashes the duplicate check's keys (telephone numbers as integers, uniformly spread in their
/// low digits) with one multiply-xorshift instead of SipHash: the file is the operator's own,
/// so there is no adversary to flood the table, and this runs once per row.
#[derive(Default)]
struct NumberHasher(u64);

impl Hasher for NumberHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        let z = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = z ^ (z >> 29);
    }
}

fn default_capabilities(number_type: NumberType) -> Capabilities {
    match number_type {
        NumberType::Local | NumberType::Mobile | NumberType::TollFree => Capabilities::NONE
            .with(Capability::Sms)
            .with(Capability::Voice),
        // Short codes carry messages only.
        NumberType::ShortCode => Capabilities::NONE.with(Capability::Sms),
    }
}

fn parse_state(text: &str) -> Result<String, String> {
    if text.len() == 2 && text.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(text.to_ascii_uppercase())
    } else {
        Err(format!(
            "state: must be a two-letter code such as WA, got '{text}'"
        ))
    }
}

/// 1 to 5 digits; leading zeros are dropped so "0674" and "674" are the same LATA.
fn parse_lata(text: &str) -> Result<String, String> {
    if (1..=5).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()) {
        let trimmed = text.trim_start_matches('0');
        Ok(if trimmed.is_empty() {
            "0".to_string()
        } else {
            trimmed.to_string()
        })
    } else {
        Err(format!("lata: must be 1 to 5 digits, got '{text}'"))
    }
}

/// Five digits, or ZIP+4 of which the five-digit ZIP is kept (search works on ZIPs).
fn parse_zip(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let ok = match bytes.len() {
        5 => digits(bytes),
        10 => digits(&bytes[..5]) && bytes[5] == b'-' && digits(&bytes[6..]),
        _ => false,
    };
    if ok {
        Ok(text[..5].to_string())
    } else {
        Err(format!(
            "zip: must be 5 digits or ZIP+4 such as 98101-1234, got '{text}'"
        ))
    }
}

fn parse_tier(text: &str) -> Result<i32, String> {
    match text.parse::<i32>() {
        Ok(tier) if (0..=5).contains(&tier) => Ok(tier),
        _ => Err(format!(
            "tier: must be an integer from 0 to 5, got '{text}'"
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{self, Cursor};

    use numbers_core::number::classification::classify;

    use super::*;

    fn import(text: &str) -> Vec<Result<NewNumber, RejectedRow>> {
        CsvImporter::new(Cursor::new(text.to_string()))
            .unwrap()
            .collect()
    }

    fn rejected(text: &str) -> Vec<RejectedRow> {
        import(text).into_iter().filter_map(Result::err).collect()
    }

    fn caps(list: &[Capability]) -> Capabilities {
        list.iter().copied().collect()
    }

    #[test]
    fn a_full_row_maps_every_column() {
        let csv = "e164,type,capabilities,classification,rate_center,state,city,lata,zip,tier,vendor_id,vendor_name,setup_price,monthly_price,currency,protected\n\
                   +1 (206) 555-0100,LOCAL,SMS|MMS|VOICE,silver, seattle ,wa,Seattle,0674,98101-1234,2,V1,Acme Numbers,1.5,0.75,usd,TRUE\n";
        let rows = import(csv);
        let n = rows[0].as_ref().unwrap();
        assert_eq!(n.e164.as_str(), "+12065550100");
        assert_eq!(n.country, "US");
        assert_eq!(n.number_type, NumberType::Local);
        assert_eq!(
            n.capabilities,
            caps(&[Capability::Sms, Capability::Mms, Capability::Voice])
        );
        assert_eq!(n.classification, Classification::Silver);
        assert_eq!(
            n.location,
            Location {
                rate_center: Some("SEATTLE".into()),
                state: Some("WA".into()),
                city: Some("SEATTLE".into()),
                lata: Some("674".into()),
                zip: Some("98101".into()),
            }
        );
        assert_eq!(n.tier, Some(2));
        assert_eq!(n.vendor_id.as_deref(), Some("V1"));
        assert_eq!(n.vendor_name.as_deref(), Some("Acme Numbers"));
        assert_eq!(
            n.price,
            Some(Price {
                setup_micros: 1_500_000,
                monthly_micros: 750_000,
                currency: "USD".into()
            })
        );
        assert!(n.protected);
    }

    #[test]
    fn defaults_come_from_the_number() {
        let rows = import("e164\n+14155550123\n+61491570156\n+18005550199\n+12065550100\n");
        let ok: Vec<&NewNumber> = rows.iter().map(|r| r.as_ref().unwrap()).collect();
        assert_eq!(
            (ok[0].country.as_str(), ok[0].number_type),
            ("US", NumberType::Local)
        );
        assert_eq!(
            (ok[1].country.as_str(), ok[1].number_type),
            ("AU", NumberType::Mobile)
        );
        assert_eq!(
            (ok[2].country.as_str(), ok[2].number_type),
            ("US", NumberType::TollFree)
        );
        let sms_voice = caps(&[Capability::Sms, Capability::Voice]);
        assert!(ok.iter().all(|n| n.capabilities == sms_voice));
        assert!(
            ok.iter()
                .all(|n| n.classification == classify(n.e164.digits()))
        );
        assert!(ok.iter().all(|n| !n.protected
            && n.price.is_none()
            && n.tier.is_none()
            && n.location == Location::default()));
    }

    #[test]
    fn header_is_trimmed_case_insensitive_and_bom_tolerant() {
        let rows =
            import("\u{feff} E164 , Type \n+14155550123,landline\n+14155550124,short_code\n");
        assert_eq!(rows[0].as_ref().unwrap().number_type, NumberType::Local);
        let short = rows[1].as_ref().unwrap();
        assert_eq!(short.number_type, NumberType::ShortCode);
        assert_eq!(short.capabilities, caps(&[Capability::Sms]));
    }

    #[test]
    fn each_bad_cell_is_reported_with_its_line() {
        let csv = "e164,type,capabilities,classification,state,zip,lata,tier,protected\n\
                   +12065550100,LOCAL,SMS,,,,,,\n\
                   12065550101,,,,,,,,\n\
                   ,,,,,,,,\n\
                   +12065550102,X,,,,,,,\n\
                   +12065550103,,SMS|PIGEON,,,,,,\n\
                   +12065550104,,|,,,,,,\n\
                   +12065550105,,,PLATINUM,,,,,\n\
                   +12065550106,,,,Washington,,,,\n\
                   +12065550107,,,,,9810,,,\n\
                   +12065550108,,,,,,123456,,\n\
                   +12065550109,,,,,,,6,\n\
                   +12065550110,,,,,,,one,\n\
                   +12065550111,,,,,,,,yes\n\
                   +11234567890,,,,,,,,\n";
        let rows = rejected(csv);
        let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, (3..=15).collect::<Vec<u64>>());
        let expect = [
            "e164: must be in E.164 form",
            "e164: is required",
            "type: unknown value 'X'",
            "capabilities: unknown value 'PIGEON'",
            "capabilities: must name at least one",
            "classification: unknown value 'PLATINUM'",
            "state: must be a two-letter code",
            "zip: must be 5 digits",
            "lata: must be 1 to 5 digits",
            "tier: must be an integer from 0 to 5, got '6'",
            "tier: must be an integer from 0 to 5, got 'one'",
            "protected: must be true or false",
            "e164: is not a valid telephone number",
        ];
        for (row, want) in rows.iter().zip(expect) {
            assert_eq!(row.reasons.len(), 1, "{row}");
            assert!(
                row.reasons[0].starts_with(want),
                "line {}: {:?} should start with {want:?}",
                row.line,
                row.reasons
            );
        }
        assert_eq!(rows[0].e164.as_deref(), Some("12065550101"));
        assert_eq!(rows[1].e164, None);
    }

    #[test]
    fn every_problem_of_a_row_is_listed() {
        let csv = "e164,type,state,tier,setup_price,monthly_price,currency\n+12065550100,PIGEON,W,9,abc,1,US\n";
        let row = &rejected(csv)[0];
        assert_eq!(row.line, 2);
        let fields: Vec<&str> = row
            .reasons
            .iter()
            .map(|r| r.split(':').next().unwrap_or(""))
            .collect();
        assert_eq!(
            fields,
            ["type", "state", "tier", "setup_price", "currency"],
            "{row}"
        );
    }

    #[test]
    fn prices_come_all_three_or_none() {
        let csv =
            "e164,setup_price,monthly_price,currency\n+12065550100,1.00,,USD\n+12065550101,,,\n";
        let rows = import(csv);
        let err = rows[0].as_ref().unwrap_err();
        assert_eq!(
            err.reasons,
            ["setup_price, monthly_price, currency: give all three or none; missing monthly_price"]
        );
        assert_eq!(rows[1].as_ref().unwrap().price, None);
    }

    #[test]
    fn numbers_without_country_or_derivable_type_are_rejected() {
        // +800 is the international freephone code: valid, but no country.
        let rows = rejected("e164\n+80012345678\n+19002345678\n");
        assert!(
            rows[0].reasons[0].starts_with("e164: belongs to a non-geographic country code"),
            "{:?}",
            rows[0]
        );
        // Premium rate: libphonenumber knows the number but it is none of our types.
        assert!(
            rows[1].reasons[0].starts_with("type: not given"),
            "{:?}",
            rows[1]
        );
        // Naming the type is enough.
        assert!(import("e164,type\n+19002345678,LOCAL\n")[0].is_ok());
    }

    #[test]
    fn duplicates_name_the_first_line_whatever_the_formatting() {
        let csv = "e164,vendor_name\n+12065550100,a\n+12065550101,\"multi\nline\"\n+1 206-555-0100,b\n+12065550101,c\n";
        let rows = import(csv);
        assert!(rows[0].is_ok() && rows[1].is_ok());
        let dup = rows[2].as_ref().unwrap_err();
        assert_eq!(
            (dup.line, dup.e164.as_deref()),
            (5, Some("+1 206-555-0100"))
        );
        assert_eq!(dup.reasons, ["e164: duplicate of line 2"]);
        // The quoted newline makes the second row span lines 3-4.
        assert_eq!(
            rows[3].as_ref().unwrap_err().reasons,
            ["e164: duplicate of line 3"]
        );
        assert_eq!(rows[3].as_ref().unwrap_err().line, 6);

        let unchecked: Vec<_> = CsvImporter::new(Cursor::new(csv))
            .unwrap()
            .without_duplicate_check()
            .collect();
        assert!(unchecked.iter().all(Result::is_ok));
    }

    #[test]
    fn rows_with_the_wrong_width_are_rejected_alone() {
        let rows = import("e164,tier\n+12065550100,1,extra\n+12065550101\n+12065550102,3\n");
        assert_eq!(
            rows[0].as_ref().unwrap_err().reasons,
            ["row has 3 fields but the header has 2"]
        );
        assert_eq!(rows[1].as_ref().unwrap_err().line, 3);
        assert_eq!(rows[2].as_ref().unwrap().tier, Some(3));
    }

    #[test]
    fn a_cell_that_is_not_utf8_rejects_only_its_row() {
        let mut bytes = b"e164,city\n+12065550100,S\xffATTLE\n".to_vec();
        bytes.extend_from_slice(b"+12065550101,SEATTLE\n");
        let rows: Vec<_> = CsvImporter::new(Cursor::new(bytes)).unwrap().collect();
        assert_eq!(
            rows[0].as_ref().unwrap_err().reasons,
            ["city: is not valid UTF-8"]
        );
        assert!(rows[1].is_ok());
    }

    #[test]
    fn header_problems_fail_the_whole_file() {
        match CsvImporter::new(Cursor::new("number,tyep,type,TYPE\n+12065550100,,,\n")) {
            Err(CsvImportError::Header {
                missing,
                unknown,
                repeated,
            }) => {
                assert_eq!(missing, ["e164"]);
                assert_eq!(unknown, ["number", "tyep"]);
                assert_eq!(repeated, ["type"]);
            }
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("accepted a bad header"),
        }
        let Err(err) = CsvImporter::new(Cursor::new("e164,monthy_price\n")) else {
            panic!("accepted a typo")
        };
        let message = err.to_string();
        assert!(
            message.contains("unknown column(s) 'monthy_price'")
                && message.contains("monthly_price"),
            "{message}"
        );
        assert!(matches!(
            CsvImporter::new(Cursor::new("")),
            Err(CsvImportError::Empty)
        ));
        assert_eq!(CsvImporter::new(Cursor::new("e164\n")).unwrap().count(), 0);
    }

    /// Fails with an I/O error once `limit` bytes are read.
    struct Flaky {
        inner: Cursor<Vec<u8>>,
        limit: u64,
    }

    impl Read for Flaky {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.inner.position() >= self.limit {
                return Err(io::Error::other("disk on fire"));
            }
            let room = usize::try_from(self.limit - self.inner.position())
                .unwrap()
                .min(buf.len());
            self.inner.read(&mut buf[..room])
        }
    }

    #[test]
    fn a_read_error_stops_the_import_visibly() {
        let text = "e164\n+12065550100\n+12065550101\n+12065550102\n";
        let mut importer = CsvImporter::new(Flaky {
            inner: Cursor::new(text.as_bytes().to_vec()),
            limit: 30,
        })
        .unwrap();
        let rows: Vec<_> = (&mut importer).collect();
        let last = rows.last().unwrap().as_ref().unwrap_err();
        assert!(last.reasons[0].contains("disk on fire"), "{last}");
        assert!(rows[0].is_ok());
        assert!(importer.read_error().is_some());
        assert!(importer.next().is_none());
    }

    /// Rows are produced on the fly and never held: the importer pulls them one at a time.
    #[test]
    fn it_streams() {
        struct Rows {
            next: u32,
            pending: Vec<u8>,
        }
        impl Read for Rows {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.pending.is_empty() {
                    if self.next == 20_000 {
                        return Ok(0);
                    }
                    self.pending = format!("+1206{:07}\n", 2_000_000 + self.next).into_bytes();
                    self.next += 1;
                }
                let n = self.pending.len().min(buf.len());
                buf[..n].copy_from_slice(&self.pending[..n]);
                self.pending.drain(..n);
                Ok(n)
            }
        }
        let source = Rows {
            next: 0,
            pending: b"e164\n".to_vec(),
        };
        let imported = CsvImporter::new(source)
            .unwrap()
            .without_duplicate_check()
            .filter(Result::is_ok)
            .count();
        assert_eq!(imported, 20_000);
    }

    #[test]
    fn the_example_file_imports_cleanly() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/inventory.csv");
        let file = std::fs::File::open(path).unwrap();
        let rows: Vec<_> = CsvImporter::new(file).unwrap().collect();
        assert!(rows.len() >= 10);
        for row in rows {
            assert!(row.is_ok(), "{}", row.unwrap_err());
        }
    }

    mod properties {
        //! Any rows under a valid header: each is a number or a rejected row with reasons,
        //! never a panic; hostile headers are refused as a whole.
        use proptest::prelude::*;

        use super::super::{COLUMNS, CsvImporter};

        fn cell() -> impl Strategy<Value = String> {
            prop_oneof![
                "[+]?[0-9]{0,18}",
                "-?[0-9]{0,25}(\\.[0-9]{0,9})?",
                "[A-Za-z_|]{0,12}",
                "\\PC{0,16}",
                Just("\"".to_string()),
                Just("99999999999999999999999999".to_string()),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            #[test]
            fn any_rows_are_numbers_or_rejections(
                rows in prop::collection::vec(prop::collection::vec(cell(), 0..20), 0..8)
            ) {
                let mut csv = COLUMNS.join(",");
                csv.push('\n');
                for row in &rows {
                    csv.push_str(&row.join(","));
                    csv.push('\n');
                }
                let importer = CsvImporter::new(csv.as_bytes()).expect("the header is valid");
                for item in importer {
                    if let Err(rejected) = item {
                        prop_assert!(!rejected.reasons.is_empty());
                    }
                }
            }

            #[test]
            fn any_document_is_read_or_refused(doc in "\\PC{0,200}") {
                if let Ok(importer) = CsvImporter::new(doc.as_bytes()) {
                    for _ in importer {}
                }
            }
        }
    }
}
