//! GOLD / SILVER / BRONZE from the digits, by MessageMedia's published pattern table, applied to
//! the last six digits of the number:
//!
//! | pattern  | GOLD                                   | SILVER                                              |
//! |----------|----------------------------------------|-----------------------------------------------------|
//! | same     | six of the same (999999)               | five of the same (999991, 199999)                   |
//! | sequence | six in sequence (234567, 765432)       | five in sequence (245678, 456782, 287654)           |
//! | triplets | two identical (123123), two triples (444666) | identical pair in both (004008, 400800), one triple + one sequence (444789, 345777), mirror (468864) |
//! | pairs    | three identical (454545)               | three doubled pairs (447700), three pairs in sequence (232425, 090807) |
//!
//! Everything else is BRONZE. The unit tests below are the table's own examples.

use super::kinds::Classification;

pub fn classify(digits: &str) -> Classification {
    let all: Vec<u8> = digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    if all.len() < 6 {
        return Classification::Bronze;
    }
    let d = &all[all.len() - 6..];
    if is_gold(d) {
        Classification::Gold
    } else if is_silver(d) {
        Classification::Silver
    } else {
        Classification::Bronze
    }
}

fn all_same(s: &[u8]) -> bool {
    s.windows(2).all(|w| w[0] == w[1])
}

/// Strictly ascending or strictly descending by one at every step.
fn in_sequence(s: &[i32]) -> bool {
    s.len() >= 2
        && (s.windows(2).all(|w| w[1] == w[0] + 1) || s.windows(2).all(|w| w[1] == w[0] - 1))
}

fn digit_sequence(s: &[u8]) -> bool {
    in_sequence(&s.iter().map(|&x| i32::from(x)).collect::<Vec<_>>())
}

fn pairs(d: &[u8]) -> [[u8; 2]; 3] {
    [[d[0], d[1]], [d[2], d[3]], [d[4], d[5]]]
}

fn is_gold(d: &[u8]) -> bool {
    let (t1, t2) = d.split_at(3);
    let p = pairs(d);
    all_same(d)
        || digit_sequence(d)
        || t1 == t2
        || (all_same(t1) && all_same(t2))
        || (p[0] == p[1] && p[1] == p[2])
}

fn is_silver(d: &[u8]) -> bool {
    let (t1, t2) = d.split_at(3);
    let five_same = all_same(&d[..5]) || all_same(&d[1..]);
    let five_sequence = digit_sequence(&d[..5]) || digit_sequence(&d[1..]);
    let shared_pair =
        (t1[0] == t1[1] && t1[..2] == t2[..2]) || (t1[1] == t1[2] && t1[1..] == t2[1..]);
    let triple_and_sequence =
        (all_same(t1) && digit_sequence(t2)) || (digit_sequence(t1) && all_same(t2));
    let mirror = d.iter().eq(d.iter().rev());
    let p = pairs(d);
    let doubled_pairs = p.iter().all(|pair| pair[0] == pair[1]);
    let pair_values: Vec<i32> = p
        .iter()
        .map(|pair| i32::from(pair[0]) * 10 + i32::from(pair[1]))
        .collect();
    five_same
        || five_sequence
        || shared_pair
        || triple_and_sequence
        || mirror
        || doubled_pairs
        || in_sequence(&pair_values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_gold_examples() {
        for n in ["999999", "234567", "765432", "123123", "444666", "454545"] {
            assert_eq!(classify(n), Classification::Gold, "{n}");
        }
    }

    #[test]
    fn the_published_silver_examples() {
        for n in [
            "999991", "199999", "245678", "456782", "287654", "004008", "400800", "444789",
            "345777", "468864", "447700", "232425", "090807",
        ] {
            assert_eq!(classify(n), Classification::Silver, "{n}");
        }
    }

    #[test]
    fn everything_else_is_bronze_and_only_the_last_six_digits_count() {
        assert_eq!(classify("318274"), Classification::Bronze);
        assert_eq!(classify("+61491570156"), Classification::Bronze);
        assert_eq!(classify("+61400999999"), Classification::Gold);
        assert_eq!(classify("12"), Classification::Bronze);
    }
}
