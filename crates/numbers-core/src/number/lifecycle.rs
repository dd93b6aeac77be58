//! Every change of a number's lifecycle state — reserve, unreserve, assign, update, configure,
//! finish provisioning, release, finish aging — as one pure method each. A store locks the row, calls one of these, and saves
//! the `NumberChange` it gets back (the row with its version bumped, and the event to append);
//! no store sets a state, an owner or a version itself, so both databases move a number the
//! same way. The decisions of *whether* a number may move stay in `Number::claimable_by` and the
//! planners; these methods assume the caller asked them first.

use crate::clock::{Timestamp, to_millis};
use crate::error::Error;
use crate::event::{EventKind, NewEvent};
use crate::ids::{AccountId, AssignmentId, OrderId, ReservationId};
use crate::number::assignment::AssignmentPatch;
use crate::number::{AssignmentData, Number, NumberState};
use crate::provisioning::{ProvisioningOutcome, ProvisioningTask};

/// A number after one transition and the event announcing it (carrying the new version).
#[derive(Debug, Clone, PartialEq)]
pub struct NumberChange {
    pub number: Number,
    pub event: NewEvent,
}

/// Why a reservation gives its numbers back; names the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreserve {
    Released,
    Expired,
}

impl Number {
    /// The state a number returns to when nobody holds it: AGING while `available_after` is
    /// ahead, AVAILABLE otherwise.
    fn unheld_state(&self, now: Timestamp) -> NumberState {
        if self.available_after.is_some_and(|after| after > now) {
            NumberState::Aging
        } else {
            NumberState::Available
        }
    }

    /// Bumps the version and builds the event of the change (account as given).
    fn changed(
        mut self,
        kind: EventKind,
        account: Option<AccountId>,
        now: Timestamp,
    ) -> NumberChange {
        self.version += 1;
        self.updated_at = now;
        let event = NewEvent {
            account_id: account,
            number_id: Some(self.id),
            e164: Some(self.e164.clone()),
            resource_version: self.version,
            ..NewEvent::new(kind, now)
        };
        NumberChange {
            number: self,
            event,
        }
    }

    /// RESERVED for `account` under `reservation` until `until` (`available_after` is kept, so
    /// an aging number returns to aging if the reservation ends early).
    pub fn reserve(
        mut self,
        account: AccountId,
        reservation: ReservationId,
        until: Timestamp,
        now: Timestamp,
    ) -> NumberChange {
        self.state = NumberState::Reserved;
        self.owner = Some(account);
        self.reservation_id = Some(reservation);
        self.reserved_until = Some(until);
        let mut change = self.changed(EventKind::NumberReserved, Some(account), now);
        change.event.reservation_id = Some(reservation);
        change
    }

    /// Back from a reservation of `account` that was released or expired.
    pub fn unreserve(
        mut self,
        account: AccountId,
        reservation: ReservationId,
        why: Unreserve,
        now: Timestamp,
    ) -> NumberChange {
        self.state = self.unheld_state(now);
        self.owner = None;
        self.reservation_id = None;
        self.reserved_until = None;
        let kind = match why {
            Unreserve::Released => EventKind::NumberReservationReleased,
            Unreserve::Expired => EventKind::NumberReservationExpired,
        };
        let mut change = self.changed(kind, Some(account), now);
        change.event.reservation_id = Some(reservation);
        change
    }

    /// ASSIGNED to `account` by `order` under a new assignment, its data the order's
    /// `template` (as a patch onto empty data, so only what a patch may set is taken). Also a
    /// reclaim: the last owner taking an AGING number back is an ordinary assignment.
    pub fn assign(
        mut self,
        account: AccountId,
        order: OrderId,
        template: &AssignmentData,
        now: Timestamp,
    ) -> NumberChange {
        let mut data = AssignmentData::default();
        AssignmentPatch::from_data(template).apply(&mut data);
        self.state = NumberState::Assigned;
        self.owner = Some(account);
        self.assignment_id = Some(AssignmentId::new());
        self.reservation_id = None;
        self.reserved_until = None;
        self.available_after = None;
        self.assigned_at = Some(now);
        self.assignment = data;
        let mut change = self.changed(EventKind::NumberAssigned, Some(account), now);
        change.event.order_id = Some(order);
        change
    }

