//! The values the search classes ask for, drawn from the whole inventory: a benchmark that times
//! one area code measures that area code, not the search (issue 15 found `country+npa` 25× slower
//! than its one-value figure). Each draw picks a random point of the number space and takes the
//! first offered number after it (the same keyset position a page token carries), so values are
//! spread over every area code, exchange, rate center, city, state, ZIP and LATA the inventory
//! holds, weighted by how many numbers sit there. Digit patterns and vanity words are random or
//! taken from a word list, whether or not the inventory holds a match.

use std::collections::HashSet;

use numbers_core::account::Principal;
use numbers_core::number::{Number, NumberType};
use numbers_core::search::SearchQuery;
use numbers_core::service::Service;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Words a customer asks for as vanity numbers (4 to 7 letters, as Bandwidth's LocalVanity).
const VANITY_WORDS: &[&str] = &[
    "CAFE", "PIZZA", "TAXI", "HOME", "LOAN", "CASH", "CARS", "SHOP", "DENT", "LAWS", "BANK",
    "FOOD", "HELP", "CALL", "RENT", "SALE", "GOLF", "BIKE", "BOAT", "WINE", "BEER", "DOGS", "CATS",
    "PETS", "VETS", "HAIR", "NAIL", "SPAS", "GYMS", "YOGA", "MOVE", "VANS", "TIRE", "ROOF", "PIPE",
    "SINK", "DOOR", "LOCK", "KEYS", "GLASS", "PAINT", "FLOOR", "PLUMB", "SOLAR", "CLEAN", "TRUCK",
    "MOVERS", "DENTIST", "FLOWERS", "LAWYER", "REALTY", "PLUMBER",
];

/// Values of each facet, distinct, in the order drawn.
#[derive(Debug, Default)]
pub struct Samples {
    pub npas: Vec<String>,
    pub npa_nxxs: Vec<String>,
    pub npa_nxx_xs: Vec<String>,
    /// National starts-with prefixes of 4 digits (NPA and the first digit of the exchange).
    pub prefixes: Vec<String>,
    pub rate_centers: Vec<(String, String)>,
    pub cities: Vec<(String, String)>,
    pub states: Vec<String>,
    pub zips: Vec<String>,
    pub latas: Vec<String>,
    /// Toll-free patterns (`8**`, `87*`, `833`…) of offered toll-free numbers.
    pub toll_free: Vec<String>,
    /// Random 4-digit strings (contains, ends-with).
    pub digits: Vec<String>,
    pub vanity: Vec<String>,
}

/// Keeps the first `cap` distinct values.
struct Distinct<T> {
    seen: HashSet<T>,
    cap: usize,
}

impl<T: std::hash::Hash + Eq + Clone> Distinct<T> {
    fn new(cap: usize) -> Self {
        Distinct {
            seen: HashSet::new(),
            cap,
        }
    }

    fn push(&mut self, into: &mut Vec<T>, value: Option<T>) {
        if let Some(value) = value
            && into.len() < self.cap
            && self.seen.insert(value.clone())
        {
            into.push(value);
        }
    }
}

impl Samples {
    /// Draws up to `per_class` distinct values of each facet (fewer where the inventory holds
    /// fewer, e.g. states) from `draws` random points of the US number space.
    pub async fn draw(
        service: &Service,
        seed: u64,
        per_class: usize,
        draws: usize,
    ) -> anyhow::Result<Samples> {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5a3e_11e5);
        let mut s = Samples::default();
        let (mut npa, mut npa_nxx, mut npa_nxx_x, mut prefix) = (
            Distinct::new(per_class),
            Distinct::new(per_class),
            Distinct::new(per_class),
            Distinct::new(per_class),
        );
        let (mut rate_center, mut city) = (Distinct::new(per_class), Distinct::new(per_class));
        let (mut state, mut zip, mut lata) = (
            Distinct::new(per_class),
            Distinct::new(per_class),
            Distinct::new(per_class),
        );
        for _ in 0..draws {
            let at = format!("+1{}", rng.gen_range(2_000_000_000u64..10_000_000_000));
            let Some(n) = first_after(service, NumberType::Local, &at).await? else {
                continue;
            };
            let national = n.e164.digits().get(1..).unwrap_or_default().to_string();
            if national.len() != 10 {
                continue;
            }
            npa.push(&mut s.npas, Some(national[..3].to_string()));
            npa_nxx.push(&mut s.npa_nxxs, Some(national[..6].to_string()));
            npa_nxx_x.push(&mut s.npa_nxx_xs, Some(national[..7].to_string()));
            prefix.push(&mut s.prefixes, Some(national[..4].to_string()));
            let loc = &n.location;
            rate_center.push(
                &mut s.rate_centers,
                loc.rate_center.clone().zip(loc.state.clone()),
            );
            city.push(&mut s.cities, loc.city.clone().zip(loc.state.clone()));
            state.push(&mut s.states, loc.state.clone());
            zip.push(&mut s.zips, loc.zip.clone());
            lata.push(&mut s.latas, loc.lata.clone());
        }
        let mut toll_free = Distinct::new(per_class);
        for _ in 0..draws / 4 {
            let at = format!("+18{}", rng.gen_range(0..1_000_000_000u64));
            let Some(n) = first_after(service, NumberType::TollFree, &at).await? else {
                continue;
            };
            let Some(npa) = n.e164.digits().get(1..4) else {
                continue;
            };
            let b = npa.as_bytes();
            for pattern in [
                npa.to_string(),
                format!("{}{}*", char::from(b[0]), char::from(b[1])),
                format!("{}*{}", char::from(b[0]), char::from(b[2])),
            ] {
                toll_free.push(&mut s.toll_free, Some(pattern));
            }
        }
        let mut digits = Distinct::new(per_class);
        while s.digits.len() < per_class {
            digits.push(
                &mut s.digits,
                Some(format!("{:04}", rng.gen_range(0..10_000u32))),
            );
        }
        s.vanity = VANITY_WORDS.iter().map(|w| (*w).to_string()).collect();
        Ok(s)
    }

    /// One line per facet: how many distinct values each class cycles through.
    pub fn describe(&self) -> String {
        format!(
            "values drawn: {} NPAs, {} NPA-NXXs, {} NPA-NXX-Xs, {} prefixes, {} rate centers, {} cities, {} states, {} ZIPs, {} LATAs, {} toll-free patterns, {} digit strings, {} vanity words",
            self.npas.len(),
            self.npa_nxxs.len(),
            self.npa_nxx_xs.len(),
            self.prefixes.len(),
            self.rate_centers.len(),
            self.cities.len(),
            self.states.len(),
            self.zips.len(),
            self.latas.len(),
            self.toll_free.len(),
            self.digits.len(),
            self.vanity.len()
        )
    }
}

/// The first offered US number of `number_type` after `at`, wrapping to the start.
async fn first_after(
    service: &Service,
    number_type: NumberType,
    at: &str,
) -> anyhow::Result<Option<Number>> {
    let query = SearchQuery::builder()
        .country(Some("US"), "country")
        .types(vec![number_type], "type")
        .build()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for after in [Some(at.to_string()), None] {
        let page = service
            .search(Principal::Operator, &query.clone().with_page(1, after))
            .await
            .map_err(|e| anyhow::anyhow!("sampling the inventory: {e}"))?;
        if let Some(n) = page.items.into_iter().next() {
            return Ok(Some(n));
        }
    }
    Ok(None)
}
