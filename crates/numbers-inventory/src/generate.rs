//! Synthetic inventory: `generate(count, seed)` streams realistic `NewNumber` values, the same
//! sequence for the same seed, fast enough to fill a store with millions of numbers.
//!
//! Design, and why:
//! - Every number must be valid per libphonenumber, but parsing costs microseconds, so the hot
//!   loop never parses. Numbers are built from prefix tables (US area codes and exchanges, AU,
//!   GB and DE ranges) that the tests check exhaustively against libphonenumber once.
//! - No number may repeat, yet memory must stay bounded for ten million numbers, so there is no
//!   "seen" set. Each pool (NANP geographic, toll-free, AU mobile…) owns a disjoint number space
//!   cut into thousands blocks; its k-th number is a bijection of k (a seeded permutation of the
//!   blocks, then a seeded permutation of the 1000 lines inside a block). Distinct k give distinct
//!   numbers by construction, and pools never overlap because their prefixes differ.
//! - Real inventory arrives in blocks, so a pool fills a window of up to 4096 blocks round-robin:
//!   small runs spread over many area codes, large runs end up with mostly full blocks.
//! - The per-number attributes (pool, capabilities, vendor, tier, protection) come from one
//!   `StdRng` draw. `StdRng` is only reproducible within one `rand` version; the sequence may
//!   change when the workspace moves to a new `rand` major version.

use numbers_core::number::classification::classify;
use numbers_core::number::{
    Capabilities, Capability, Classification, E164, Location, NewNumber, NumberType, Price,
};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

/// Streams `count` synthetic numbers for `seed`. Deterministic: the same `(count, seed)` always
/// yields the same numbers in the same order, and a shorter run is a prefix of a longer one.
///
/// The mix is about 80% US geographic, 5% US toll-free, 10% AU, 3% GB and 2% DE. Memory is
/// bounded (about 1 MB, mostly the classification cache) whatever `count` is. The combined
/// number space holds several hundred million numbers; should a pool run out, its share goes
/// to the next pool, and the iterator ends early only if every pool is exhausted.
pub fn generate(count: u64, seed: u64) -> impl Iterator<Item = NewNumber> + Send + 'static {
    Generator::new(count, seed)
}

// ---------------------------------------------------------------------------------------------
// Reference tables
// ---------------------------------------------------------------------------------------------

/// One rate center of an area code: (rate center, ZIP). The city is the rate center's name,
/// which is how most US rate centers are named.
type Center = (&'static str, &'static str);

/// A US area code with its state, LATA and a few rate centers inside it.
struct Npa {
    npa: u16,
    state: &'static str,
    lata: &'static str,
    centers: &'static [Center],
}

const fn npa(npa: u16, state: &'static str, lata: &'static str, centers: &'static [Center]) -> Npa {
    Npa {
        npa,
        state,
        lata,
        centers,
    }
}

