-- The database writes the event log: every change of a master flow, its data imports or its discovery flows
-- appends its events in the writer's own transaction, whoever the writer is (flowgraph, the platform's
-- orchestrator and agents, psql). The first part is what Prisma generates from prisma/schema.prisma
-- (npm run db:diff); the second part is what Prisma cannot model.

-- AlterTable
ALTER TABLE "crewai_flow_state_extensions" ADD COLUMN     "version_xact" BIGINT;

-- CreateTable
CREATE TABLE "flow_event_outbox" (
    "id" BIGSERIAL NOT NULL,
    "transaction_id" BIGINT NOT NULL,
    "client_account_id" UUID NOT NULL,
    "engagement_id" UUID NOT NULL,
    "master_flow_id" UUID NOT NULL,
    "flow_type" VARCHAR(50) NOT NULL,
    "kind" VARCHAR(50) NOT NULL,
    "actor" VARCHAR(255) NOT NULL,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "flow_event_outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "flow_event_commits" (
    "transaction_id" BIGINT NOT NULL,

    CONSTRAINT "flow_event_commits_pkey" PRIMARY KEY ("transaction_id")
);

-- CreateIndex
CREATE INDEX "flow_event_outbox_transaction_id_master_flow_id_idx" ON "flow_event_outbox"("transaction_id", "master_flow_id");

-- ---------------------------------------------------------------------------------------------------------------
-- Not modelled by Prisma.
-- ---------------------------------------------------------------------------------------------------------------

-- How events reach the log. The row triggers below stage events in flow_event_outbox as the writer's statements
-- run; at commit, a deferred trigger numbers the transaction's staged events from flow_event_sequence and
-- moves them to flow_events. The counter row's lock is therefore taken only while the writer commits (not for
-- the whole transaction, which for an import means the minutes its rows take), and it is held until the
-- commit is done: numbers become visible in exactly the order they were drawn, with no gap, and a rolled-back
-- transaction stages nothing that survives. Writers at REPEATABLE READ or SERIALIZABLE may get a
-- serialization failure on the counter row at commit when another writer committed first; they retry, as
-- PostgreSQL requires of them anyway.

-- The kinds an event can have (src/domain/flow-event-kinds.ts holds the same list), so nothing a client cannot
-- read enters the log; the outbox refuses them at once, in the writer's statement.
ALTER TABLE "flow_events" ADD CONSTRAINT "flow_events_kind_check"
    CHECK ("kind" IN ('master_flow_created', 'import_stored', 'status_changed', 'phase_completed', 'master_flow_deleted',
                      'flow_updated'));
ALTER TABLE "flow_event_outbox" ADD CONSTRAINT "flow_event_outbox_kind_check"
    CHECK ("kind" IN ('master_flow_created', 'import_stored', 'status_changed', 'phase_completed', 'master_flow_deleted',
                      'flow_updated'));

-- Who made the change: what flowgraph (or any program) set in the transaction-local setting flowgraph.actor,
-- else the program's application_name and database role, for example "platform-worker (postgres)".
CREATE FUNCTION "flowgraph_event_actor"() RETURNS text LANGUAGE sql STABLE AS $fn$
    SELECT left(coalesce(nullif(current_setting('flowgraph.actor', true), ''),
                         nullif(current_setting('application_name', true), '') || ' (' || current_user || ')',
                         current_user::text), 255)
$fn$;

-- The writer's transaction, as a number that never repeats (xid8: the epoch is included).
CREATE FUNCTION "flowgraph_transaction_id"() RETURNS bigint LANGUAGE sql VOLATILE AS $fn$
    SELECT pg_current_xact_id()::text::bigint
$fn$;

-- Queues the numbering of this transaction's staged events for its commit (once per transaction).
CREATE FUNCTION "flowgraph_queue_event_commit"() RETURNS void LANGUAGE sql VOLATILE AS $fn$
    INSERT INTO flow_event_commits (transaction_id) VALUES (flowgraph_transaction_id()) ON CONFLICT DO NOTHING
$fn$;

-- At commit: number the staged events (in staging order) and move them into the log.
CREATE FUNCTION "flowgraph_commit_flow_events"() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    staged bigint;
    last_number bigint;
