-- Emergency (E911) addresses of assigned numbers (Sinch's activeNumbers/{n}/emergencyAddress).
-- A row belongs to the number's assignment (assignment_id): once the number is released or
-- assigned anew it is no longer read, and the next address for the number replaces it, so the
-- release path needs to know nothing of addresses. `address` is the JSON of the core's
-- `EmergencyAddress`.
CREATE TABLE emergency_addresses (
    e164          TEXT   NOT NULL CONSTRAINT emergency_addresses_pkey PRIMARY KEY,
    assignment_id TEXT   NOT NULL,
    address       TEXT   NOT NULL,
    updated_at    BIGINT NOT NULL
);