/// Real US area codes with real cities, LATAs and ZIP codes, compact rather than complete.
/// Every NPA here is valid for every generated exchange (checked by `every_npa_and_nxx_is_valid`).
#[rustfmt::skip]
const NPAS: &[Npa] = &[
    npa(201, "NJ", "224", &[("JERSEY CITY", "07302"), ("HOBOKEN", "07030"), ("BAYONNE", "07002")]),
    npa(202, "DC", "236", &[("WASHINGTON", "20001")]),
    npa(203, "CT", "920", &[("NEW HAVEN", "06510"), ("BRIDGEPORT", "06604"), ("STAMFORD", "06901")]),
    npa(205, "AL", "476", &[("BIRMINGHAM", "35203"), ("TUSCALOOSA", "35401")]),
    npa(206, "WA", "674", &[("SEATTLE", "98101"), ("BURIEN", "98166"), ("MERCER ISLAND", "98040")]),
    npa(207, "ME", "120", &[("PORTLAND", "04101"), ("BANGOR", "04401"), ("AUGUSTA", "04330")]),
    npa(208, "ID", "652", &[("BOISE", "83702"), ("NAMPA", "83651")]),
    npa(210, "TX", "566", &[("SAN ANTONIO", "78205")]),
    npa(212, "NY", "132", &[("NEW YORK", "10001")]),
    npa(213, "CA", "730", &[("LOS ANGELES", "90012")]),
    npa(214, "TX", "552", &[("DALLAS", "75201")]),
    npa(215, "PA", "228", &[("PHILADELPHIA", "19103")]),
    npa(216, "OH", "320", &[("CLEVELAND", "44113")]),
    npa(217, "IL", "374", &[("SPRINGFIELD", "62701")]),
    npa(218, "MN", "624", &[("DULUTH", "55802")]),
    npa(248, "MI", "340", &[("TROY", "48083"), ("SOUTHFIELD", "48075"), ("PONTIAC", "48342")]),
    npa(253, "WA", "674", &[("TACOMA", "98402"), ("KENT", "98032")]),
    npa(256, "AL", "477", &[("HUNTSVILLE", "35801"), ("DECATUR", "35601")]),
    npa(262, "WI", "356", &[("WAUKESHA", "53186"), ("KENOSHA", "53140"), ("RACINE", "53403")]),
    npa(267, "PA", "228", &[("PHILADELPHIA", "19103")]),
    npa(281, "TX", "560", &[("HOUSTON", "77002"), ("SUGAR LAND", "77478")]),
    npa(301, "MD", "236", &[("ROCKVILLE", "20850"), ("BETHESDA", "20814"), ("SILVER SPRING", "20910")]),
    npa(303, "CO", "656", &[("DENVER", "80202"), ("BOULDER", "80302"), ("AURORA", "80012")]),
    npa(304, "WV", "254", &[("CHARLESTON", "25301"), ("HUNTINGTON", "25701")]),
    npa(305, "FL", "460", &[("MIAMI", "33130"), ("MIAMI BEACH", "33139"), ("KEY WEST", "33040")]),
    npa(310, "CA", "730", &[("BEVERLY HILLS", "90210"), ("SANTA MONICA", "90401"), ("TORRANCE", "90503")]),
    npa(312, "IL", "358", &[("CHICAGO", "60601")]),
    npa(313, "MI", "340", &[("DETROIT", "48226"), ("DEARBORN", "48126")]),
    npa(314, "MO", "520", &[("ST LOUIS", "63101")]),
    npa(315, "NY", "136", &[("SYRACUSE", "13202"), ("UTICA", "13501")]),
    npa(316, "KS", "532", &[("WICHITA", "67202")]),
    npa(317, "IN", "336", &[("INDIANAPOLIS", "46204"), ("CARMEL", "46032")]),
    npa(318, "LA", "486", &[("SHREVEPORT", "71101"), ("MONROE", "71201")]),
    npa(319, "IA", "635", &[("CEDAR RAPIDS", "52401"), ("IOWA CITY", "52240")]),
    npa(320, "MN", "626", &[("ST CLOUD", "56301")]),
    npa(321, "FL", "458", &[("COCOA", "32922"), ("MELBOURNE", "32901")]),
    npa(330, "OH", "325", &[("AKRON", "44308"), ("CANTON", "44702")]),
    npa(334, "AL", "478", &[("MONTGOMERY", "36104"), ("AUBURN", "36830")]),
    npa(336, "NC", "424", &[("GREENSBORO", "27401"), ("WINSTON SALEM", "27101"), ("HIGH POINT", "27260")]),
    npa(347, "NY", "132", &[("BROOKLYN", "11201"), ("BRONX", "10451")]),
    npa(352, "FL", "454", &[("GAINESVILLE", "32601"), ("OCALA", "34471")]),
    npa(360, "WA", "674", &[("OLYMPIA", "98501"), ("BELLINGHAM", "98225")]),
    npa(361, "TX", "564", &[("CORPUS CHRISTI", "78401"), ("VICTORIA", "77901")]),
    npa(385, "UT", "660", &[("SALT LAKE CITY", "84101"), ("PROVO", "84601")]),
    npa(401, "RI", "130", &[("PROVIDENCE", "02903"), ("WARWICK", "02886"), ("NEWPORT", "02840")]),
    npa(402, "NE", "644", &[("OMAHA", "68102"), ("LINCOLN", "68508")]),
    npa(404, "GA", "438", &[("ATLANTA", "30303")]),
    npa(405, "OK", "536", &[("OKLAHOMA CITY", "73102"), ("NORMAN", "73069")]),
    npa(406, "MT", "650", &[("BILLINGS", "59101"), ("MISSOULA", "59802")]),
    npa(407, "FL", "458", &[("ORLANDO", "32801"), ("KISSIMMEE", "34741")]),
    npa(410, "MD", "238", &[("BALTIMORE", "21202"), ("ANNAPOLIS", "21401")]),
    npa(412, "PA", "234", &[("PITTSBURGH", "15222")]),
    npa(414, "WI", "356", &[("MILWAUKEE", "53202")]),
    npa(415, "CA", "722", &[("SAN FRANCISCO", "94102"), ("SAN RAFAEL", "94901"), ("SAUSALITO", "94965")]),
    npa(417, "MO", "522", &[("SPRINGFIELD", "65806"), ("JOPLIN", "64801")]),
    npa(419, "OH", "326", &[("TOLEDO", "43604")]),
    npa(423, "TN", "472", &[("CHATTANOOGA", "37402"), ("CLEVELAND", "37311")]),
    npa(425, "WA", "674", &[("BELLEVUE", "98004"), ("EVERETT", "98201"), ("REDMOND", "98052")]),
    npa(434, "VA", "250", &[("LYNCHBURG", "24504"), ("CHARLOTTESVILLE", "22902")]),
    npa(469, "TX", "552", &[("DALLAS", "75201"), ("PLANO", "75074")]),
    npa(479, "AR", "526", &[("FORT SMITH", "72901"), ("FAYETTEVILLE", "72701")]),
    npa(501, "AR", "528", &[("LITTLE ROCK", "72201"), ("CONWAY", "72032")]),
    npa(502, "KY", "462", &[("LOUISVILLE", "40202")]),
    npa(503, "OR", "672", &[("PORTLAND", "97204"), ("SALEM", "97301"), ("BEAVERTON", "97005")]),
    npa(504, "LA", "490", &[("NEW ORLEANS", "70112"), ("METAIRIE", "70001")]),
    npa(505, "NM", "664", &[("ALBUQUERQUE", "87102"), ("SANTA FE", "87501")]),
    npa(512, "TX", "558", &[("AUSTIN", "78701"), ("ROUND ROCK", "78664"), ("SAN MARCOS", "78666")]),
    npa(513, "OH", "922", &[("CINCINNATI", "45202"), ("HAMILTON", "45011")]),
    npa(515, "IA", "632", &[("DES MOINES", "50309"), ("AMES", "50010")]),
    npa(516, "NY", "132", &[("HEMPSTEAD", "11550"), ("GARDEN CITY", "11530")]),
    npa(517, "MI", "346", &[("LANSING", "48933"), ("JACKSON", "49201")]),
    npa(518, "NY", "134", &[("ALBANY", "12207"), ("SCHENECTADY", "12305"), ("TROY", "12180")]),
    npa(520, "AZ", "668", &[("TUCSON", "85701")]),
    npa(601, "MS", "482", &[("JACKSON", "39201")]),
    npa(602, "AZ", "666", &[("PHOENIX", "85003")]),
    npa(603, "NH", "122", &[("MANCHESTER", "03101"), ("NASHUA", "03060"), ("CONCORD", "03301")]),
    npa(605, "SD", "640", &[("SIOUX FALLS", "57104"), ("RAPID CITY", "57701")]),
    npa(608, "WI", "354", &[("MADISON", "53703"), ("LA CROSSE", "54601")]),
    npa(612, "MN", "628", &[("MINNEAPOLIS", "55401")]),
    npa(614, "OH", "324", &[("COLUMBUS", "43215")]),
    npa(615, "TN", "470", &[("NASHVILLE", "37203"), ("FRANKLIN", "37064"), ("MURFREESBORO", "37130")]),
    npa(616, "MI", "348", &[("GRAND RAPIDS", "49503"), ("HOLLAND", "49423")]),
    npa(617, "MA", "128", &[("BOSTON", "02108"), ("CAMBRIDGE", "02139"), ("QUINCY", "02169")]),
    npa(702, "NV", "721", &[("LAS VEGAS", "89101"), ("HENDERSON", "89002")]),
    npa(704, "NC", "422", &[("CHARLOTTE", "28202"), ("GASTONIA", "28052"), ("CONCORD", "28025")]),
    npa(713, "TX", "560", &[("HOUSTON", "77002")]),
    npa(716, "NY", "140", &[("BUFFALO", "14202"), ("NIAGARA FALLS", "14301")]),
    npa(717, "PA", "226", &[("HARRISBURG", "17101"), ("LANCASTER", "17602"), ("YORK", "17401")]),
    npa(718, "NY", "132", &[("BROOKLYN", "11201"), ("STATEN ISLAND", "10301")]),
    npa(720, "CO", "656", &[("DENVER", "80202")]),
    npa(786, "FL", "460", &[("MIAMI", "33130")]),
    npa(801, "UT", "660", &[("SALT LAKE CITY", "84101"), ("OGDEN", "84401"), ("PROVO", "84601")]),
    npa(802, "VT", "124", &[("BURLINGTON", "05401"), ("MONTPELIER", "05602")]),
    npa(803, "SC", "434", &[("COLUMBIA", "29201"), ("ROCK HILL", "29730")]),
    npa(804, "VA", "248", &[("RICHMOND", "23219"), ("PETERSBURG", "23803")]),
    npa(808, "HI", "834", &[("HONOLULU", "96813"), ("HILO", "96720"), ("KAHULUI", "96732")]),
    npa(813, "FL", "952", &[("TAMPA", "33602")]),
    npa(816, "MO", "524", &[("KANSAS CITY", "64106"), ("INDEPENDENCE", "64050")]),
    npa(901, "TN", "468", &[("MEMPHIS", "38103")]),
    npa(904, "FL", "452", &[("JACKSONVILLE", "32202")]),
    npa(907, "AK", "832", &[("ANCHORAGE", "99501"), ("FAIRBANKS", "99701"), ("JUNEAU", "99801")]),
    npa(916, "CA", "726", &[("SACRAMENTO", "95814"), ("FOLSOM", "95630")]),
    npa(919, "NC", "426", &[("RALEIGH", "27601"), ("DURHAM", "27701"), ("CARY", "27511")]),
    npa(937, "OH", "328", &[("DAYTON", "45402"), ("SPRINGFIELD", "45502")]),
    npa(971, "OR", "672", &[("PORTLAND", "97204")]),
];

