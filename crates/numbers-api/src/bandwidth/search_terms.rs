//! Bandwidth's search vocabulary, read once for both places it appears: the query parameters of
//! `availableNumbers` (`areaCode`, `localVanity`, `LCA`…) and the elements of every
//! search-and-order type of an `<Order>` (`AreaCode`, `LocalVanity`, `EnableLCA`…). It owns the
//! terms, their two spellings, the flag parsing, the vanity rule (4 to 7 letters or digits) and
//! the translation into a core `SearchQueryBuilder`. Which terms may be combined is not here: the
//! search's combination matrix is `available.rs`'s, the order types are `orders.rs`'s.

use numbers_core::error::FieldErrors;
use numbers_core::number::NumberType;
use numbers_core::search::{PatternPosition, SearchQueryBuilder};

use super::parse_bool;
use crate::wire::QueryPairs;

/// One value per term: the wire names of a door (`Terms<&str>`) or a request's values
/// (`Terms<Option<&str>>`).
#[derive(Clone, Copy)]
struct Terms<T> {
    area_code: T,
    npa_nxx: T,
    npa_nxx_x: T,
    rate_center: T,
    state: T,
    city: T,
    zip: T,
    lata: T,
    local_vanity: T,
    ends_in: T,
    toll_free_vanity: T,
    toll_free_pattern: T,
    lca: T,
}

impl Terms<&'static str> {
    /// The value of each term, looked up by its name.
    fn values<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> Terms<Option<&'a str>> {
        Terms {
            area_code: get(self.area_code),
            npa_nxx: get(self.npa_nxx),
            npa_nxx_x: get(self.npa_nxx_x),
            rate_center: get(self.rate_center),
            state: get(self.state),
            city: get(self.city),
            zip: get(self.zip),
            lata: get(self.lata),
            local_vanity: get(self.local_vanity),
            ends_in: get(self.ends_in),
            toll_free_vanity: get(self.toll_free_vanity),
            toll_free_pattern: get(self.toll_free_pattern),
            lca: get(self.lca),
        }
    }
}

const QUERY_NAMES: Terms<&str> = Terms {
    area_code: "areaCode",
    npa_nxx: "npaNxx",
    npa_nxx_x: "npaNxxx",
    rate_center: "rateCenter",
    state: "state",
    city: "city",
    zip: "zip",
    lata: "lata",
    local_vanity: "localVanity",
    ends_in: "endsIn",
    toll_free_vanity: "tollFreeVanity",
    toll_free_pattern: "tollFreeWildCardPattern",
    lca: "LCA",
};

/// The canonical element names (`orders.rs` maps the SDKs' spellings onto these).
const ORDER_NAMES: Terms<&str> = Terms {
    area_code: "AreaCode",
    npa_nxx: "NpaNxx",
    npa_nxx_x: "NpaNxxX",
    rate_center: "RateCenter",
    state: "State",
    city: "City",
    zip: "Zip",
    lata: "LATA",
    local_vanity: "LocalVanity",
    ends_in: "EndsIn",
    toll_free_vanity: "TollFreeVanity",
    toll_free_pattern: "TollFreeWildCardPattern",
    lca: "EnableLCA",
};

/// The search terms of one request, as sent, with the names to report errors under.
pub struct SearchTerms<'a> {
    names: Terms<&'static str>,
    values: Terms<Option<&'a str>>,
    /// Orders have always reported a bad `EnableLCA` before a bad `EndsIn`, the search a bad
    /// `endsIn` before a bad `LCA`; kept so that no answer changes.
    lca_first: bool,
}

/// What the flags and the vanity rule made of the terms.
pub struct Checked {
    ends_in: bool,
    vanity_ok: bool,
}

fn present(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.trim().is_empty())
}

impl<'a> SearchTerms<'a> {
    /// The terms of `availableNumbers`' query.
    pub fn from_query(q: &'a QueryPairs) -> Self {
        let mut values = QUERY_NAMES.values(|name| q.get(name));
        values.local_vanity = present(values.local_vanity);
        values.toll_free_vanity = present(values.toll_free_vanity);
        SearchTerms {
            names: QUERY_NAMES,
            values,
            lca_first: false,
        }
    }

    /// The terms of a search-and-order type, by canonical element name. An `NpaNxx` of seven
    /// digits is an NPA-NXX-X (clients put both in `NpaNxx`).
    pub fn from_order(field: impl Fn(&str) -> Option<&'a str>) -> Self {
        let mut values = ORDER_NAMES.values(field);
        if let Some(v) = values.npa_nxx.filter(|v| v.len() == 7) {
            values.npa_nxx = None;
            values.npa_nxx_x = Some(v);
        }
        SearchTerms {
            names: ORDER_NAMES,
            values,
            lca_first: true,
        }
    }

