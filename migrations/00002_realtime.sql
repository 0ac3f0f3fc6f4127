-- +goose Up
-- Real time and the web chat: operator availability and presence, attachments,
-- and the per-ente secret that signs identities handed to the web-chat widget.

ALTER TABLE staff ADD COLUMN availability text NOT NULL DEFAULT 'away'
    CHECK (availability IN ('available', 'away'));
COMMENT ON COLUMN staff.availability IS 'Set by the operator: only available operators are offered new conversations.';

CREATE TABLE staff_presence (
    tenant_id      bigint NOT NULL,
    staff_id       bigint NOT NULL,
    connection_id  text NOT NULL,
    connected_at   timestamptz NOT NULL DEFAULT now(),
    seen_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, staff_id, connection_id),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE staff_presence IS 'Open console connections, on any instance; a staff member is online while one was seen in the last minute.';
CREATE INDEX staff_presence_seen ON staff_presence (seen_at);

CREATE TABLE attachments (
    tenant_id     bigint NOT NULL REFERENCES tenants(id),
    id            bigint GENERATED ALWAYS AS IDENTITY,
    token         text NOT NULL UNIQUE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    content_type  text NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf')),
    size          bigint NOT NULL CHECK (size > 0),
    sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    data          bytea NOT NULL,
    contact_id    bigint,
    staff_id      bigint,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id)
);
COMMENT ON TABLE attachments IS 'Files sent in conversations, type-checked by content; kept in the database with the messages that carry them.';
COMMENT ON COLUMN attachments.token IS 'Unguessable id used in URLs and in message attachment metadata.';

ALTER TABLE tenants ADD COLUMN webchat_identity_secret text;
COMMENT ON COLUMN tenants.webchat_identity_secret IS 'HMAC key with which the ente''s own website signs the user id it hands to the web-chat widget. Never shown back.';

-- +goose Down
ALTER TABLE tenants DROP COLUMN webchat_identity_secret;
DROP TABLE attachments, staff_presence;
ALTER TABLE staff DROP COLUMN availability;