BEGIN
    DELETE FROM flow_event_commits WHERE transaction_id = NEW.transaction_id;
    SELECT count(*) INTO staged FROM flow_event_outbox WHERE transaction_id = NEW.transaction_id;
    IF staged = 0 THEN
        RETURN NULL;
    END IF;
    UPDATE flow_event_sequence SET last_sequence = last_sequence + staged WHERE id = 1
        RETURNING last_sequence INTO last_number;
    IF last_number IS NULL THEN
        RAISE EXCEPTION 'flow_event_sequence has no row; the init migration seeds it';
    END IF;
    INSERT INTO flow_events (sequence, client_account_id, engagement_id, master_flow_id, flow_type, kind, actor, payload, created_at)
    SELECT last_number - staged + row_number() OVER (ORDER BY o.id), o.client_account_id, o.engagement_id, o.master_flow_id,
           o.flow_type, o.kind, o.actor, o.payload, o.created_at
      FROM flow_event_outbox o
     WHERE o.transaction_id = NEW.transaction_id;
    DELETE FROM flow_event_outbox WHERE transaction_id = NEW.transaction_id;
    RETURN NULL;
END
$fn$;

CREATE CONSTRAINT TRIGGER "flow_event_commits_number_events" AFTER INSERT ON "flow_event_commits"
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "flowgraph_commit_flow_events"();

-- Version: bumped once per transaction that changes a master flow (whatever the writer sets it to), and by the
-- triggers of its children (below) when they change, so StaleFlow protects against every writer.
CREATE FUNCTION "flowgraph_master_flow_version"() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    xact bigint := flowgraph_transaction_id();
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.version_xact := xact;
    ELSIF OLD.version_xact IS NOT DISTINCT FROM xact THEN
        NEW.version := OLD.version;
    ELSIF NEW IS DISTINCT FROM OLD THEN
        NEW.version := OLD.version + 1;
        NEW.version_xact := xact;
        IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
            NEW.updated_at := now();
        END IF;
    END IF;
    RETURN NEW;
END
$fn$;

CREATE TRIGGER "master_flows_version" BEFORE INSERT OR UPDATE ON "crewai_flow_state_extensions"
    FOR EACH ROW EXECUTE FUNCTION "flowgraph_master_flow_version"();

-- Bumps the version of the master flows whose children changed (at most once per transaction each).
CREATE FUNCTION "flowgraph_bump_master_flows"(flow_ids uuid[]) RETURNS void LANGUAGE sql VOLATILE AS $fn$
    UPDATE crewai_flow_state_extensions SET version_xact = flowgraph_transaction_id()
     WHERE flow_id = ANY (flow_ids) AND version_xact IS DISTINCT FROM flowgraph_transaction_id()
$fn$;

