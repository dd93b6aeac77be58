//! The digit index: an in-memory cache that turns "contains these digits" and "ends with these
//! digits" searches (4 digits or more) from a scan of every row into a walk of a short posting
//! list. It owns the data structure, its freshness rule and the SQL both stores use with it;
//! the stores own loading it and running the SQL.
//!
//! It is a cache, never the source of truth:
//! - It holds every E.164 number ever imported (numbers are never deleted), as sorted packed
//!   keys, plus for each of the 10,000 four-digit groups the positions of the numbers containing
//!   it. It knows nothing of availability or of the other facets.
//! - A search takes its candidates from it in E.164 order and asks the store which of them match
//!   the whole query now (`SearchPlan::candidates_statement`: the plan's tests on
//!   `e164 IN (chunk)`), in the same read transaction, chunk after chunk, until the page is full.
//!   So a result is exactly what the SQL search would answer; the index only skips the rows that
//!   cannot match the digits.
//! - It is complete only for the imports it has seen. Its `watermark` is the seq of the latest
//!   `number.imported` event when it was loaded (in the same snapshot as the numbers). Every
//!   search reads the current watermark in its own transaction; if it moved (another import, in
//!   this process or another one sharing the database), the index is not used for that search
//!   (the plain SQL answers) and a rebuild is started. Event seqs are commit-ordered on both
//!   databases, so equal watermarks mean the same set of imported numbers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use numbers_core::search::{DigitPattern, PatternPosition, SearchQuery};

/// Digits per posting-list group.
pub const GRAM: usize = 4;
const GRAMS: usize = 10_000;
const MAX_DIGITS: u32 = 15;

/// The seq of the latest import, in the snapshot of the transaction that runs it.
pub const IMPORT_WATERMARK_SQL: &str =
    "SELECT COALESCE(MAX(seq), 0) FROM events WHERE kind = 'number.imported'";
/// Every number the index must know (all states: availability is checked by the store).
pub const INDEXED_NUMBERS_SQL: &str = "SELECT e164 FROM numbers";

/// E.164 digits as one u64 that sorts like the string: the digits right-padded with zeros to 15,
/// shifted left 4 bits, with the digit count in the low 4 bits (a shorter string that is a
/// prefix of a longer one sorts first, as it does as text).
fn pack(e164: &str) -> Option<u64> {
    let digits = e164.strip_prefix('+')?;
    let len = u32::try_from(digits.len()).ok()?;
    if len == 0 || len > MAX_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u64 = digits.parse().ok()?;
    Some((value * 10u64.pow(MAX_DIGITS - len)) << 4 | u64::from(len))
}

/// The digits of a packed key, as ASCII, in a fixed buffer.
fn unpack(key: u64) -> ([u8; 15], usize) {
    let len = (key & 0xF) as usize;
    let mut value = key >> 4;
    let mut out = [b'0'; 15];
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
    (out, len)
}

fn gram_of(digits: &[u8]) -> usize {
    digits
        .iter()
        .fold(0usize, |acc, d| acc * 10 + usize::from(d - b'0'))
}

/// The in-memory structure (see the module documentation).
#[derive(Debug)]
pub struct DigitIndex {
    keys: Vec<u64>,
    postings: Vec<Vec<u32>>,
    watermark: i64,
}

impl DigitIndex {
    /// Builds from every stored E.164 (any order, duplicates and non-E.164 values ignored).
    pub fn build<S: AsRef<str>>(numbers: impl IntoIterator<Item = S>, watermark: i64) -> Self {
        let mut builder = DigitIndexBuilder::default();
        for n in numbers {
            builder.push(n.as_ref());
        }
        builder.finish(watermark)
    }

    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether the index can answer this search's digit pattern.
    pub fn serves(query: &SearchQuery) -> bool {
        query.pattern.as_ref().is_some_and(|p| {
            matches!(
                p.position,
                PatternPosition::Contains | PatternPosition::EndsWith
            ) && p.digits.len() >= GRAM
                && p.digits.len() <= MAX_DIGITS as usize
        })
    }

