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

#[cfg(test)]
mod properties {
    //! Vanity patterns come straight from search requests: any text maps to digits or is
    //! refused naming the field, never a panic, and the mapping is the keypad's, letter for letter.
    use proptest::prelude::*;

    use super::{letter_to_digit, to_digits};
    use crate::error::Error;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_maps_or_is_refused_naming_the_field(s in "\\PC{0,30}") {
            match to_digits(&s, "pattern") {
                Ok(digits) => {
                    prop_assert_eq!(digits.chars().count(), s.chars().count());
                    prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
                    prop_assert!(s.chars().all(|c| c.is_ascii_alphanumeric()));
                }
                Err(Error::Validation(errors)) => {
                    prop_assert!(errors.iter().all(|e| e.field == "pattern"));
                    prop_assert!(s.chars().any(|c| !c.is_ascii_alphanumeric()));
                }
                Err(other) => prop_assert!(false, "not a field error: {other:?}"),
            }
        }

        #[test]
        fn keypad_words_map_letter_by_letter_in_either_case(s in "[a-zA-Z0-9]{0,20}") {
            let digits = to_digits(&s, "p").unwrap();
            prop_assert_eq!(&to_digits(&s.to_ascii_uppercase(), "p").unwrap(), &digits);
            prop_assert_eq!(&to_digits(&s.to_ascii_lowercase(), "p").unwrap(), &digits);
            for (c, d) in s.chars().zip(digits.chars()) {
                let expected = if c.is_ascii_digit() { c } else { letter_to_digit(c).unwrap() };
                prop_assert_eq!(d, expected);
                // 0 and 1 carry no letters on the keypad.
                prop_assert!(c.is_ascii_digit() || ('2'..='9').contains(&d));
            }
        }

        #[test]
        fn digits_map_to_themselves(s in "[0-9]{0,20}") {
            prop_assert_eq!(to_digits(&s, "p").unwrap(), s);
        }
    }
}
