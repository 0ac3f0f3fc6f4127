-- +goose Up
-- The CRM core: tenants, staff, contacts and their identities, consents,
-- conversations and messages, the fascicolo and the audit log.
-- Every tenant-owned table carries tenant_id first in its primary key, so that the
-- schema can be distributed by tenant and no row can be reached without its tenant.

CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE tenants (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug           text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    fiscal_code    text NOT NULL CHECK (fiscal_code ~ '^[0-9]{11}$'),
    created_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tenants IS 'An ente (Comune): the unit of data isolation.';
COMMENT ON COLUMN tenants.fiscal_code IS 'The codice fiscale of the ente, creditor of its avvisi pagoPA.';

CREATE TABLE teams (
    tenant_id   bigint NOT NULL REFERENCES tenants(id),
    id          bigint GENERATED ALWAYS AS IDENTITY,
    slug        text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, slug)
);
COMMENT ON TABLE teams IS 'A team of staff; each team has one queue of conversations.';

CREATE TABLE staff (
    tenant_id      bigint NOT NULL REFERENCES tenants(id),
    id             bigint GENERATED ALWAYS AS IDENTITY,
    email          text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    roles          text[] NOT NULL CHECK (cardinality(roles) > 0 AND roles <@ ARRAY['operator','supervisor','communication','knowledge_editor','admin']),
    password_hash  text NOT NULL,
    active         boolean NOT NULL DEFAULT true,
    max_concurrent integer NOT NULL DEFAULT 5 CHECK (max_concurrent BETWEEN 1 AND 100),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX staff_email_key ON staff (email);
COMMENT ON TABLE staff IS 'Staff accounts of an ente. E-mail addresses are unique across the installation so that one login form serves every ente.';
COMMENT ON COLUMN staff.password_hash IS 'argon2id in PHC string format.';

CREATE TABLE team_members (
    tenant_id  bigint NOT NULL,
    team_id    bigint NOT NULL,
    staff_id   bigint NOT NULL,
    PRIMARY KEY (tenant_id, team_id, staff_id),
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE staff_sessions (
    token_hash    bytea PRIMARY KEY,
    tenant_id     bigint NOT NULL,
    staff_id      bigint NOT NULL,
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE staff_sessions IS 'Console sessions; only the SHA-256 of the cookie value is stored.';
CREATE INDEX staff_sessions_expiry ON staff_sessions (expires_at);

CREATE TABLE api_tokens (
    tenant_id     bigint NOT NULL REFERENCES tenants(id),
    id            bigint GENERATED ALWAYS AS IDENTITY,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    token_hash    bytea NOT NULL UNIQUE,
    roles         text[] NOT NULL CHECK (cardinality(roles) > 0 AND roles <@ ARRAY['operator','supervisor','communication','knowledge_editor','admin']),
    created_by    bigint,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    PRIMARY KEY (tenant_id, id)
);
COMMENT ON TABLE api_tokens IS 'Tokens for integrations, used as Bearer credentials; only their SHA-256 is stored.';

CREATE TABLE contacts (
    tenant_id      bigint NOT NULL REFERENCES tenants(id),
    id             bigint GENERATED ALWAYS AS IDENTITY,
    display_name   text NOT NULL DEFAULT '' CHECK (length(display_name) <= 300),
    given_name     text NOT NULL DEFAULT '' CHECK (length(given_name) <= 200),
    family_name    text NOT NULL DEFAULT '' CHECK (length(family_name) <= 200),
    codice_fiscale text CHECK (codice_fiscale ~ '^[A-Z]{6}[0-9]{2}[A-Z][0-9]{2}[A-Z][0-9]{3}[A-Z]$'),
    email          text NOT NULL DEFAULT '' CHECK (length(email) <= 320),
    phone          text NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
    language       text NOT NULL DEFAULT 'it' CHECK (language ~ '^[a-z]{2}$'),
    merged_into    bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, merged_into) REFERENCES contacts (tenant_id, id)
);
COMMENT ON TABLE contacts IS 'A person (citizen, business, city user) as known to one ente, unified across channels.';
COMMENT ON COLUMN contacts.codice_fiscale IS 'Canonical form (omocodia undone) of the verified codice fiscale; set only from a verified identity.';
COMMENT ON COLUMN contacts.merged_into IS 'Set when this contact was merged into another; the row stays so that old links can be followed.';
CREATE UNIQUE INDEX contacts_codice_fiscale_key ON contacts (tenant_id, codice_fiscale) WHERE merged_into IS NULL;
CREATE INDEX contacts_name_trgm ON contacts USING gin (lower(display_name) gin_trgm_ops);
CREATE INDEX contacts_email ON contacts (tenant_id, lower(email)) WHERE email <> '';
CREATE INDEX contacts_phone ON contacts (tenant_id, phone) WHERE phone <> '';

CREATE TABLE contact_identities (
    tenant_id    bigint NOT NULL,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    contact_id   bigint NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('webchat','email','telegram','codice_fiscale','phone')),
    external_id  text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 320),
    verified     boolean NOT NULL DEFAULT false,
    verified_by  text NOT NULL DEFAULT '' CHECK (verified_by IN ('','spid','cie','oidc','email_link','telegram','operator','import','signed_identity')),
    verified_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, kind, external_id),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id),
    CHECK (verified = (verified_by <> ''))
);
COMMENT ON TABLE contact_identities IS 'How a contact is reached or recognised on a channel: web-chat visitor id, e-mail address, Telegram user id, codice fiscale (app IO, SPID/CIE), phone.';
COMMENT ON COLUMN contact_identities.verified_by IS 'How the identity was proven; empty when it is only claimed.';
CREATE INDEX contact_identities_contact ON contact_identities (tenant_id, contact_id);