    /// The owner's change to its assignment data; the event carries the patch.
    pub fn update_assignment(
        mut self,
        patch: &AssignmentPatch,
        now: Timestamp,
    ) -> Result<NumberChange, Error> {
        let details = serde_json::to_value(patch).map_err(Error::internal)?;
        patch.apply(&mut self.assignment);
        let owner = self.owner;
        let mut change = self.changed(EventKind::NumberUpdated, owner, now);
        change.event.details = details;
        Ok(change)
    }

    /// The owner's configuration change on its way to the operator's systems: the patch applied
    /// now and the version bumped even when the patch is empty (each provisioning task records
    /// the version it completes against); the event only when the patch changed something.
    pub fn configure(
        self,
        patch: &AssignmentPatch,
        now: Timestamp,
    ) -> Result<(Number, Option<NewEvent>), Error> {
        let change = self.update_assignment(patch, now)?;
        Ok((change.number, (!patch.is_empty()).then_some(change.event)))
    }

    /// A provisioning task of this number finishing with `outcome`: the task records it (a
    /// success writes the configuration into the assignment data) and the version it completed
    /// at; the event is the task's.
    pub fn finish_provisioning(
        mut self,
        task: &mut ProvisioningTask,
        outcome: ProvisioningOutcome,
        now: Timestamp,
    ) -> NumberChange {
        let kind = task.finish(outcome, &mut self.assignment, self.version + 1, now);
        let mut change = self.changed(kind, Some(task.account), now);
        change.event.details = task.event_details();
        change
    }

    /// Released by its owner: AGING until `available_after` (AVAILABLE at once when that is
    /// not ahead), assignment data cleared, the owner remembered as `last_owner` (who alone may
    /// reclaim it while it ages). The caller closes the live assignment row.
    pub fn release(mut self, available_after: Timestamp, now: Timestamp) -> NumberChange {
        let account = self.owner;
        self.available_after = Some(available_after);
        self.state = self.unheld_state(now);
        self.owner = None;
        self.assignment_id = None;
        self.assigned_at = None;
        self.last_owner = account;
        self.assignment = AssignmentData::default();
        let mut change = self.changed(EventKind::NumberReleased, account, now);
        change.event.details = serde_json::json!({ "available_after": to_millis(available_after) });
        change
    }

