//! The SQL of the reservations that block a resource's time (`active`, `pending_approval`,
//! `held`: what the overlap guard covers), shared by every query that reads them.

/// SQL that is true when the reservation `$alias` blocks its slot (`active`,
/// `pending_approval`, `held`: what the overlap guard covers), as a `&'static str`.
///
/// Equalities joined by OR rather than `status IN (…)`: SQLite builds a temporary b-tree at
/// every run of a statement for an IN list of more than two constants. The text is that of
/// SQLite's partial indexes on blocking reservations (migration 40), which SQLite uses only for
/// a query that carries their WHERE clause; PostgreSQL proves its `IN`-form indexes from it.
macro_rules! blocking_sql {
    ($alias:literal) => {
        concat!(
            "(",
            $alias,
            ".status = 'active' OR ",
            $alias,
            ".status = 'pending_approval' OR ",
            $alias,
            ".status = 'held')"
        )
    };
}
pub(crate) use blocking_sql;

#[cfg(test)]
mod tests {
    use reserver_actors::resource::BookingStatus;

    /// The SQL names exactly the statuses of a booking that blocks its slot.
    #[test]
    fn blocking_sql_names_the_blocking_statuses() {
        let named: Vec<&str> = blocking_sql!("r")
            .trim_matches(['(', ')'])
            .split(" OR ")
            .map(|equality| equality.trim_start_matches("r.status = ").trim_matches('\''))
            .collect();
        let blocking = [
            BookingStatus::Active,
            BookingStatus::PendingApproval,
            BookingStatus::Held,
        ];
        assert_eq!(named, blocking.map(BookingStatus::as_str));
    }
}
