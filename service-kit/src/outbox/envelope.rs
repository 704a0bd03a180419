//! The event envelopes of the contracts: what the outbox stores, the Watch
//! streams send and the relay publishes, one message type per service.

use kursi_proto::catalog::v1 as catalog;
use kursi_proto::order::v1 as order;
use kursi_proto::reservation::v1 as reservation;

/// A service's event envelope message (`kursi.<service>.v1.<Service>Event`):
/// a position, some common fields, and a oneof `event` of which exactly one
/// is set.
pub trait Envelope: prost::Message + Default + std::fmt::Debug + Send + 'static {
    /// The service's name in subjects and message ids: `reservation`.
    const SERVICE: &'static str;
    /// The message's full protobuf name, for the `Kursi-Event-Type` header.
    const FULL_NAME: &'static str;

    fn set_position(&mut self, position: i64);

    /// The name of the `event` oneof's field that is set (`created`); the
    /// last token of the event's subject. `None` when none is set.
    fn event_name(&self) -> Option<&'static str>;
}

impl Envelope for reservation::ReservationEvent {
    const SERVICE: &'static str = "reservation";
    const FULL_NAME: &'static str = "kursi.reservation.v1.ReservationEvent";

    fn set_position(&mut self, position: i64) {
        self.position = position;
    }

    fn event_name(&self) -> Option<&'static str> {
        use reservation::reservation_event::Event;
        Some(match self.event.as_ref()? {
            Event::Created(_) => "created",
            Event::Confirmed(_) => "confirmed",
            Event::TableAssigned(_) => "table_assigned",
            Event::CheckedIn(_) => "checked_in",
            Event::Completed(_) => "completed",
            Event::Cancelled(_) => "cancelled",
            Event::NoShow(_) => "no_show",
            Event::DepositPaid(_) => "deposit_paid",
            Event::DepositRefunded(_) => "deposit_refunded",
            Event::Rescheduled(_) => "rescheduled",
            Event::WaitlistJoined(_) => "waitlist_joined",
            Event::WaitlistOffered(_) => "waitlist_offered",
            Event::WaitlistAccepted(_) => "waitlist_accepted",
            Event::WaitlistDeclined(_) => "waitlist_declined",
            Event::WaitlistOfferLapsed(_) => "waitlist_offer_lapsed",
            Event::WaitlistLeft(_) => "waitlist_left",
            Event::WaitlistExpired(_) => "waitlist_expired",
        })
    }
}

impl Envelope for catalog::CatalogEvent {
    const SERVICE: &'static str = "catalog";
    const FULL_NAME: &'static str = "kursi.catalog.v1.CatalogEvent";

    fn set_position(&mut self, position: i64) {
        self.position = position;
    }

    fn event_name(&self) -> Option<&'static str> {
        use catalog::catalog_event::Event;
        Some(match self.event.as_ref()? {
            Event::MovieCreated(_) => "movie_created",
            Event::MovieUpdated(_) => "movie_updated",
            Event::MovieDeleted(_) => "movie_deleted",
            Event::ShowtimeScheduled(_) => "showtime_scheduled",
            Event::ShowtimeCancelled(_) => "showtime_cancelled",
        })
    }
}

impl Envelope for order::OrderEvent {
    const SERVICE: &'static str = "order";
    const FULL_NAME: &'static str = "kursi.order.v1.OrderEvent";

    fn set_position(&mut self, position: i64) {
        self.position = position;
    }

    fn event_name(&self) -> Option<&'static str> {
        use order::order_event::Event;
        Some(match self.event.as_ref()? {
            Event::Created(_) => "created",
            Event::Paid(_) => "paid",
            Event::Cancelled(_) => "cancelled",
            Event::Expired(_) => "expired",
            Event::Refunded(_) => "refunded",
            Event::TicketRedeemed(_) => "ticket_redeemed",
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use prost_reflect::{DescriptorPool, DynamicMessage};

    use super::*;

    /// Checks `E`'s names against the contract: for each encoded sample,
    /// the oneof field the descriptor says is set, and the full name.
    pub fn names_match_the_contract<E: Envelope>(samples: &[E]) {
        let pool = DescriptorPool::decode(kursi_proto::FILE_DESCRIPTOR_SET).expect("descriptors");
        let descriptor = pool
            .get_message_by_name(E::FULL_NAME)
            .unwrap_or_else(|| panic!("{} is not in the contracts", E::FULL_NAME));
        let oneof = descriptor
            .oneofs()
            .find(|o| o.name() == "event")
            .expect("an `event` oneof");
        assert_eq!(
            samples.len(),
            oneof.fields().count(),
            "one sample per event of {}",
            E::FULL_NAME
        );
        for sample in samples {
            let dynamic =
                DynamicMessage::decode(descriptor.clone(), sample.encode_to_vec().as_slice())
                    .expect("decodes");
            let set: Vec<_> = oneof
                .fields()
                .filter(|f| dynamic.has_field(f))
                .map(|f| f.name().to_owned())
                .collect();
            assert_eq!(set.len(), 1, "{sample:?}");
            assert_eq!(sample.event_name(), Some(set[0].as_str()));
        }
        assert_eq!(E::default().event_name(), None);
    }

    #[test]
    fn reservation_event_names_are_the_oneof_fields() {
        use reservation::reservation_event::Event;
        let samples: Vec<_> = [
            Event::Created(Default::default()),
            Event::Confirmed(Default::default()),
            Event::TableAssigned(Default::default()),
            Event::CheckedIn(Default::default()),
            Event::Completed(Default::default()),
            Event::Cancelled(Default::default()),
            Event::NoShow(Default::default()),
            Event::DepositPaid(Default::default()),
            Event::DepositRefunded(Default::default()),
            Event::Rescheduled(Default::default()),
            Event::WaitlistJoined(Default::default()),
            Event::WaitlistOffered(Default::default()),
            Event::WaitlistAccepted(Default::default()),
            Event::WaitlistDeclined(Default::default()),
            Event::WaitlistOfferLapsed(Default::default()),
            Event::WaitlistLeft(Default::default()),
            Event::WaitlistExpired(Default::default()),
        ]
        .into_iter()
        .map(|event| reservation::ReservationEvent {
            event: Some(event),
            ..Default::default()
        })
        .collect();
        names_match_the_contract(&samples);
    }

    #[test]
    fn catalog_event_names_are_the_oneof_fields() {
        use catalog::catalog_event::Event;
        let samples: Vec<_> = [
            Event::MovieCreated(Default::default()),
            Event::MovieUpdated(Default::default()),
            Event::MovieDeleted(Default::default()),
            Event::ShowtimeScheduled(Default::default()),
            Event::ShowtimeCancelled(Default::default()),
        ]
        .into_iter()
        .map(|event| catalog::CatalogEvent {
            event: Some(event),
            ..Default::default()
        })
        .collect();
        names_match_the_contract(&samples);
    }

    #[test]
    fn order_event_names_are_the_oneof_fields() {
        use order::order_event::Event;
        let samples: Vec<_> = [
            Event::Created(Default::default()),
            Event::Paid(Default::default()),
            Event::Cancelled(Default::default()),
            Event::Expired(Default::default()),
            Event::Refunded(Default::default()),
            Event::TicketRedeemed(Default::default()),
        ]
        .into_iter()
        .map(|event| order::OrderEvent {
            event: Some(event),
            ..Default::default()
        })
        .collect();
        names_match_the_contract(&samples);
    }
}