CREATE TABLE merge_suggestions (
    tenant_id    bigint NOT NULL,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    contact_a    bigint NOT NULL,
    contact_b    bigint NOT NULL,
    reason       text NOT NULL CHECK (reason IN ('same_name','same_email','same_phone')),
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open','merged','dismissed')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    decided_at   timestamptz,
    decided_by   bigint,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, contact_a, contact_b, reason),
    CHECK (contact_a < contact_b),
    FOREIGN KEY (tenant_id, contact_a) REFERENCES contacts (tenant_id, id),
    FOREIGN KEY (tenant_id, contact_b) REFERENCES contacts (tenant_id, id)
);
COMMENT ON TABLE merge_suggestions IS 'Weak signals that two contacts may be one person; only staff decide.';
CREATE INDEX merge_suggestions_b ON merge_suggestions (tenant_id, contact_b);

CREATE TABLE consents (
    tenant_id    bigint NOT NULL,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    contact_id   bigint NOT NULL,
    channel      text NOT NULL CHECK (channel IN ('webchat','email','telegram','appio','sms','phone')),
    purpose      text NOT NULL CHECK (purpose IN ('service','information')),
    granted      boolean NOT NULL,
    source       text NOT NULL CHECK (length(source) BETWEEN 1 AND 200),
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    recorded_by  bigint,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id)
);
COMMENT ON TABLE consents IS 'Consent history per contact, channel and purpose; the newest row is in force.';
CREATE INDEX consents_contact ON consents (tenant_id, contact_id, channel, purpose, recorded_at DESC);

