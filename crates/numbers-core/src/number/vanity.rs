//! Vanity letters on the phone keypad (ITU-T E.161): 2=ABC 3=DEF 4=GHI 5=JKL 6=MNO 7=PQRS 8=TUV
//! 9=WXYZ. Patterns are searched as digits, so `CAFE` finds numbers containing `2233`.

use crate::error::Error;

pub fn letter_to_digit(c: char) -> Option<char> {
    let digit = match c.to_ascii_uppercase() {
        'A' | 'B' | 'C' => '2',
        'D' | 'E' | 'F' => '3',
        'G' | 'H' | 'I' => '4',
        'J' | 'K' | 'L' => '5',
        'M' | 'N' | 'O' => '6',
        'P' | 'Q' | 'R' | 'S' => '7',
        'T' | 'U' | 'V' => '8',
        'W' | 'X' | 'Y' | 'Z' => '9',
        _ => return None,
    };
    Some(digit)
}

/// Digits and keypad letters to digits. Anything else is rejected with `field` named.
pub fn to_digits(pattern: &str, field: &str) -> Result<String, Error> {
    pattern
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                Ok(c)
            } else {
                letter_to_digit(c).ok_or_else(|| {
                    Error::invalid(
                        field,
                        format!("'{c}' is neither a digit nor a keypad letter"),
                    )
                })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_words_on_the_keypad() {
        assert_eq!(to_digits("CAFE", "p").unwrap(), "2233");
        assert_eq!(to_digits("flowers", "p").unwrap(), "3569377");
        assert_eq!(to_digits("1800CALLNOW", "p").unwrap(), "18002255669");
        assert!(to_digits("CA*E", "p").is_err());
    }
}