    /// The flags (`endsIn`, `LCA`: true or false) and the vanity rule, errors into `errors`.
    /// LCA is validated but does not change the search.
    pub fn check(&self, errors: &mut FieldErrors) -> Checked {
        let (n, v) = (&self.names, &self.values);
        let lca = |errors: &mut FieldErrors| errors.take(parse_bool(v.lca, n.lca, true));
        if self.lca_first {
            lca(errors);
        }
        let ends_in = errors
            .take(parse_bool(v.ends_in, n.ends_in, false))
            .unwrap_or(false);
        if !self.lca_first {
            lca(errors);
        }
        let mut vanity_ok = true;
        for (name, value) in [
            (n.local_vanity, v.local_vanity),
            (n.toll_free_vanity, v.toll_free_vanity),
        ] {
            if let Some(t) = value.map(str::trim).filter(|v| !v.is_empty())
                && (!(4..=7).contains(&t.len()) || !t.bytes().all(|b| b.is_ascii_alphanumeric()))
            {
                errors.push(name, "must be 4 to 7 letters or digits");
                vanity_ok = false;
            }
        }
        Checked { ends_in, vanity_ok }
    }

    /// Every geographic and toll-free term, on a US search.
    pub fn geography(&self, builder: SearchQueryBuilder) -> SearchQueryBuilder {
        let (n, v) = (&self.names, &self.values);
        builder
            .country(Some("US"), "country")
            .npa(v.area_code, n.area_code)
            .npa_nxx(v.npa_nxx, n.npa_nxx)
            .npa_nxx_x(v.npa_nxx_x, n.npa_nxx_x)
            .rate_center(v.rate_center, n.rate_center)
            .state(v.state, n.state)
            .city(v.city, n.city)
            .zip(v.zip, n.zip)
            .lata(v.lata, n.lata)
            .toll_free_pattern(v.toll_free_pattern, n.toll_free_pattern)
    }

    /// The vanity terms as digit patterns: a local vanity anywhere in the number (at its end
    /// with `endsIn`), a toll-free vanity anywhere in a toll-free number. Left out when the
    /// vanity rule refused them (the error is already recorded).
    pub fn patterns(
        &self,
        checked: &Checked,
        mut builder: SearchQueryBuilder,
    ) -> SearchQueryBuilder {
        if !checked.vanity_ok {
            return builder;
        }
        let n = &self.names;
        if let Some(v) = self.values.local_vanity {
            let position = if checked.ends_in {
                PatternPosition::EndsWith
            } else {
                PatternPosition::Contains
            };
            builder = builder.pattern(position, Some(v), n.local_vanity);
        }
        if let Some(v) = self.values.toll_free_vanity {
            builder = builder
                .pattern(PatternPosition::Contains, Some(v), n.toll_free_vanity)
                .types(vec![NumberType::TollFree], n.toll_free_vanity);
        }
        builder
    }
}

#[cfg(test)]
mod tests {
    use numbers_core::error::Error;
    use numbers_core::search::{SearchQuery, SearchQueryBuilder};

    use super::*;

    fn build(terms: &SearchTerms) -> Result<SearchQuery, Error> {
        let mut errors = FieldErrors::new();
        let checked = terms.check(&mut errors);
        errors.into_result()?;
        let builder: SearchQueryBuilder = terms.geography(SearchQuery::builder());
        terms.patterns(&checked, builder).build()
    }

    fn from_order<'a>(pairs: &'a [(&'a str, &'a str)]) -> SearchTerms<'a> {
        SearchTerms::from_order(|name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v))
    }

    fn fields(result: Result<SearchQuery, Error>) -> Vec<String> {
        match result {
            Ok(_) => vec![],
            Err(Error::Validation(e)) => e.into_iter().map(|f| f.field).collect(),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn both_spellings_make_the_same_query() {
        let q = QueryPairs::parse(Some("areaCode=919&localVanity=CAFE&endsIn=true"));
        let order = [
            ("AreaCode", "919"),
            ("LocalVanity", "CAFE"),
            ("EndsIn", "true"),
        ];
        assert_eq!(
            build(&SearchTerms::from_query(&q)).unwrap(),
            build(&from_order(&order)).unwrap()
        );
        let q = QueryPairs::parse(Some("npaNxxx=9195551"));
        assert_eq!(
            build(&SearchTerms::from_query(&q)).unwrap(),
            build(&from_order(&[("NpaNxx", "9195551")])).unwrap(),
            "a seven-digit NpaNxx of an order is an NPA-NXX-X"
        );
    }

    #[test]
    fn the_vanity_rule_holds_in_both_places() {
        let q = QueryPairs::parse(Some("localVanity=CAFEBABE"));
        assert_eq!(fields(build(&SearchTerms::from_query(&q))), ["localVanity"]);
        assert_eq!(
            fields(build(&from_order(&[("LocalVanity", "CAFEBABE")]))),
            ["LocalVanity"]
        );
        assert_eq!(
            fields(build(&from_order(&[("TollFreeVanity", "NO!")]))),
            ["TollFreeVanity"]
        );
    }

    #[test]
    fn flags_are_checked_under_their_own_names() {
        let q = QueryPairs::parse(Some("areaCode=919&endsIn=maybe&LCA=maybe"));
        assert_eq!(
            fields(build(&SearchTerms::from_query(&q))),
            ["endsIn", "LCA"]
        );
        let order = [
            ("AreaCode", "919"),
            ("EndsIn", "maybe"),
            ("EnableLCA", "maybe"),
        ];
        assert_eq!(fields(build(&from_order(&order))), ["EnableLCA", "EndsIn"]);
    }
}