CREATE TABLE conversations (
    tenant_id        bigint NOT NULL,
    id               bigint GENERATED ALWAYS AS IDENTITY,
    contact_id       bigint NOT NULL,
    channel          text NOT NULL CHECK (channel IN ('webchat','email','telegram','appio','sportello')),
    thread_key       text NOT NULL DEFAULT '' CHECK (length(thread_key) <= 500),
    subject          text NOT NULL DEFAULT '' CHECK (length(subject) <= 500),
    status           text NOT NULL CHECK (status IN ('assistant','queued','assigned','resolved')),
    team_id          bigint,
    assignee_id      bigint,
    priority         smallint NOT NULL DEFAULT 1 CHECK (priority BETWEEN 0 AND 3),
    tags             text[] NOT NULL DEFAULT '{}',
    last_seq         bigint NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    last_message_at  timestamptz NOT NULL DEFAULT now(),
    queued_at        timestamptz,
    resolved_at      timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id),
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id),
    FOREIGN KEY (tenant_id, assignee_id) REFERENCES staff (tenant_id, id),
    CHECK (status <> 'assigned' OR assignee_id IS NOT NULL)
);
COMMENT ON COLUMN conversations.thread_key IS 'Channel-specific thread (an e-mail thread root, a Telegram chat id); empty when the channel has one thread per contact.';
COMMENT ON COLUMN conversations.last_seq IS 'Sequence number of the newest message; each message takes the next one.';
COMMENT ON COLUMN conversations.priority IS '0 low, 1 normal, 2 high, 3 urgent.';
CREATE UNIQUE INDEX conversations_open_thread ON conversations (tenant_id, contact_id, channel, thread_key) WHERE status <> 'resolved';
COMMENT ON INDEX conversations_open_thread IS 'At most one open conversation per contact, channel and thread.';
CREATE INDEX conversations_inbox ON conversations (tenant_id, status, team_id, last_message_at DESC);
CREATE INDEX conversations_assignee ON conversations (tenant_id, assignee_id) WHERE status = 'assigned';
CREATE INDEX conversations_contact_all ON conversations (tenant_id, contact_id, last_message_at DESC);

CREATE TABLE messages (
    tenant_id        bigint NOT NULL,
    id               bigint GENERATED ALWAYS AS IDENTITY,
    conversation_id  bigint NOT NULL,
    seq              bigint NOT NULL,
    channel          text NOT NULL,
    direction        text NOT NULL CHECK (direction IN ('in','out','internal')),
    author_kind      text NOT NULL CHECK (author_kind IN ('citizen','assistant','operator','system')),
    author_staff_id  bigint,
    body_text        text NOT NULL DEFAULT '' CHECK (length(body_text) <= 100000),
    body_html        text NOT NULL DEFAULT '' CHECK (length(body_html) <= 500000),
    attachments      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(attachments) = 'array'),
    private          boolean NOT NULL DEFAULT false,
    external_id      text CHECK (length(external_id) BETWEEN 1 AND 500),
    delivery_status  text NOT NULL CHECK (delivery_status IN ('received','pending','sent','delivered','read','failed')),
    delivery_error   text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, conversation_id, seq),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id),
    FOREIGN KEY (tenant_id, author_staff_id) REFERENCES staff (tenant_id, id),
    CHECK (private = (direction = 'internal'))
);
COMMENT ON COLUMN messages.external_id IS 'The channel''s own id of an inbound message (or the client id of a web-chat message); makes ingest idempotent.';
COMMENT ON COLUMN messages.body_html IS 'Sanitised HTML, when the channel carries HTML.';
COMMENT ON COLUMN messages.private IS 'A note between staff, never sent to the citizen.';
CREATE UNIQUE INDEX messages_external_key ON messages (tenant_id, channel, external_id) WHERE external_id IS NOT NULL;

-- The fascicolo.
CREATE TABLE pratiche (
    tenant_id     bigint NOT NULL,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    contact_id    bigint NOT NULL,
    reference     text NOT NULL CHECK (length(reference) BETWEEN 1 AND 100),
    type          text NOT NULL CHECK (length(type) BETWEEN 1 AND 200),
    title         text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    status        text NOT NULL CHECK (length(status) BETWEEN 1 AND 100),
    office        text NOT NULL DEFAULT '' CHECK (length(office) <= 200),
    opened_at     timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, reference),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id)
);
COMMENT ON TABLE pratiche IS 'Cases of a citizen with the ente; reference is the ente''s own protocol number.';
CREATE INDEX pratiche_contact ON pratiche (tenant_id, contact_id);

