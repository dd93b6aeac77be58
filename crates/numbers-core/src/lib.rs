//! numbers-core owns the domain of numbersd: what a telephone number is, the states it moves
//! through, who may move it, and the `Store` contract the databases implement. It knows nothing
//! of HTTP or SQL drivers: the dialects translate wire requests into the types here and call the
//! services, and the stores execute the coarse, transactional steps the services ask for.
#![forbid(unsafe_code)]

pub mod account;
pub mod callback;
pub mod clock;
pub mod disconnect;
pub mod emergency;
pub mod error;
pub mod event;
pub mod ids;
pub mod kyc;
pub mod note;
pub mod number;
pub mod number_order;
pub mod order;
pub mod page;
pub mod provisioning;
pub mod reservation;
pub mod sealing;
pub mod search;
pub mod service;
pub mod signature;
pub mod site;
pub mod store;
pub mod token;
pub mod webhook;
pub mod worker;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, FieldError, Result};