/// Toll-free NPAs in service; the generator uses the same exchange rules as for geographic ones.
const TOLL_FREE: &[Npa] = &[
    npa(800, "", "", &[]),
    npa(833, "", "", &[]),
    npa(844, "", "", &[]),
    npa(855, "", "", &[]),
    npa(866, "", "", &[]),
    npa(877, "", "", &[]),
    npa(888, "", "", &[]),
];

/// Exchanges (NXX) a carrier would actually sell: [2-9]XX without the N11 service codes, 555
/// (directory / fictional), 950 (carrier access), 958/959 (plant test) and 976 (premium).
const fn is_sellable_nxx(nxx: u16) -> bool {
    nxx >= 200
        && nxx <= 999
        && nxx % 100 != 11
        && nxx != 555
        && nxx != 950
        && nxx != 958
        && nxx != 959
        && nxx != 976
}

const fn count_nxx() -> usize {
    let mut n = 0;
    let mut nxx = 200;
    while nxx <= 999 {
        if is_sellable_nxx(nxx) {
            n += 1;
        }
        nxx += 1;
    }
    n
}

const NXX_COUNT: usize = count_nxx();

/// The sellable exchanges in ascending order, computed at compile time.
const NXXS: [u16; NXX_COUNT] = {
    let mut out = [0u16; NXX_COUNT];
    let mut i = 0;
    let mut nxx = 200;
    while nxx <= 999 {
        if is_sellable_nxx(nxx) {
            out[i] = nxx;
            i += 1;
        }
        nxx += 1;
    }
    out
};

/// A non-NANP range: the E.164 digits it starts with, how many digits follow, and the city for
/// geographic ranges. Only ranges libphonenumber accepts in full, for one country, are listed
/// (e.g. +614 5… and +4477… are partly invalid or shared with JE/GG/IM, so they are left out).
struct Stem {
    prefix: &'static str,
    free_digits: u32,
    city: Option<&'static str>,
}

const fn stem(prefix: &'static str, free_digits: u32, city: Option<&'static str>) -> Stem {
    Stem {
        prefix,
        free_digits,
        city,
    }
}

const AU_MOBILE: &[Stem] = &[
    stem("6140", 7, None),
    stem("6141", 7, None),
    stem("6142", 7, None),
    stem("6143", 7, None),
    stem("6146", 7, None),
];

const AU_LANDLINE: &[Stem] = &[
    stem("6128", 7, Some("SYDNEY")),
    stem("6129", 7, Some("SYDNEY")),
    stem("6138", 7, Some("MELBOURNE")),
    stem("6139", 7, Some("MELBOURNE")),
    stem("6173", 7, Some("BRISBANE")),
    stem("6188", 7, Some("ADELAIDE")),
    // +61 8 91… holds the Christmas Island and Cocos ranges, so Perth starts at 92.
    stem("61892", 6, Some("PERTH")),
    stem("61893", 6, Some("PERTH")),
];

const GB_MOBILE: &[Stem] = &[
    stem("4471", 8, None),
    stem("4472", 8, None),
    stem("4473", 8, None),
];

const GB_LANDLINE: &[Stem] = &[
    stem("44203", 7, Some("LONDON")),
    stem("44207", 7, Some("LONDON")),
    stem("44208", 7, Some("LONDON")),
];

const DE_MOBILE: &[Stem] = &[
    stem("49151", 8, None),
    stem("49152", 8, None),
    stem("49157", 8, None),
    stem("49160", 8, None),
    stem("49162", 8, None),
    stem("49170", 8, None),
    stem("49171", 8, None),
    stem("49172", 8, None),
    stem("49175", 8, None),
    stem("49176", 8, None),
];

const DE_LANDLINE: &[Stem] = &[
    stem("4930", 8, Some("BERLIN")),
    stem("4989", 8, Some("MUNICH")),
];

