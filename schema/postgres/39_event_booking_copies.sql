-- The booking a change made (a new booking, a hold), stored beside the change's event as JSON
-- (`reserver_actors::resource::BookingCopy`), so that the other server processes' actors take
-- it in from the event without reading the booking again. NULL for every other event. Never
-- sent to clients: frames and webhook bodies are made from `payload` alone.
ALTER TABLE events ADD COLUMN booking TEXT;
