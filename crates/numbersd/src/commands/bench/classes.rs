//! The search classes the benchmark measures: every native search facet and each dialect's
//! search route (Bandwidth `availableNumbers`, Sinch `availableNumbers`, MessageMedia dedicated
//! numbers), each expanded over the values `Samples` drew, so its p50/p99 are over all of them.

use super::load::encode;
use super::samples::Samples;

/// A class: its name and one path per value.
#[derive(Debug, Clone)]
pub struct Class {
    pub name: String,
    pub paths: Vec<String>,
}

fn class<T>(name: &str, values: &[T], path: impl Fn(&T) -> String) -> Class {
    Class {
        name: name.to_string(),
        paths: values.iter().map(path).collect(),
    }
}

/// Every class, native first, then Bandwidth, Sinch and MessageMedia. `account` is the tenant's
/// account id, which the vendor dialects carry in the path.
pub fn all(s: &Samples, account: &str) -> Vec<Class> {
    let native = |q: String| format!("/v1/available-numbers?{q}");
    let rc = |(rc, st): &(String, String)| (encode(rc), encode(st));
    let countries = ["US", "AU", "GB", "DE"];
    let mut combos = Vec::new();
    for country in countries {
        for number_type in ["LOCAL", "MOBILE", "TOLL_FREE"] {
            for caps in ["SMS", "VOICE", "SMS,VOICE", "MMS"] {
                combos.push(format!(
                    "country={country}&type={number_type}&capabilities={caps}"
                ));
            }
        }
    }
    let mut classifications = Vec::new();
    for country in countries {
        for c in ["GOLD", "SILVER", "BRONZE"] {
            classifications.push(format!("country={country}&classification={c}"));
            classifications.push(format!("classification={c}&type=LOCAL&country={country}"));
        }
    }
    let bandwidth = |q: String| format!("/api/accounts/{account}/availableNumbers?{q}&quantity=50");
    let sinch = |q: String| {
        format!("/v1/projects/{account}/availableNumbers?regionCode=US&type=LOCAL&size=50&{q}")
    };
    let messagemedia = |q: String| format!("/v1/messaging/numbers/dedicated?page_size=50&{q}");
    let mut service_types = Vec::new();
    for country in countries {
        for types in ["SMS", "MMS", "TTS", "SMS,MMS"] {
            service_types.push(format!("country={country}&service_types={types}"));
        }
    }
    let words_and_digits: Vec<String> = s.vanity.iter().chain(&s.digits).cloned().collect();
    vec![
        class("country+type+capability", &combos, |q| native(q.clone())),
        class("country+NPA", &s.npas, |v| {
            native(format!("country=US&npa={v}"))
        }),
        class("NPA (no country)", &s.npas, |v| native(format!("npa={v}"))),
        class("country+type+NPA", &s.npas, |v| {
            native(format!("country=US&type=LOCAL&npa={v}"))
        }),
        class("country+NPA-NXX", &s.npa_nxxs, |v| {
            native(format!("country=US&npa_nxx={v}"))
        }),
        class("NPA-NXX (no country)", &s.npa_nxxs, |v| {
            native(format!("npa_nxx={v}"))
        }),
        class("NPA-NXX-X", &s.npa_nxx_xs, |v| {
            native(format!("npa_nxx_x={v}"))
        }),
        class("rate center+state", &s.rate_centers, |v| {
            let (rc, st) = rc(v);
            native(format!("rate_center={rc}&state={st}"))
        }),
        class("city+state", &s.cities, |v| {
            let (city, st) = rc(v);
            native(format!("city={city}&state={st}"))
        }),
        class("ZIP", &s.zips, |v| native(format!("zip={v}"))),
        class("LATA", &s.latas, |v| native(format!("lata={v}"))),
        class("state (no country)", &s.states, |v| {
            native(format!("state={v}"))
        }),
        class("country+state, 50 a page", &s.states, |v| {
            native(format!("country=US&state={v}&page_size=50"))
        }),
        class("starts-with (no country)", &s.prefixes, |v| {
            native(format!("starts_with={v}"))
        }),
        class("country+starts-with", &s.prefixes, |v| {
            native(format!("country=US&starts_with={v}"))
        }),
        class("contains digits", &s.digits, |v| {
            native(format!("contains={v}"))
        }),
        class("contains vanity word", &s.vanity, |v| {
            native(format!("contains={v}"))
        }),
        class("ends-with", &s.digits, |v| native(format!("ends_with={v}"))),
        class("toll-free pattern", &s.toll_free, |v| {
            native(format!("toll_free_pattern={}", encode(v)))
        }),
        class("classification", &classifications, |q| native(q.clone())),
        class("bandwidth: areaCode", &s.npas, |v| {
            bandwidth(format!("areaCode={v}"))
        }),
        class("bandwidth: npaNxx", &s.npa_nxxs, |v| {
            bandwidth(format!("npaNxx={v}"))
        }),
        class("bandwidth: npaNxxx", &s.npa_nxx_xs, |v| {
            bandwidth(format!("npaNxxx={v}"))
        }),
        class(
            "bandwidth: rateCenter+state, TN detail",
            &s.rate_centers,
            |v| {
                let (rc, st) = rc(v);
                bandwidth(format!("rateCenter={rc}&state={st}&enableTNDetail=true"))
            },
        ),
        class("bandwidth: city+state", &s.cities, |v| {
            let (city, st) = rc(v);
            bandwidth(format!("city={city}&state={st}"))
        }),
        class("bandwidth: state", &s.states, |v| {
            bandwidth(format!("state={v}"))
        }),
        class("bandwidth: zip", &s.zips, |v| bandwidth(format!("zip={v}"))),
        class("bandwidth: lata", &s.latas, |v| {
            bandwidth(format!("lata={v}"))
        }),
        class("bandwidth: localVanity", &s.vanity, |v| {
            bandwidth(format!("localVanity={v}"))
        }),
        class("bandwidth: tollFreeWildCardPattern", &s.toll_free, |v| {
            bandwidth(format!("tollFreeWildCardPattern={}", encode(v)))
        }),
        class("sinch: pattern START (NPA)", &s.npas, |v| {
            sinch(format!(
                "numberPattern.pattern={v}&numberPattern.searchPattern=START"
            ))
        }),
        class("sinch: pattern START (NPA-NXX)", &s.npa_nxxs, |v| {
            sinch(format!(
                "numberPattern.pattern={v}&numberPattern.searchPattern=START"
            ))
        }),
        class("sinch: pattern CONTAINS", &s.digits, |v| {
            sinch(format!(
                "numberPattern.pattern={v}&numberPattern.searchPattern=CONTAINS"
            ))
        }),
        class("sinch: pattern END", &s.digits, |v| {
            sinch(format!(
                "numberPattern.pattern={v}&numberPattern.searchPattern=END"
            ))
        }),
        class("messagemedia: country+service types", &service_types, |q| {
            messagemedia(q.clone())
        }),
        class("messagemedia: matching", &words_and_digits, |v| {
            messagemedia(format!("matching={v}"))
        }),
    ]
}

/// Shapes that may be expensive: the contention phase times each once per value and sends the
/// slowest with 64 connections while NPA searches are measured beside it.
pub fn expensive_candidates(s: &Samples) -> Vec<Class> {
    let native = |q: String| format!("/v1/available-numbers?{q}");
    vec![
        class("state+contains digits", &s.states, |v| {
            native(format!("country=US&state={v}&contains=9797"))
        }),
        class("country+ends-with, 200 a page", &s.digits, |v| {
            native(format!("country=US&ends_with={v}&page_size=200"))
        }),
        class("contains rare 7 digits", &s.npa_nxx_xs, |v| {
            native(format!("contains={}", v.chars().rev().collect::<String>()))
        }),
        class("country+classification GOLD+capabilities", &s.states, |v| {
            native(format!(
                "country=US&classification=GOLD&capabilities=MMS&state={v}&page_size=200"
            ))
        }),
        class("country+state, 1000 a page", &s.states, |v| {
            native(format!("country=US&state={v}&page_size=1000"))
        }),
    ]
}