    /// Every indexed number whose digits match `pattern`, after `after`, in E.164 order. None
    /// when the index cannot answer (pattern not served, or `after` not an E.164 number).
    pub fn candidates<'a>(
        &'a self,
        pattern: &'a DigitPattern,
        after: Option<&str>,
    ) -> Option<impl Iterator<Item = String> + 'a> {
        let want = pattern.digits.as_bytes();
        if want.len() < GRAM || !want.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let ends_with = match pattern.position {
            PatternPosition::Contains => false,
            PatternPosition::EndsWith => true,
            PatternPosition::StartsWith => return None,
        };
        let start = match after {
            Some(a) => {
                let key = pack(a)?;
                self.keys.partition_point(|k| *k <= key)
            }
            None => 0,
        };
        // Walk the shortest posting list among the pattern's groups (for ends-with, the last
        // group is as good as any and is where the match must be).
        let list = if ends_with {
            &self.postings[gram_of(&want[want.len() - GRAM..])]
        } else {
            want.windows(GRAM)
                .map(|w| &self.postings[gram_of(w)])
                .min_by_key(|l| l.len())?
        };
        let from = list.partition_point(|p| (*p as usize) < start);
        Some(list[from..].iter().filter_map(move |pos| {
            let key = *self.keys.get(*pos as usize)?;
            let (digits, len) = unpack(key);
            let digits = &digits[..len];
            let hit = if ends_with {
                digits.ends_with(want)
            } else {
                digits.windows(want.len()).any(|w| w == want)
            };
            hit.then(|| {
                let mut s = String::with_capacity(len + 1);
                s.push('+');
                s.extend(digits.iter().map(|d| char::from(*d)));
                s
            })
        }))
    }
}

/// Collects numbers as packed keys while a store streams them (8 bytes each, never a String per
/// number: ten million numbers must not cost a gigabyte on the way in).
#[derive(Debug, Default)]
pub struct DigitIndexBuilder {
    keys: Vec<u64>,
}

impl DigitIndexBuilder {
    pub fn push(&mut self, e164: &str) {
        if let Some(key) = pack(e164) {
            self.keys.push(key);
        }
    }

    pub fn finish(self, watermark: i64) -> DigitIndex {
        let mut keys = self.keys;
        keys.sort_unstable();
        keys.dedup();
        keys.shrink_to_fit();
        // Count first, then fill: each posting list is allocated once at its exact size.
        let mut counts = vec![0u32; GRAMS];
        let mut last_seen = vec![u32::MAX; GRAMS];
        for (pos, key) in keys.iter().enumerate() {
            let pos = pos as u32;
            let (digits, len) = unpack(*key);
            for window in digits[..len].windows(GRAM) {
                let g = gram_of(window);
                // A number holding the same group twice is listed once.
                if last_seen[g] != pos {
                    last_seen[g] = pos;
                    counts[g] += 1;
                }
            }
        }
        let mut postings: Vec<Vec<u32>> = counts
            .iter()
            .map(|c| Vec::with_capacity(*c as usize))
            .collect();
        for (pos, key) in keys.iter().enumerate() {
            let pos = pos as u32;
            let (digits, len) = unpack(*key);
            for window in digits[..len].windows(GRAM) {
                let list = &mut postings[gram_of(window)];
                if list.last() != Some(&pos) {
                    list.push(pos);
                }
            }
        }
        DigitIndex {
            keys,
            postings,
            watermark,
        }
    }
}

/// The index a store keeps, and whether a rebuild is under way.
#[derive(Debug, Default)]
pub struct DigitIndexCache {
    current: RwLock<Option<Arc<DigitIndex>>>,
    building: AtomicBool,
}

impl DigitIndexCache {
    /// The index if it is complete for `watermark` (the one the caller just read).
    pub fn fresh(&self, watermark: i64) -> Option<Arc<DigitIndex>> {
        let current = self
            .current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        current
            .as_ref()
            .filter(|i| i.watermark == watermark)
            .cloned()
    }