/// A source of numbers with one country and type, and its share of the mix.
struct PoolSpec {
    /// Share of the mix in basis points (1/10,000); the shares add up to 10,000.
    share: u32,
    country: &'static str,
    number_type: NumberType,
    ranges: Ranges,
    vendors: &'static [(&'static str, &'static str)],
    currency: &'static str,
    /// Base prices in micro-units; GOLD and SILVER numbers add a premium on top.
    setup_micros: i64,
    monthly_micros: i64,
}

enum Ranges {
    Nanp(&'static [Npa]),
    Stems(&'static [Stem]),
}

const US_VENDORS: &[(&str, &str)] = &[
    ("VND-US-01", "Continental Carrier Services"),
    ("VND-US-02", "Pacific Crest Telecom"),
    ("VND-US-03", "Great Lakes Numbering Co"),
];
const AU_VENDORS: &[(&str, &str)] = &[
    ("VND-AU-01", "Southern Cross Wholesale"),
    ("VND-AU-02", "Harbour Telecom"),
];
const GB_VENDORS: &[(&str, &str)] = &[("VND-GB-01", "Thames Numbering Ltd")];
const DE_VENDORS: &[(&str, &str)] = &[("VND-DE-01", "Rheinland Telekom GmbH")];

const fn micros(units: i64, cents: i64) -> i64 {
    units * 1_000_000 + cents * 10_000
}

const POOLS: [PoolSpec; 8] = [
    PoolSpec {
        share: 8000,
        country: "US",
        number_type: NumberType::Local,
        ranges: Ranges::Nanp(NPAS),
        vendors: US_VENDORS,
        currency: "USD",
        setup_micros: 0,
        monthly_micros: micros(1, 0),
    },
    PoolSpec {
        share: 500,
        country: "US",
        number_type: NumberType::TollFree,
        ranges: Ranges::Nanp(TOLL_FREE),
        vendors: US_VENDORS,
        currency: "USD",
        setup_micros: micros(1, 0),
        monthly_micros: micros(2, 0),
    },
    PoolSpec {
        share: 600,
        country: "AU",
        number_type: NumberType::Mobile,
        ranges: Ranges::Stems(AU_MOBILE),
        vendors: AU_VENDORS,
        currency: "AUD",
        setup_micros: 0,
        monthly_micros: micros(8, 0),
    },
    PoolSpec {
        share: 400,
        country: "AU",
        number_type: NumberType::Local,
        ranges: Ranges::Stems(AU_LANDLINE),
        vendors: AU_VENDORS,
        currency: "AUD",
        setup_micros: 0,
        monthly_micros: micros(4, 0),
    },
    PoolSpec {
        share: 200,
        country: "GB",
        number_type: NumberType::Mobile,
        ranges: Ranges::Stems(GB_MOBILE),
        vendors: GB_VENDORS,
        currency: "GBP",
        setup_micros: 0,
        monthly_micros: micros(1, 50),
    },
    PoolSpec {
        share: 100,
        country: "GB",
        number_type: NumberType::Local,
        ranges: Ranges::Stems(GB_LANDLINE),
        vendors: GB_VENDORS,
        currency: "GBP",
        setup_micros: 0,
        monthly_micros: micros(1, 0),
    },
    PoolSpec {
        share: 120,
        country: "DE",
        number_type: NumberType::Mobile,
        ranges: Ranges::Stems(DE_MOBILE),
        vendors: DE_VENDORS,
        currency: "EUR",
        setup_micros: 0,
        monthly_micros: micros(2, 0),
    },
    PoolSpec {
        share: 80,
        country: "DE",
        number_type: NumberType::Local,
        ranges: Ranges::Stems(DE_LANDLINE),
        vendors: DE_VENDORS,
        currency: "EUR",
        setup_micros: micros(5, 0),
        monthly_micros: micros(1, 50),
    },
];

/// How many blocks a pool fills at once (see the module comment).
const WINDOW: u64 = 4096;
const LINES_PER_BLOCK: u64 = 1000;

// ---------------------------------------------------------------------------------------------
// Permutations
// ---------------------------------------------------------------------------------------------

/// SplitMix64's finalizer: a cheap, well-mixed hash for deriving keys from the seed.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A seeded bijection of `[0, n)`. Each round is invertible on `bits`-bit values (multiplication
/// by an odd constant, addition and xor-shift, all modulo 2^bits); values that land outside
/// `[0, n)` are mapped again ("cycle walking"), which keeps the whole thing a bijection of
/// `[0, n)`. Because 2^bits < 2n, it takes fewer than two rounds on average.
struct Bijection {
    n: u64,
    mask: u64,
    shift: u32,
    mul1: u64,
    add: u64,
    mul2: u64,
}

impl Bijection {
    fn new(n: u64, key: u64) -> Self {
        let bits = (u64::BITS - n.saturating_sub(1).leading_zeros()).max(1);
        let mask = if bits >= 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        Bijection {
            n,
            mask,
            shift: (bits / 2).max(1),
            mul1: mix(key) | 1,
            add: mix(key ^ 0x5555),
            mul2: mix(key ^ 0xaaaa) | 1,
        }
    }

    fn apply(&self, mut x: u64) -> u64 {
        loop {
            x = x.wrapping_mul(self.mul1) & self.mask;
            x ^= x >> self.shift;
            x = x.wrapping_add(self.add) & self.mask;
            x = x.wrapping_mul(self.mul2) & self.mask;
            x ^= x >> self.shift;
            if x < self.n {
                return x;
            }
        }
    }
}

/// A permutation of the 1000 lines of one block: `line * a + b (mod 1000)` with `a` coprime to
/// 1000. Cheap, and different for every block, so blocks do not all fill in the same order.
fn permute_line(index: u64, block_key: u64) -> u64 {
    // The units modulo 1000 are exactly the numbers ending in 1, 3, 7 or 9: 400 of them.
    let unit = block_key % 400;
    let a = (unit / 4) * 10 + [1, 3, 7, 9][(unit % 4) as usize];
    let b = (block_key >> 16) % LINES_PER_BLOCK;
    (index * a + b) % LINES_PER_BLOCK
}

// ---------------------------------------------------------------------------------------------
// Pools
// ---------------------------------------------------------------------------------------------

/// Where a generated number sits, for its location facets.
enum Place {
    Nanp { npa: &'static Npa, nxx: u16 },
    Stem(&'static Stem),
}

/// The running state of one pool: how many numbers it gave out and its permutations.
struct Pool {
    spec: &'static PoolSpec,
    /// Cumulative block counts of the stems, so block → stem is a binary search.
    stem_ends: Vec<u64>,
    /// Each stem's first number as digits: prefix × 10^free_digits.
    stem_bases: Vec<u64>,
    blocks: u64,
    window: u64,
    next: u64,
    block_perm: Bijection,
    line_key: u64,
}

impl Pool {
    fn new(spec: &'static PoolSpec, key: u64) -> Self {
        let (blocks, stem_ends, stem_bases) = match spec.ranges {
            Ranges::Nanp(npas) => (
                npas.len() as u64 * NXX_COUNT as u64 * 10,
                Vec::new(),
                Vec::new(),
            ),
            Ranges::Stems(stems) => {
                let mut ends = Vec::with_capacity(stems.len());
                let mut bases = Vec::with_capacity(stems.len());
                let mut total = 0;
                for s in stems {
                    total += 10u64.pow(s.free_digits - 3);
                    ends.push(total);
                    bases.push(digits_value(s.prefix) * 10u64.pow(s.free_digits));
                }
                (total, ends, bases)
            }
        };
        Pool {
            spec,
            stem_ends,
            stem_bases,
            blocks,
            window: blocks.min(WINDOW),
            next: 0,
            block_perm: Bijection::new(blocks, mix(key)),
            line_key: mix(key ^ 0x1111),
        }
    }

    fn capacity(&self) -> u64 {
        self.blocks * LINES_PER_BLOCK
    }

    fn is_exhausted(&self) -> bool {
        self.next >= self.capacity()
    }

    /// The pool's next number as E.164 digits, and where it is. `None` once exhausted.
    fn take(&mut self) -> Option<(u64, Place)> {
        if self.is_exhausted() {
            return None;
        }
        let k = self.next;
        self.next += 1;
        // k → (block ordinal, line index): windows of `window` blocks filled round-robin; the
        // last window may be narrower when `blocks` is not a multiple of it.
        let per_window = self.window * LINES_PER_BLOCK;
        let full_windows = self.blocks / self.window;
        let (ordinal, line_index) = if k < full_windows * per_window {
            let within = k % per_window;
            (
                (k / per_window) * self.window + within % self.window,
                within / self.window,
            )
        } else {
            let width = self.blocks - full_windows * self.window;
            let within = k - full_windows * per_window;
            (full_windows * self.window + within % width, within / width)
        };
        let block = self.block_perm.apply(ordinal);
        let line = permute_line(line_index, mix(block ^ self.line_key));
        Some(self.decode(block, line))
    }

    fn decode(&self, block: u64, line: u64) -> (u64, Place) {
        match self.spec.ranges {
            Ranges::Nanp(npas) => {
                let thousands = block % 10;
                let exchange = block / 10;
                let nxx = NXXS[(exchange % NXX_COUNT as u64) as usize];
                let npa = &npas[(exchange / NXX_COUNT as u64) as usize];
                let digits = 10_000_000_000
                    + u64::from(npa.npa) * 10_000_000
                    + u64::from(nxx) * 10_000
                    + thousands * 1000
                    + line;
                (digits, Place::Nanp { npa, nxx })
            }
            Ranges::Stems(stems) => {
                let index = self.stem_ends.partition_point(|&end| end <= block);
                let start = if index == 0 {
                    0
                } else {
                    self.stem_ends[index - 1]
                };
                let digits = self.stem_bases[index] + (block - start) * LINES_PER_BLOCK + line;
                (digits, Place::Stem(&stems[index]))
            }
        }
    }
}

/// "6140" → 6140. Only used on the constant prefixes above, which are all digits.
fn digits_value(s: &str) -> u64 {
    s.bytes().fold(0, |acc, b| acc * 10 + u64::from(b - b'0'))
}

/// `+` and the digits, without going through `format!` (this runs once per number).
fn e164_string(digits: u64) -> String {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut rest = digits;
    loop {
        i -= 1;
        buf[i] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let mut s = String::with_capacity(buf.len() - i + 1);
    s.push('+');
    s.extend(buf[i..].iter().map(|&b| char::from(b)));
    s
}

// ---------------------------------------------------------------------------------------------
// The generator's number plans, for importers
// ---------------------------------------------------------------------------------------------

/// Kind of each NANP area code in the tables above, indexed by NPA: 0 = not listed, 1 =
/// geographic (`NPAS`), 2 = toll-free (`TOLL_FREE`). Built at compile time.
const NPA_KINDS: [u8; 1000] = {
    let mut kinds = [0u8; 1000];
    let mut i = 0;
    while i < NPAS.len() {
        kinds[NPAS[i].npa as usize] = 1;
        i += 1;
    }
    let mut i = 0;
    while i < TOLL_FREE.len() {
        kinds[TOLL_FREE[i].npa as usize] = 2;
        i += 1;
    }
    kinds
};

/// Country and type of a number given as its E.164 digits (no `+`), when it lies in one of the
/// ranges this generator emits; `None` for anything else, which the caller then asks
/// libphonenumber about. The answer is what `E164::parse_detailed` says for those ranges (the
/// tests `every_npa_and_nxx_is_valid`, `every_stem_is_valid_for_its_country_and_type` and
/// `known_plans_agree_with_libphonenumber` hold the two together), but costs a few table
/// lookups instead of a parse: an import of generated inventory then never parses per number.
pub fn known_plan(digits: &[u8]) -> Option<(&'static str, NumberType)> {
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let three = |d: &[u8]| {
        d.iter()
            .fold(0u16, |acc, &b| acc * 10 + u16::from(b - b'0'))
    };
    if digits.len() == 11 && digits[0] == b'1' {
        let (npa, nxx) = (three(&digits[1..4]), three(&digits[4..7]));
        if !is_sellable_nxx(nxx) {
            return None;
        }
        return match NPA_KINDS[usize::from(npa)] {
            1 => Some(("US", NumberType::Local)),
            2 => Some(("US", NumberType::TollFree)),
            _ => None,
        };
    }
    POOLS.iter().find_map(|spec| match spec.ranges {
        Ranges::Stems(stems) => stems
            .iter()
            .any(|s| {
                digits.len() == s.prefix.len() + s.free_digits as usize
                    && digits.starts_with(s.prefix.as_bytes())
            })
            .then_some((spec.country, spec.number_type)),
        Ranges::Nanp(_) => None,
    })
}

/// `classify`'s answer for every ending of six digits, filled as endings are met: `classify`
/// depends only on the last six digits and allocates, so a cache of all 10^6 answers (1 MB)
/// makes it free after warm-up while keeping `classify` the single source of truth.
pub struct ClassificationCache {
    /// 0 = not yet known, else 1 + the class's rank.
    classes: Vec<u8>,
}

impl Default for ClassificationCache {
    fn default() -> Self {
        ClassificationCache {
            classes: vec![0; 1_000_000],
        }
    }
}

impl ClassificationCache {
    /// `classify(digits)` for E.164 digits (no `+`).
    pub fn classify(&mut self, digits: &str) -> Classification {
        let bytes = digits.as_bytes();
        if bytes.len() < 6 || !bytes.iter().all(u8::is_ascii_digit) {
            return classify(digits);
        }
        let ending = bytes[bytes.len() - 6..]
            .iter()
            .fold(0usize, |acc, &b| acc * 10 + usize::from(b - b'0'));
        let slot = &mut self.classes[ending];
        if *slot == 0 {
            *slot = match classify(digits) {
                Classification::Bronze => 1,
                Classification::Silver => 2,
                Classification::Gold => 3,
            };
        }
        match *slot {
            3 => Classification::Gold,
            2 => Classification::Silver,
            _ => Classification::Bronze,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The iterator
// ---------------------------------------------------------------------------------------------

struct Generator {
    remaining: u64,
    rng: StdRng,
    pools: Vec<Pool>,
    /// Upper bounds of each pool's share on a 0..10,000 scale.
    thresholds: [u32; POOLS.len()],
    classes: ClassificationCache,
}

impl Generator {
    fn new(count: u64, seed: u64) -> Self {
        let pools = POOLS
            .iter()
            .enumerate()
            .map(|(i, spec)| Pool::new(spec, mix(seed ^ mix(i as u64 + 1))))
            .collect();
        let mut thresholds = [0u32; POOLS.len()];
        let mut total = 0;
        for (t, spec) in thresholds.iter_mut().zip(POOLS.iter()) {
            total += spec.share;
            *t = total;
        }
        Generator {
            remaining: count,
            rng: StdRng::seed_from_u64(seed),
            pools,
            thresholds,
            classes: ClassificationCache::default(),
        }
    }
}

impl Iterator for Generator {
    type Item = NewNumber;

    fn next(&mut self) -> Option<NewNumber> {
        if self.remaining == 0 {
            return None;
        }
        // One draw decides everything random about this number; each field uses its own bits.
        let r = self.rng.next_u64();
        let pick = (((r & 0xffff) * 10_000) >> 16) as u32;
        let caps_roll = ((r >> 16) & 0xff) as u32;
        let vendor_roll = ((r >> 24) & 0xff) as usize;
        let tier_roll = ((r >> 32) & 0xff) as u32;
        let protected_roll = ((r >> 40) & 0xffff) as u32;

        let chosen = self.thresholds.iter().position(|&t| pick < t).unwrap_or(0);
        // An exhausted pool hands its share to the next one with numbers left.
        let pool_index = (0..self.pools.len())
            .map(|i| (chosen + i) % self.pools.len())
            .find(|&i| !self.pools[i].is_exhausted());
        let Some(pool_index) = pool_index else {
            self.remaining = 0;
            return None;
        };
        let (digits, place) = self.pools[pool_index].take()?;
        self.remaining -= 1;
        let spec = self.pools[pool_index].spec;

        let e164 = e164_string(digits);
        let classification = self.classes.classify(&e164[1..]);
        let capabilities = capabilities_for(spec.number_type, &place, caps_roll);
        let (vendor_id, vendor_name) = spec.vendors[vendor_roll % spec.vendors.len()];
        let tier = match classification {
            Classification::Gold => 2,
            Classification::Silver => 1,
            Classification::Bronze if tier_roll < 26 => 1,
            Classification::Bronze => 0,
        };
        let (setup_premium, monthly_premium) = match classification {
            Classification::Gold => (micros(100, 0), micros(5, 0)),
            Classification::Silver => (micros(25, 0), micros(1, 0)),
            Classification::Bronze => (0, 0),
        };
        Some(NewNumber {
            e164: E164::from_trusted(e164),
            country: spec.country.to_string(),
            number_type: spec.number_type,
            capabilities,
            classification,
            location: location_of(&place),
            tier: Some(tier),
            vendor_id: Some(vendor_id.to_string()),
            vendor_name: Some(vendor_name.to_string()),
            price: Some(Price {
                setup_micros: spec.setup_micros + setup_premium,
                monthly_micros: spec.monthly_micros + monthly_premium,
                currency: spec.currency.to_string(),
            }),
            // 655/65536 ≈ 1%.
            protected: protected_roll < 655,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // Exact unless every pool runs dry, which takes hundreds of millions of numbers.
        let remaining = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        (0, Some(remaining))
    }
}

/// Capability sets by kind of number, from a uniform roll in 0..256.
fn capabilities_for(number_type: NumberType, place: &Place, roll: u32) -> Capabilities {
    use Capability::{Fax, Mms, Sms, Voice};
    let set = |list: &[Capability]| list.iter().copied().collect::<Capabilities>();
    match (number_type, place) {
        // US geographic: mostly SMS+voice, a fifth also MMS, a few voice-only or fax lines.
        (NumberType::Local, Place::Nanp { .. }) => match roll {
            0..179 => set(&[Sms, Voice]),
            179..230 => set(&[Sms, Mms, Voice]),
            230..243 => set(&[Voice]),
            _ => set(&[Voice, Fax]),
        },
        (NumberType::TollFree, _) => match roll {
            0..230 => set(&[Voice, Sms]),
            _ => set(&[Voice]),
        },
        (NumberType::Mobile, _) => match roll {
            0..205 => set(&[Sms, Voice]),
            _ => set(&[Sms, Mms, Voice]),
        },
        // Landlines outside NANP rarely take SMS.
        _ => match roll {
            0..205 => set(&[Voice]),
            205..243 => set(&[Sms, Voice]),
            _ => set(&[Voice, Fax]),
        },
    }
}

fn location_of(place: &Place) -> Location {
    match place {
        Place::Nanp { npa, nxx } if !npa.centers.is_empty() => {
            // An exchange always belongs to the same rate center, whatever the seed.
            let (center, zip) = npa.centers[usize::from(*nxx) % npa.centers.len()];
            Location {
                rate_center: Some(center.to_string()),
                state: Some(npa.state.to_string()),
                city: Some(center.to_string()),
                lata: Some(npa.lata.to_string()),
                zip: Some(zip.to_string()),
            }
        }
        Place::Nanp { .. } => Location::default(),
        Place::Stem(stem) => Location {
            city: stem.city.map(str::to_string),
            ..Location::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;

    #[test]
    fn same_seed_same_numbers_and_shorter_runs_are_prefixes() {
        let a: Vec<NewNumber> = generate(5_000, 42).collect();
        let b: Vec<NewNumber> = generate(5_000, 42).collect();
        assert_eq!(a.len(), 5_000);
        assert_eq!(a, b);
        let short: Vec<NewNumber> = generate(1_000, 42).collect();
        assert_eq!(short[..], a[..1_000]);
        let other: Vec<NewNumber> = generate(5_000, 43).collect();
        let same = a
            .iter()
            .zip(&other)
            .filter(|(x, y)| x.e164 == y.e164)
            .count();
        assert!(same < 50, "seeds 42 and 43 share {same} positions");
    }

    #[test]
    fn no_number_repeats_in_200k() {
        let mut seen = HashSet::with_capacity(200_000);
        for n in generate(200_000, 7) {
            assert!(
                seen.insert(n.e164.as_str().to_string()),
                "{} repeated",
                n.e164
            );
        }
        assert_eq!(seen.len(), 200_000);
    }

    #[test]
    fn a_sample_is_valid_per_libphonenumber() {
        for n in generate(4_000, 1234) {
            let parsed = E164::parse_detailed(n.e164.as_str())
                .unwrap_or_else(|e| panic!("{} invalid: {e}", n.e164));
            assert_eq!(parsed.e164, n.e164, "not canonical");
            assert_eq!(
                parsed.country.as_deref(),
                Some(n.country.as_str()),
                "{}",
                n.e164
            );
            if let Some(t) = parsed.number_type {
                assert_eq!(t, n.number_type, "{}", n.e164);
            }
            assert_eq!(n.classification, classify(n.e164.digits()));
            assert!(!n.capabilities.is_empty());
            assert!(matches!(n.tier, Some(0..=2)));
        }
    }

    /// Validity depends on the prefix, so checking every exchange of every area code (with
    /// arbitrary lines) and every three-digit continuation of every stem covers all the rules.
    #[test]
    fn every_npa_and_nxx_is_valid() {
        for (table, expected) in [(NPAS, NumberType::Local), (TOLL_FREE, NumberType::TollFree)] {
            for npa in table {
                for &nxx in &NXXS {
                    let n = format!("+1{}{nxx}{:04}", npa.npa, (u32::from(nxx) * 37) % 10_000);
                    let parsed = E164::parse_detailed(&n).unwrap_or_else(|e| panic!("{n}: {e}"));
                    assert_eq!(parsed.country.as_deref(), Some("US"), "{n}");
                    assert_eq!(parsed.number_type, Some(expected), "{n}");
                }
            }
        }
    }

    #[test]
    fn every_stem_is_valid_for_its_country_and_type() {
        for spec in &POOLS {
            let Ranges::Stems(stems) = spec.ranges else {
                continue;
            };
            for s in stems {
                for head in 0..1000u64 {
                    let tail_digits = s.free_digits - 3;
                    let tail = (head * 7919) % 10u64.pow(tail_digits);
                    let n = format!(
                        "+{}{head:03}{tail:0width$}",
                        s.prefix,
                        width = tail_digits as usize
                    );
                    let parsed = E164::parse_detailed(&n).unwrap_or_else(|e| panic!("{n}: {e}"));
                    assert_eq!(parsed.e164.as_str(), n);
                    assert_eq!(parsed.country.as_deref(), Some(spec.country), "{n}");
                    assert_eq!(parsed.number_type, Some(spec.number_type), "{n}");
                }
            }
        }
    }

    /// The cheap path importers take agrees with libphonenumber on every range it answers for
    /// (the same sample as the two tests above, plus generated numbers), and answers nothing
    /// outside them.
    #[test]
    fn known_plans_agree_with_libphonenumber() {
        let agree = |n: &str| {
            let parsed = E164::parse_detailed(n).unwrap_or_else(|e| panic!("{n}: {e}"));
            let fast = known_plan(&n.as_bytes()[1..]).map(|(c, t)| (Some(c.to_string()), Some(t)));
            assert_eq!(fast, Some((parsed.country, parsed.number_type)), "{n}");
        };
        for table in [NPAS, TOLL_FREE] {
            for npa in table {
                for &nxx in &NXXS {
                    agree(&format!(
                        "+1{}{nxx}{:04}",
                        npa.npa,
                        (u32::from(nxx) * 37) % 10_000
                    ));
                }
            }
        }
        for spec in &POOLS {
            let Ranges::Stems(stems) = spec.ranges else {
                continue;
            };
            for s in stems {
                for head in (0..1000u64).step_by(7) {
                    let tail_digits = s.free_digits - 3;
                    let tail = (head * 7919) % 10u64.pow(tail_digits);
                    agree(&format!(
                        "+{}{head:03}{tail:0width$}",
                        s.prefix,
                        width = tail_digits as usize
                    ));
                }
            }
        }
        for n in generate(20_000, 99) {
            agree(n.e164.as_str());
        }
        // Outside the tables (or not digits at all): no answer, the caller parses.
        for other in [
            "12065550100", // exchange 555
            "12062110100", // N11
            "14165550123", // Canada
            "19002345678", // premium rate
            "61491570156", // an AU mobile range the generator does not use
            "6128123456",  // too short for its stem
            "612812345678",
            "447700900123",
            "1206a550100",
            "",
        ] {
            assert_eq!(known_plan(other.as_bytes()), None, "{other}");
        }
    }

    #[test]
    fn the_classification_cache_is_classify() {
        let mut cache = ClassificationCache::default();
        for n in [
            "12065550100",
            "12064444666",
            "12061231230",
            "4930123456",
            "12345",
            "1x3",
        ] {
            assert_eq!(cache.classify(n), classify(n), "{n}");
            assert_eq!(cache.classify(n), classify(n), "{n} cached");
        }
    }

    #[test]
    fn tables_are_consistent() {
        assert_eq!(POOLS.iter().map(|p| p.share).sum::<u32>(), 10_000);
        assert!(NPAS.len() >= 60);
        assert_eq!(NXX_COUNT, 800 - 8 - 5);
        assert!(
            !NXXS
                .iter()
                .any(|&n| n % 100 == 11 || [555, 950, 958, 959, 976].contains(&n))
        );
        let mut npas = HashSet::new();
        for n in NPAS {
            assert!(npas.insert(n.npa), "NPA {} listed twice", n.npa);
            assert!(n.state.len() == 2 && !n.centers.is_empty());
            assert!(n.lata.bytes().all(|b| b.is_ascii_digit()));
            assert!(
                n.centers
                    .iter()
                    .all(|(_, zip)| zip.len() == 5 && zip.bytes().all(|b| b.is_ascii_digit()))
            );
        }
    }

    #[test]
    fn the_mix_is_roughly_as_documented() {
        let mut by_kind: HashMap<(String, NumberType), u32> = HashMap::new();
        let mut npas = HashSet::new();
        let mut protected = 0;
        let total = 100_000;
        for n in generate(total, 99) {
            if n.country == "US" && n.number_type == NumberType::Local {
                npas.insert(n.e164.digits()[1..4].to_string());
                assert!(
                    n.location.state.is_some()
                        && n.location.zip.is_some()
                        && n.location.lata.is_some()
                );
            }
            protected += u32::from(n.protected);
            *by_kind
                .entry((n.country.clone(), n.number_type))
                .or_default() += 1;
        }
        let share = |country: &str, t: NumberType| {
            f64::from(by_kind.get(&(country.to_string(), t)).copied().unwrap_or(0)) / total as f64
        };
        let close = |got: f64, want: f64| (got - want).abs() < want * 0.1 + 0.002;
        assert!(close(share("US", NumberType::Local), 0.80), "{by_kind:?}");
        assert!(
            close(share("US", NumberType::TollFree), 0.05),
            "{by_kind:?}"
        );
        assert!(
            close(
                share("AU", NumberType::Mobile) + share("AU", NumberType::Local),
                0.10
            ),
            "{by_kind:?}"
        );
        assert!(
            close(
                share("GB", NumberType::Mobile) + share("GB", NumberType::Local),
                0.03
            ),
            "{by_kind:?}"
        );
        assert!(
            close(
                share("DE", NumberType::Mobile) + share("DE", NumberType::Local),
                0.02
            ),
            "{by_kind:?}"
        );
        assert_eq!(
            npas.len(),
            NPAS.len(),
            "every area code should appear in 100k numbers"
        );
        assert!((500..1_500).contains(&protected), "{protected} protected");
    }

    #[test]
    fn us_numbers_carry_their_area_code_facts() {
        for n in
            generate(2_000, 5).filter(|n| n.country == "US" && n.number_type == NumberType::Local)
        {
            let npa: u16 = n.e164.digits()[1..4].parse().unwrap();
            let entry = NPAS.iter().find(|e| e.npa == npa).unwrap();
            assert_eq!(n.location.state.as_deref(), Some(entry.state));
            assert_eq!(n.location.lata.as_deref(), Some(entry.lata));
            assert!(
                entry
                    .centers
                    .iter()
                    .any(|(c, z)| n.location.rate_center.as_deref() == Some(*c)
                        && n.location.zip.as_deref() == Some(*z))
            );
            assert_eq!(n.price.as_ref().map(|p| p.currency.as_str()), Some("USD"));
        }
    }

    #[test]
    fn bijection_permutes_every_size() {
        for n in [1u64, 2, 3, 7, 100, 1000, 4097] {
            let b = Bijection::new(n, 99);
            let out: HashSet<u64> = (0..n).map(|x| b.apply(x)).collect();
            assert_eq!(out.len() as u64, n);
            assert!(out.iter().all(|&x| x < n));
        }
        for key in 0..50 {
            let lines: HashSet<u64> = (0..1000).map(|i| permute_line(i, mix(key))).collect();
            assert_eq!(lines.len(), 1000);
        }
    }

    static SMALL: PoolSpec = PoolSpec {
        share: 0,
        country: "ZZ",
        number_type: NumberType::Local,
        ranges: Ranges::Stems(&[stem("99", 5, None), stem("98", 4, None)]),
        vendors: &[],
        currency: "XXX",
        setup_micros: 0,
        monthly_micros: 0,
    };

    /// With a narrow window, exhausting a pool walks full windows and the narrower last one;
    /// the result must be exactly the pool's number space.
    #[test]
    fn a_pool_yields_its_whole_space_exactly_once() {
        let mut pool = Pool::new(&SMALL, 3);
        pool.window = 7;
        assert_eq!(pool.blocks, 110);
        let mut seen = HashSet::new();
        while let Some((digits, _)) = pool.take() {
            assert!(seen.insert(digits));
        }
        assert_eq!(seen.len(), 110_000);
        assert!(
            seen.iter()
                .all(|&d| (9_900_000..10_000_000).contains(&d) || (980_000..990_000).contains(&d))
        );
    }

    #[test]
    fn an_exhausted_pool_hands_over_and_the_iterator_ends_when_all_are() {
        let mut g = Generator::new(100, 1);
        for pool in g.pools.iter_mut().filter(|p| p.spec.country != "DE") {
            pool.next = pool.capacity();
        }
        assert!((&mut g).take(20).all(|n| n.country == "DE"));
        for pool in &mut g.pools {
            pool.next = pool.capacity();
        }
        assert!(g.next().is_none());
    }
}