CREATE TABLE pratica_events (
    tenant_id    bigint NOT NULL,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    pratica_id   bigint NOT NULL,
    status       text NOT NULL CHECK (length(status) BETWEEN 1 AND 100),
    note         text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    occurred_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, pratica_id, occurred_at, status),
    FOREIGN KEY (tenant_id, pratica_id) REFERENCES pratiche (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE pratica_events IS 'The status timeline of a pratica.';

CREATE TABLE avvisi (
    tenant_id             bigint NOT NULL,
    id                    bigint GENERATED ALWAYS AS IDENTITY,
    contact_id            bigint NOT NULL,
    notice_number         text NOT NULL CHECK (notice_number ~ '^[0-9]{18}$'),
    creditor_fiscal_code  text NOT NULL CHECK (creditor_fiscal_code ~ '^[0-9]{11}$'),
    description           text NOT NULL CHECK (length(description) BETWEEN 1 AND 140),
    amount_cents          bigint NOT NULL CHECK (amount_cents BETWEEN 1 AND 9999999999),
    due_date              date NOT NULL,
    status                text NOT NULL CHECK (status IN ('unpaid','paid','cancelled')),
    paid_at               timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, creditor_fiscal_code, notice_number),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id),
    CHECK ((status = 'paid') = (paid_at IS NOT NULL))
);
COMMENT ON TABLE avvisi IS 'Avvisi pagoPA addressed to the contact; identified by creditor fiscal code + notice number (NAV). Overdue is derived: unpaid with due_date in the past.';
CREATE INDEX avvisi_contact ON avvisi (tenant_id, contact_id);

CREATE TABLE documents (
    tenant_id    bigint NOT NULL,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    contact_id   bigint NOT NULL,
    reference    text NOT NULL CHECK (length(reference) BETWEEN 1 AND 100),
    kind         text NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
    title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    url          text NOT NULL DEFAULT '' CHECK (length(url) <= 2000),
    issued_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, reference),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id)
);
CREATE INDEX documents_contact ON documents (tenant_id, contact_id);

CREATE TABLE appointments (
    tenant_id    bigint NOT NULL,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    contact_id   bigint NOT NULL,
    reference    text NOT NULL CHECK (length(reference) BETWEEN 1 AND 100),
    service      text NOT NULL CHECK (length(service) BETWEEN 1 AND 200),
    location     text NOT NULL DEFAULT '' CHECK (length(location) <= 300),
    mode         text NOT NULL CHECK (mode IN ('in_person','video','phone')),
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    status       text NOT NULL CHECK (status IN ('booked','cancelled','done','no_show')),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, reference),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id),
    CHECK (ends_at > starts_at)
);
CREATE INDEX appointments_contact ON appointments (tenant_id, contact_id, starts_at);

CREATE TABLE audit_log (
    tenant_id    bigint NOT NULL REFERENCES tenants(id),
    id           bigint GENERATED ALWAYS AS IDENTITY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_kind   text NOT NULL CHECK (actor_kind IN ('staff','token','system')),
    actor_id     bigint,
    actor_name   text NOT NULL DEFAULT '',
    action       text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
    contact_id   bigint,
    reason       text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    detail       jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id)
);
COMMENT ON TABLE audit_log IS 'Append-only record of staff actions on personal data (reads of a fascicolo, merges, imports). Rows are never updated or deleted.';
CREATE INDEX audit_log_contact ON audit_log (tenant_id, contact_id, at DESC);
CREATE INDEX audit_log_at ON audit_log (tenant_id, at DESC);

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TABLE audit_log, appointments, documents, avvisi, pratica_events, pratiche,
    messages, conversations, consents, merge_suggestions, contact_identities, contacts,
    api_tokens, staff_sessions, team_members, staff, teams, tenants;
DROP FUNCTION audit_log_append_only();