    /// The end of aging: AVAILABLE to everyone, the last owner forgotten.
    pub fn finish_aging(mut self, now: Timestamp) -> NumberChange {
        self.state = NumberState::Available;
        self.last_owner = None;
        self.changed(EventKind::NumberAvailable, None, now)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::clock::from_millis;
    use crate::ids::NumberId;
    use crate::number::{Capabilities, Classification, E164, Location, NumberType};

    pub(crate) fn available(e164: &str) -> Number {
        Number {
            id: NumberId::new(),
            e164: E164::parse(e164).unwrap(),
            country: "US".into(),
            number_type: NumberType::Local,
            capabilities: Capabilities::from_bits(0),
            classification: Classification::Bronze,
            location: Location::default(),
            tier: None,
            vendor_id: None,
            vendor_name: None,
            price: None,
            protected: false,
            state: NumberState::Available,
            owner: None,
            last_owner: None,
            assignment_id: None,
            reservation_id: None,
            reserved_until: None,
            available_after: Some(from_millis(0)),
            assigned_at: None,
            assignment: AssignmentData::default(),
            created_at: from_millis(0),
            updated_at: from_millis(0),
            version: 1,
        }
    }

    fn at(ms: i64) -> Timestamp {
        from_millis(ms)
    }

    #[test]
    fn reserve_then_unreserve_returns_it_with_two_versions_more() {
        let (account, r) = (AccountId::new(), ReservationId::new());
        let reserved = available("+12065550100").reserve(account, r, at(50), at(10));
        assert_eq!(reserved.number.state, NumberState::Reserved);
        assert_eq!(reserved.number.owner, Some(account));
        assert_eq!(reserved.number.version, 2);
        assert_eq!(reserved.event.kind, EventKind::NumberReserved);
        assert_eq!(reserved.event.reservation_id, Some(r));
        assert_eq!(reserved.event.resource_version, 2);
        let back = reserved
            .number
            .unreserve(account, r, Unreserve::Expired, at(60));
        assert_eq!(back.number.state, NumberState::Available);
        assert_eq!(
            (back.number.owner, back.number.reserved_until),
            (None, None)
        );
        assert_eq!(back.number.version, 3);
        assert_eq!(back.event.kind, EventKind::NumberReservationExpired);
        assert_eq!(back.event.account_id, Some(account));
    }

    #[test]
    fn a_configuration_change_bumps_the_version_and_its_task_records_the_next() {
        use crate::provisioning::{Channel, ProvisioningRequest, ProvisioningStatus};
        let account = AccountId::new();
        let mut n = available("+12065550100");
        (n.state, n.owner, n.assignment_id) = (
            NumberState::Assigned,
            Some(account),
            Some(AssignmentId::new()),
        );
        // An empty patch: the version moves (tasks complete against it), no event.
        let (n, event) = n.configure(&AssignmentPatch::default(), at(10)).unwrap();
        assert_eq!((n.version, event), (2, None));
        let patch = AssignmentPatch {
            display_name: Some(Some("Front desk".into())),
            ..AssignmentPatch::default()
        };
        let (n, event) = n.configure(&patch, at(20)).unwrap();
        let event = event.expect("a change that changed something is announced");
        assert_eq!((n.version, event.resource_version), (3, 3));
        assert_eq!(
            (event.kind, event.account_id),
            (EventKind::NumberUpdated, Some(account))
        );

        let request = ProvisioningRequest {
            channel: Channel::Voice,
            target: None,
        };
        let assignment = n.assignment_id.unwrap();
        let mut task = ProvisioningTask::new(account, &n, assignment, request, at(20));
        task.claim(at(100), at(30));
        let done = n.finish_provisioning(&mut task, ProvisioningOutcome::Succeeded, at(40));
        assert_eq!(done.number.version, 4);
        assert_eq!(task.completed_version, Some(4));
        assert_eq!(task.status, ProvisioningStatus::Succeeded);
        assert_eq!(done.event.kind, EventKind::NumberProvisioned);
        assert_eq!(done.event.resource_version, 4);
        assert_eq!(done.event.details, task.event_details());
        assert_eq!(done.number.updated_at, at(40));
    }

    #[test]
    fn an_aging_number_reserved_and_released_ages_again() {
        let (account, r) = (AccountId::new(), ReservationId::new());
        let mut n = available("+12065550100");
        n.state = NumberState::Aging;
        n.available_after = Some(at(1_000));
        let back = n.reserve(account, r, at(500), at(10)).number.unreserve(
            account,
            r,
            Unreserve::Released,
            at(20),
        );
        assert_eq!(back.number.state, NumberState::Aging);
        assert_eq!(back.event.kind, EventKind::NumberReservationReleased);
    }

    #[test]
    fn assign_release_age_is_the_whole_round() {
        let (account, order) = (AccountId::new(), OrderId::new());
        let assigned =
            available("+12065550100").assign(account, order, &AssignmentData::default(), at(10));
        let n = &assigned.number;
        assert!(n.is_assigned_to(account) && n.assignment_id.is_some());
        assert_eq!((n.assigned_at, n.available_after), (Some(at(10)), None));
        assert_eq!(assigned.event.order_id, Some(order));
        let released = assigned.number.release(at(100), at(20));
        let n = &released.number;
        assert_eq!(n.state, NumberState::Aging);
        assert_eq!(
            (n.owner, n.last_owner, n.assignment_id),
            (None, Some(account), None)
        );
        assert_eq!(released.event.account_id, Some(account));
        assert_eq!(released.event.details["available_after"], 100);
        let aged = released.number.finish_aging(at(100));
        assert_eq!(aged.number.state, NumberState::Available);
        assert_eq!((aged.number.last_owner, aged.number.version), (None, 4));
        assert_eq!(aged.event.account_id, None);
    }

    #[test]
    fn a_release_not_ahead_is_available_at_once() {
        let account = AccountId::new();
        let n = available("+12065550100")
            .assign(account, OrderId::new(), &AssignmentData::default(), at(10))
            .number
            .release(at(20), at(20));
        assert_eq!(n.number.state, NumberState::Available);
    }
}
