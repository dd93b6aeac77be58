-- Events are numbered after their transaction commits, not inside it (see src/events.rs): a step
-- appends its events here, unnumbered and without any lock, and one sequencer at a time moves
-- the committed rows into `events`, where `seq` is handed out in the order the sequencer commits.
-- `qid` keeps the order a step wrote its events in, and puts the events of a step that waited
-- for another's row locks after that other step's. The columns are those of `events` (LIKE
-- copies names, types, NOT NULL and collations, not the seq default) but `seq`.
CREATE TABLE event_queue (LIKE events);
ALTER TABLE event_queue DROP COLUMN seq;
ALTER TABLE event_queue ADD COLUMN qid BIGSERIAL CONSTRAINT event_queue_pkey PRIMARY KEY;