-- The columns that differ between two versions of a row, bookkeeping left out: what a flow_updated event names.
CREATE FUNCTION "flowgraph_changed_columns"(before jsonb, after jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $fn$
    SELECT coalesce(jsonb_agg(a.key ORDER BY a.key), '[]'::jsonb)
      FROM jsonb_each(after) AS a
     WHERE a.key NOT IN ('version', 'version_xact', 'updated_at') AND a.value IS DISTINCT FROM before -> a.key
$fn$;

-- Master flows: created, status changed, other changes, deleted.
CREATE FUNCTION "flowgraph_master_flow_events"() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    xact bigint := flowgraph_transaction_id();
    actor text := flowgraph_event_actor();
    staged bigint := 0;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO flow_event_outbox (transaction_id, client_account_id, engagement_id, master_flow_id, flow_type, kind, actor, payload)
        SELECT xact, n.client_account_id, n.engagement_id, n.flow_id, n.flow_type, 'master_flow_created', actor,
               jsonb_build_object('after', n.flow_status)
          FROM new_rows n
         ORDER BY n.created_at, n.flow_id;
        GET DIAGNOSTICS staged = ROW_COUNT;
    ELSE
        INSERT INTO flow_event_outbox (transaction_id, client_account_id, engagement_id, master_flow_id, flow_type, kind, actor, payload)
        SELECT xact, c.client_account_id, c.engagement_id, c.flow_id, c.flow_type, c.kind, actor, c.payload
          FROM (
            SELECT n.client_account_id, n.engagement_id, n.flow_id, n.flow_type, n.created_at, 'status_changed' AS kind,
                   jsonb_build_object('before', o.flow_status, 'after', n.flow_status, 'version', n.version) AS payload
              FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE o.flow_status IS DISTINCT FROM n.flow_status
            UNION ALL
            SELECT n.client_account_id, n.engagement_id, n.flow_id, n.flow_type, n.created_at, 'flow_updated',
                   jsonb_build_object('entity', 'master_flow', 'change', 'updated',
                                      'fields', flowgraph_changed_columns(to_jsonb(o), to_jsonb(n)), 'version', n.version)
              FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE o.flow_status IS NOT DISTINCT FROM n.flow_status
               AND flowgraph_changed_columns(to_jsonb(o), to_jsonb(n)) <> '[]'::jsonb
               AND NOT EXISTS (SELECT 1 FROM flow_event_outbox e WHERE e.transaction_id = xact AND e.master_flow_id = n.flow_id)
          ) c
         ORDER BY c.created_at, c.flow_id;
        GET DIAGNOSTICS staged = ROW_COUNT;
    END IF;
    IF staged > 0 THEN
        PERFORM flowgraph_queue_event_commit();
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER "master_flows_events_on_insert" AFTER INSERT ON "crewai_flow_state_extensions"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "flowgraph_master_flow_events"();
CREATE TRIGGER "master_flows_events_on_update" AFTER UPDATE ON "crewai_flow_state_extensions"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "flowgraph_master_flow_events"();

-- A deletion is staged per row, before the cascade removes the children, so it can say what went with it.
CREATE FUNCTION "flowgraph_master_flow_deleted"() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO flow_event_outbox (transaction_id, client_account_id, engagement_id, master_flow_id, flow_type, kind, actor, payload)
    VALUES (flowgraph_transaction_id(), OLD.client_account_id, OLD.engagement_id, OLD.flow_id, OLD.flow_type, 'master_flow_deleted',
            flowgraph_event_actor(),
            jsonb_build_object(
              'before', OLD.flow_status,
              'dataImportsDeleted', (SELECT count(*) FROM data_imports WHERE master_flow_id = OLD.flow_id),
              'rawRecordsDeleted', (SELECT count(*) FROM raw_import_records WHERE master_flow_id = OLD.flow_id),
              'discoveryFlowsDeleted', (SELECT count(*) FROM discovery_flows WHERE master_flow_id = OLD.flow_id)));
    PERFORM flowgraph_queue_event_commit();
    RETURN OLD;
END
$fn$;

CREATE TRIGGER "master_flows_events_on_delete" BEFORE DELETE ON "crewai_flow_state_extensions"
    FOR EACH ROW EXECUTE FUNCTION "flowgraph_master_flow_deleted"();

-- Discovery flows: a phase completed (one event per phase, in phase order), other changes, created or deleted
-- apart from their master flow. Each change bumps the master flow's version. A change made in a transaction
-- that already has an event for the master flow (its creation, a status change that the discovery flow
-- mirrors) adds no flow_updated event: the dashboard refetches on the first.
CREATE FUNCTION "flowgraph_discovery_flow_events"() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    xact bigint := flowgraph_transaction_id();
    actor text := flowgraph_event_actor();
    staged bigint := 0;
    touched uuid[];
BEGIN
    IF TG_OP = 'UPDATE' THEN
        SELECT array_agg(DISTINCT n.master_flow_id) INTO touched
          FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n IS DISTINCT FROM o;
        INSERT INTO flow_event_outbox (transaction_id, client_account_id, engagement_id, master_flow_id, flow_type, kind, actor, payload)
        SELECT xact, c.client_account_id, c.engagement_id, c.master_flow_id, m.flow_type, c.kind, actor, c.payload
          FROM (
            SELECT n.client_account_id, n.engagement_id, n.master_flow_id, n.id, p.ordinal, 'phase_completed' AS kind,
                   jsonb_build_object('phase', p.phase, 'currentPhase', n.current_phase,
                                      'progressPercentage', n.progress_percentage) AS payload
              FROM new_rows n JOIN old_rows o ON o.id = n.id
             CROSS JOIN LATERAL (VALUES
                 (1, 'data_import', o.data_import_completed, n.data_import_completed),
                 (2, 'data_validation', o.data_validation_completed, n.data_validation_completed),
                 (3, 'field_mapping', o.field_mapping_completed, n.field_mapping_completed),
                 (4, 'data_cleansing', o.data_cleansing_completed, n.data_cleansing_completed),
                 (5, 'asset_inventory', o.asset_inventory_completed, n.asset_inventory_completed)
               ) AS p(ordinal, phase, was_done, is_done)
             WHERE p.is_done AND NOT p.was_done
            UNION ALL
            SELECT DISTINCT ON (n.master_flow_id) n.client_account_id, n.engagement_id, n.master_flow_id, n.id, 0, 'flow_updated',
                   jsonb_build_object('entity', 'discovery_flow', 'change', 'updated',
                                      'fields', flowgraph_changed_columns(to_jsonb(o), to_jsonb(n)))
              FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE flowgraph_changed_columns(to_jsonb(o), to_jsonb(n)) <> '[]'::jsonb
               AND NOT (o.data_import_completed < n.data_import_completed OR o.data_validation_completed < n.data_validation_completed
                        OR o.field_mapping_completed < n.field_mapping_completed OR o.data_cleansing_completed < n.data_cleansing_completed
                        OR o.asset_inventory_completed < n.asset_inventory_completed)
               AND NOT EXISTS (SELECT 1 FROM flow_event_outbox e WHERE e.transaction_id = xact AND e.master_flow_id = n.master_flow_id)
          ) c
          JOIN crewai_flow_state_extensions m ON m.flow_id = c.master_flow_id
         ORDER BY c.master_flow_id, c.id, c.ordinal;
        GET DIAGNOSTICS staged = ROW_COUNT;
    ELSE
        IF TG_OP = 'INSERT' THEN
            SELECT array_agg(DISTINCT n.master_flow_id) INTO touched FROM new_rows n;
        ELSE
            SELECT array_agg(DISTINCT o.master_flow_id) INTO touched FROM old_rows o;
        END IF;
        -- A master flow that is gone (a cascade from its deletion) has no row to join, so says nothing more.
        INSERT INTO flow_event_outbox (transaction_id, client_account_id, engagement_id, master_flow_id, flow_type, kind, actor, payload)
        SELECT xact, m.client_account_id, m.engagement_id, m.flow_id, m.flow_type, 'flow_updated', actor,
               jsonb_build_object('entity', 'discovery_flow', 'change', CASE TG_OP WHEN 'INSERT' THEN 'created' ELSE 'deleted' END)
          FROM crewai_flow_state_extensions m
         WHERE m.flow_id = ANY (touched)
           AND NOT EXISTS (SELECT 1 FROM flow_event_outbox e WHERE e.transaction_id = xact AND e.master_flow_id = m.flow_id)
         ORDER BY m.flow_id;
        GET DIAGNOSTICS staged = ROW_COUNT;
    END IF;
    IF staged > 0 THEN
        PERFORM flowgraph_queue_event_commit();
    END IF;
    IF touched IS NOT NULL THEN
        PERFORM flowgraph_bump_master_flows(touched);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER "discovery_flows_events_on_insert" AFTER INSERT ON "discovery_flows"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "flowgraph_discovery_flow_events"();
CREATE TRIGGER "discovery_flows_events_on_update" AFTER UPDATE ON "discovery_flows"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "flowgraph_discovery_flow_events"();
CREATE TRIGGER "discovery_flows_events_on_delete" AFTER DELETE ON "discovery_flows"
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "flowgraph_discovery_flow_events"();

-- Data imports: stored (reached `completed`, with its discovery flow's phase when it has one), other changes,
-- created or deleted apart from their master flow; each bumps the master flow's version. Raw import records
-- have no event trigger: an import of a million rows adds no per-row cost here.
CREATE FUNCTION "flowgraph_data_import_events"() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    xact bigint := flowgraph_transaction_id();
    actor text := flowgraph_event_actor();
    staged bigint := 0;
    more bigint := 0;
    touched uuid[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT o.master_flow_id) INTO touched FROM old_rows o;
        INSERT INTO flow_event_outbox (transaction_id, client_account_id, engagement_id, master_flow_id, flow_type, kind, actor, payload)
        SELECT xact, m.client_account_id, m.engagement_id, m.flow_id, m.flow_type, 'flow_updated', actor,
               jsonb_build_object('entity', 'data_import', 'change', 'deleted')
          FROM crewai_flow_state_extensions m
         WHERE m.flow_id = ANY (touched)
           AND NOT EXISTS (SELECT 1 FROM flow_event_outbox e WHERE e.transaction_id = xact AND e.master_flow_id = m.flow_id)
         ORDER BY m.flow_id;
        GET DIAGNOSTICS staged = ROW_COUNT;
    ELSE
        IF TG_OP = 'INSERT' THEN
            SELECT array_agg(DISTINCT n.master_flow_id) INTO touched FROM new_rows n;
        ELSE
            SELECT array_agg(DISTINCT n.master_flow_id) INTO touched
              FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n IS DISTINCT FROM o;
        END IF;
        -- Stored: the import reached `completed` in this statement.
        IF TG_OP = 'INSERT' THEN
            INSERT INTO flow_event_outbox (transaction_id, client_account_id, engagement_id, master_flow_id, flow_type, kind, actor, payload)
            SELECT xact, n.client_account_id, n.engagement_id, n.master_flow_id, m.flow_type, 'import_stored', actor,
                   jsonb_build_object('totalRecords', n.total_records, 'validRecords', n.total_records - n.failed_records,
                                      'invalidRecords', n.failed_records, 'phase', 'data_import',
                                      'currentPhase', d.current_phase, 'progressPercentage', d.progress_percentage)
              FROM new_rows n
              JOIN crewai_flow_state_extensions m ON m.flow_id = n.master_flow_id
              LEFT JOIN LATERAL (SELECT current_phase, progress_percentage FROM discovery_flows
                                  WHERE data_import_id = n.id ORDER BY created_at LIMIT 1) d ON true
             WHERE n.status = 'completed'
             ORDER BY n.created_at, n.id;
        ELSE
            INSERT INTO flow_event_outbox (transaction_id, client_account_id, engagement_id, master_flow_id, flow_type, kind, actor, payload)
            SELECT xact, n.client_account_id, n.engagement_id, n.master_flow_id, m.flow_type, 'import_stored', actor,
                   jsonb_build_object('totalRecords', n.total_records, 'validRecords', n.total_records - n.failed_records,
                                      'invalidRecords', n.failed_records, 'phase', 'data_import',
                                      'currentPhase', d.current_phase, 'progressPercentage', d.progress_percentage)
              FROM new_rows n
              JOIN old_rows o ON o.id = n.id
              JOIN crewai_flow_state_extensions m ON m.flow_id = n.master_flow_id
              LEFT JOIN LATERAL (SELECT current_phase, progress_percentage FROM discovery_flows
                                  WHERE data_import_id = n.id ORDER BY created_at LIMIT 1) d ON true
             WHERE n.status = 'completed' AND o.status IS DISTINCT FROM 'completed'
             ORDER BY n.created_at, n.id;
        END IF;
        GET DIAGNOSTICS staged = ROW_COUNT;
        -- Anything else, once per master flow and transaction, unless the transaction said something already.
        IF TG_OP = 'INSERT' THEN
            INSERT INTO flow_event_outbox (transaction_id, client_account_id, engagement_id, master_flow_id, flow_type, kind, actor, payload)
            SELECT xact, m.client_account_id, m.engagement_id, m.flow_id, m.flow_type, 'flow_updated', actor,
                   jsonb_build_object('entity', 'data_import', 'change', 'created')
              FROM crewai_flow_state_extensions m
             WHERE m.flow_id = ANY (touched)
               AND NOT EXISTS (SELECT 1 FROM flow_event_outbox e WHERE e.transaction_id = xact AND e.master_flow_id = m.flow_id)
             ORDER BY m.flow_id;
        ELSE
            INSERT INTO flow_event_outbox (transaction_id, client_account_id, engagement_id, master_flow_id, flow_type, kind, actor, payload)
            SELECT DISTINCT ON (n.master_flow_id) xact, n.client_account_id, n.engagement_id, n.master_flow_id, m.flow_type,
                   'flow_updated', actor,
                   jsonb_build_object('entity', 'data_import', 'change', 'updated',
                                      'fields', flowgraph_changed_columns(to_jsonb(o), to_jsonb(n)))
              FROM new_rows n
              JOIN old_rows o ON o.id = n.id
              JOIN crewai_flow_state_extensions m ON m.flow_id = n.master_flow_id
             WHERE flowgraph_changed_columns(to_jsonb(o), to_jsonb(n)) <> '[]'::jsonb
               AND NOT EXISTS (SELECT 1 FROM flow_event_outbox e WHERE e.transaction_id = xact AND e.master_flow_id = n.master_flow_id)
             ORDER BY n.master_flow_id, n.id;
        END IF;
        GET DIAGNOSTICS more = ROW_COUNT;
        staged := staged + more;
    END IF;
    IF staged > 0 THEN
        PERFORM flowgraph_queue_event_commit();
    END IF;
    IF touched IS NOT NULL THEN
        PERFORM flowgraph_bump_master_flows(touched);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER "data_imports_events_on_insert" AFTER INSERT ON "data_imports"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "flowgraph_data_import_events"();
CREATE TRIGGER "data_imports_events_on_update" AFTER UPDATE ON "data_imports"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "flowgraph_data_import_events"();
CREATE TRIGGER "data_imports_events_on_delete" AFTER DELETE ON "data_imports"
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "flowgraph_data_import_events"();