    /// True for exactly one caller until `finish_build`: that caller builds.
    pub fn start_build(&self) -> bool {
        !self.building.swap(true, Ordering::AcqRel)
    }

    /// Installs a built index (unless a newer one is there already) and ends the build.
    pub fn finish_build(&self, built: Option<DigitIndex>) {
        if let Some(index) = built {
            let mut current = self
                .current
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if current
                .as_ref()
                .is_none_or(|c| c.watermark <= index.watermark)
            {
                *current = Some(Arc::new(index));
            }
        }
        self.building.store(false, Ordering::Release);
    }
}

/// Chunk sizes for successive verification queries: the first asks for a little more than a
/// page (most candidates are usually on offer), later ones grow so a query whose other facets
/// reject most candidates still needs few round trips.
pub fn chunk_sizes(page_size: u32) -> impl Iterator<Item = usize> {
    let first = (page_size as usize + 1) * 5 / 4 + 8;
    std::iter::successors(Some(first), |n| Some((n * 2).min(4096)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(position: PatternPosition, digits: &str) -> DigitPattern {
        DigitPattern {
            position,
            digits: digits.into(),
            international: false,
        }
    }

    #[test]
    fn packed_keys_sort_like_the_strings() {
        let mut strings = vec![
            "+12065550100",
            "+1206555010",
            "+120655501000",
            "+61412345678",
            "+4930123456",
            "+12065550099",
            "+1800",
        ];
        let mut keys: Vec<u64> = strings.iter().map(|s| pack(s).unwrap()).collect();
        strings.sort();
        keys.sort();
        let back: Vec<String> = keys
            .iter()
            .map(|k| {
                let (d, len) = unpack(*k);
                format!("+{}", std::str::from_utf8(&d[..len]).unwrap())
            })
            .collect();
        assert_eq!(back, strings);
        assert!(pack("12065550100").is_none());
        assert!(pack("+1206x").is_none());
    }

    #[test]
    fn candidates_are_exactly_the_matching_numbers_in_order() {
        let numbers = [
            "+12065552233",
            "+12232233000",
            "+15552233444",
            "+18002234567",
            "+61422330000",
            "+12065550123",
        ];
        let index = DigitIndex::build(numbers, 7);
        assert_eq!(index.watermark(), 7);
        assert_eq!(index.len(), 6);
        let contains = pattern(PatternPosition::Contains, "2233");
        let got: Vec<String> = index.candidates(&contains, None).unwrap().collect();
        let mut want: Vec<&str> = numbers
            .iter()
            .copied()
            .filter(|n| n.contains("2233"))
            .collect();
        want.sort();
        assert_eq!(got, want);
        let after: Vec<String> = index
            .candidates(&contains, Some("+12232233000"))
            .unwrap()
            .collect();
        assert_eq!(after, vec!["+15552233444", "+61422330000"]);
        let ends = pattern(PatternPosition::EndsWith, "2233");
        let got: Vec<String> = index.candidates(&ends, None).unwrap().collect();
        assert_eq!(got, vec!["+12065552233"]);
        let long = pattern(PatternPosition::Contains, "55502");
        assert_eq!(index.candidates(&long, None).unwrap().count(), 0);
        assert!(
            index
                .candidates(&pattern(PatternPosition::Contains, "223"), None)
                .is_none()
        );
    }

    #[test]
    fn the_cache_serves_only_its_own_watermark() {
        let cache = DigitIndexCache::default();
        assert!(cache.fresh(0).is_none());
        assert!(cache.start_build());
        assert!(!cache.start_build(), "one builder at a time");
        cache.finish_build(Some(DigitIndex::build(["+12065550100"], 3)));
        assert!(cache.fresh(3).is_some());
        assert!(cache.fresh(4).is_none());
        assert!(cache.start_build());
        // An older build never replaces a newer index.
        cache.finish_build(Some(DigitIndex::build(["+12065550100"], 2)));
        assert_eq!(cache.fresh(3).map(|i| i.watermark()), Some(3));
    }
}
