-- flowgraph's initial schema. The first part is what Prisma generates from prisma/schema.prisma (npm run db:diff);
-- the second part is what Prisma cannot model: CHECK constraints, tenant-consistency triggers, the event counter row.

-- CreateTable
CREATE TABLE "crewai_flow_state_extensions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "flow_id" UUID NOT NULL,
    "client_account_id" UUID NOT NULL,
    "engagement_id" UUID NOT NULL,
    "user_id" VARCHAR(255) NOT NULL,
    "flow_type" VARCHAR(50) NOT NULL,
    "flow_name" VARCHAR(255),
    "flow_status" VARCHAR(50) NOT NULL DEFAULT 'initialized',
    "flow_configuration" JSONB NOT NULL DEFAULT '{}',
    "flow_persistence_data" JSONB NOT NULL DEFAULT '{}',
    "phase_transitions" JSONB NOT NULL DEFAULT '[]',
    "error_history" JSONB NOT NULL DEFAULT '[]',
    "retry_count" INTEGER NOT NULL DEFAULT 0,
    "parent_flow_id" UUID,
    "version" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "crewai_flow_state_extensions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "data_imports" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "client_account_id" UUID NOT NULL,
    "engagement_id" UUID NOT NULL,
    "master_flow_id" UUID NOT NULL,
    "import_name" VARCHAR(255) NOT NULL,
    "import_type" VARCHAR(50) NOT NULL,
    "import_category" VARCHAR(50),
    "filename" VARCHAR(255) NOT NULL,
    "file_size" BIGINT,
    "mime_type" VARCHAR(100),
    "source_system" VARCHAR(100),
    "status" VARCHAR(50) NOT NULL DEFAULT 'pending',
    "progress_percentage" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "total_records" INTEGER NOT NULL DEFAULT 0,
    "processed_records" INTEGER NOT NULL DEFAULT 0,
    "failed_records" INTEGER NOT NULL DEFAULT 0,
    "processing_config" JSONB NOT NULL DEFAULT '{}',
    "imported_by" VARCHAR(255) NOT NULL,
    "error_message" TEXT,
    "started_at" TIMESTAMPTZ(6),
    "completed_at" TIMESTAMPTZ(6),
    "idempotency_key" VARCHAR(255),
    "content_sha256" VARCHAR(64),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "data_imports_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "raw_import_records" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "data_import_id" UUID NOT NULL,
    "client_account_id" UUID NOT NULL,
    "engagement_id" UUID NOT NULL,
    "master_flow_id" UUID NOT NULL,
    "row_number" INTEGER NOT NULL,
    "raw_data" JSONB NOT NULL,
    "cleansed_data" JSONB,
    "validation_errors" JSONB,
    "processing_notes" TEXT,
    "is_processed" BOOLEAN NOT NULL DEFAULT false,
    "is_valid" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processed_at" TIMESTAMPTZ(6),

    CONSTRAINT "raw_import_records_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "discovery_flows" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "flow_id" UUID NOT NULL,
    "master_flow_id" UUID NOT NULL,
    "client_account_id" UUID NOT NULL,
    "engagement_id" UUID NOT NULL,
    "user_id" VARCHAR(255) NOT NULL,
    "data_import_id" UUID,
    "flow_name" VARCHAR(255),
    "status" VARCHAR(50) NOT NULL DEFAULT 'active',
    "current_phase" VARCHAR(100),
    "progress_percentage" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "data_import_completed" BOOLEAN NOT NULL DEFAULT false,
    "data_validation_completed" BOOLEAN NOT NULL DEFAULT false,
    "field_mapping_completed" BOOLEAN NOT NULL DEFAULT false,
    "data_cleansing_completed" BOOLEAN NOT NULL DEFAULT false,
    "asset_inventory_completed" BOOLEAN NOT NULL DEFAULT false,
    "phase_state" JSONB NOT NULL DEFAULT '{}',
    "error_message" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(6),

    CONSTRAINT "discovery_flows_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "flow_events" (
    "sequence" BIGINT NOT NULL,
    "client_account_id" UUID NOT NULL,
    "engagement_id" UUID NOT NULL,
    "master_flow_id" UUID NOT NULL,
    "flow_type" VARCHAR(50) NOT NULL,
    "kind" VARCHAR(50) NOT NULL,
    "actor" VARCHAR(255) NOT NULL,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "flow_events_pkey" PRIMARY KEY ("sequence")
);

-- CreateTable
CREATE TABLE "flow_event_sequence" (
    "id" INTEGER NOT NULL,
    "last_sequence" BIGINT NOT NULL,

    CONSTRAINT "flow_event_sequence_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "master_flow_deletions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "flow_id" UUID NOT NULL,
    "client_account_id" UUID NOT NULL,
    "engagement_id" UUID NOT NULL,
    "deleted_by" VARCHAR(255) NOT NULL,
    "deleted_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "data_imports_deleted" INTEGER NOT NULL,
    "raw_records_deleted" INTEGER NOT NULL,
    "discovery_flows_deleted" INTEGER NOT NULL,

    CONSTRAINT "master_flow_deletions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "crewai_flow_state_extensions_flow_id_key" ON "crewai_flow_state_extensions"("flow_id");

-- CreateIndex
CREATE INDEX "master_flows_tenant_created_at_idx" ON "crewai_flow_state_extensions"("client_account_id", "engagement_id", "created_at");

-- CreateIndex
CREATE INDEX "master_flows_tenant_status_idx" ON "crewai_flow_state_extensions"("client_account_id", "engagement_id", "flow_status");

-- CreateIndex
CREATE INDEX "master_flows_tenant_type_idx" ON "crewai_flow_state_extensions"("client_account_id", "engagement_id", "flow_type");

-- CreateIndex
CREATE INDEX "data_imports_master_flow_id_created_at_idx" ON "data_imports"("master_flow_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "data_imports_tenant_idempotency_key_key" ON "data_imports"("client_account_id", "engagement_id", "idempotency_key");

-- CreateIndex
CREATE INDEX "raw_import_records_master_flow_id_data_import_id_row_number_idx" ON "raw_import_records"("master_flow_id", "data_import_id", "row_number");

-- CreateIndex
CREATE UNIQUE INDEX "raw_import_records_data_import_id_row_number_key" ON "raw_import_records"("data_import_id", "row_number");

-- CreateIndex
CREATE UNIQUE INDEX "discovery_flows_flow_id_key" ON "discovery_flows"("flow_id");

-- CreateIndex
CREATE INDEX "discovery_flows_master_flow_id_idx" ON "discovery_flows"("master_flow_id");

-- CreateIndex
CREATE INDEX "discovery_flows_data_import_id_idx" ON "discovery_flows"("data_import_id");

-- CreateIndex
CREATE INDEX "flow_events_tenant_sequence_idx" ON "flow_events"("client_account_id", "engagement_id", "sequence");

-- CreateIndex
CREATE INDEX "flow_events_master_flow_id_sequence_idx" ON "flow_events"("master_flow_id", "sequence");

-- CreateIndex
CREATE INDEX "flow_events_created_at_idx" ON "flow_events"("created_at");

-- CreateIndex
CREATE INDEX "master_flow_deletions_tenant_deleted_at_idx" ON "master_flow_deletions"("client_account_id", "engagement_id", "deleted_at");

-- AddForeignKey
ALTER TABLE "data_imports" ADD CONSTRAINT "data_imports_master_flow_id_fkey" FOREIGN KEY ("master_flow_id") REFERENCES "crewai_flow_state_extensions"("flow_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "raw_import_records" ADD CONSTRAINT "raw_import_records_data_import_id_fkey" FOREIGN KEY ("data_import_id") REFERENCES "data_imports"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "raw_import_records" ADD CONSTRAINT "raw_import_records_master_flow_id_fkey" FOREIGN KEY ("master_flow_id") REFERENCES "crewai_flow_state_extensions"("flow_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "discovery_flows" ADD CONSTRAINT "discovery_flows_master_flow_id_fkey" FOREIGN KEY ("master_flow_id") REFERENCES "crewai_flow_state_extensions"("flow_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "discovery_flows" ADD CONSTRAINT "discovery_flows_data_import_id_fkey" FOREIGN KEY ("data_import_id") REFERENCES "data_imports"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- ---------------------------------------------------------------------------------------------------------------
-- Not modelled by Prisma. src/domain holds the same value lists; test/migrations.test.ts checks that they agree.
-- ---------------------------------------------------------------------------------------------------------------

ALTER TABLE "crewai_flow_state_extensions" ADD CONSTRAINT "crewai_flow_state_extensions_flow_type_check"
    CHECK ("flow_type" IN ('discovery', 'assessment', 'collection', 'planning', 'execution', 'modernize', 'finops',
                           'observability', 'decommission'));
ALTER TABLE "crewai_flow_state_extensions" ADD CONSTRAINT "crewai_flow_state_extensions_flow_status_check"
    CHECK ("flow_status" IN ('initialized', 'running', 'paused', 'completed', 'failed'));
ALTER TABLE "data_imports" ADD CONSTRAINT "data_imports_status_check"
    CHECK ("status" IN ('pending', 'processing', 'completed', 'failed'));
ALTER TABLE "discovery_flows" ADD CONSTRAINT "discovery_flows_status_check"
    CHECK ("status" IN ('active', 'paused', 'completed', 'failed'));
ALTER TABLE "discovery_flows" ADD CONSTRAINT "discovery_flows_current_phase_check"
    CHECK ("current_phase" IS NULL OR "current_phase" IN ('data_import', 'data_validation', 'field_mapping',
                                                          'data_cleansing', 'asset_inventory'));
ALTER TABLE "discovery_flows" ADD CONSTRAINT "discovery_flows_progress_percentage_check"
    CHECK ("progress_percentage" >= 0 AND "progress_percentage" <= 100);
ALTER TABLE "raw_import_records" ADD CONSTRAINT "raw_import_records_row_number_check" CHECK ("row_number" >= 1);
ALTER TABLE "flow_event_sequence" ADD CONSTRAINT "flow_event_sequence_single_row_check" CHECK ("id" = 1);

-- Invariant 2 of DESIGN.md: a child's tenant is its master flow's tenant, and a raw record or discovery flow
-- belongs to the master flow of its data import. Statement-level triggers with transition tables check a
-- whole batch with one join, so bulk imports pay once per statement, not once per row.
CREATE FUNCTION "flowgraph_check_child_links"() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    offending uuid;
BEGIN
    EXECUTE format(
        'SELECT n.id FROM new_rows n JOIN crewai_flow_state_extensions m ON m.flow_id = n.master_flow_id
          WHERE m.client_account_id <> n.client_account_id OR m.engagement_id <> n.engagement_id LIMIT 1')
        INTO offending;
    IF offending IS NOT NULL THEN
        RAISE EXCEPTION 'tenant of % row % differs from its master flow''s tenant', TG_TABLE_NAME, offending
            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_tenant_matches_master_flow';
    END IF;
    IF TG_TABLE_NAME IN ('raw_import_records', 'discovery_flows') THEN
        EXECUTE format(
            'SELECT n.id FROM new_rows n JOIN data_imports d ON d.id = n.data_import_id
              WHERE d.master_flow_id <> n.master_flow_id LIMIT 1')
            INTO offending;
        IF offending IS NOT NULL THEN
            RAISE EXCEPTION '% row % belongs to another master flow than its data import', TG_TABLE_NAME, offending
                USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_import_matches_master_flow';
        END IF;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER "data_imports_links_on_insert" AFTER INSERT ON "data_imports"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "flowgraph_check_child_links"();
CREATE TRIGGER "data_imports_links_on_update" AFTER UPDATE ON "data_imports"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "flowgraph_check_child_links"();
CREATE TRIGGER "raw_import_records_links_on_insert" AFTER INSERT ON "raw_import_records"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "flowgraph_check_child_links"();
CREATE TRIGGER "raw_import_records_links_on_update" AFTER UPDATE ON "raw_import_records"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "flowgraph_check_child_links"();
CREATE TRIGGER "discovery_flows_links_on_insert" AFTER INSERT ON "discovery_flows"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "flowgraph_check_child_links"();
CREATE TRIGGER "discovery_flows_links_on_update" AFTER UPDATE ON "discovery_flows"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "flowgraph_check_child_links"();

-- A master flow never changes tenant: its children would silently move with it.
CREATE FUNCTION "flowgraph_freeze_master_flow_tenant"() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF NEW.client_account_id <> OLD.client_account_id OR NEW.engagement_id <> OLD.engagement_id THEN
        RAISE EXCEPTION 'the tenant of master flow % cannot change', OLD.flow_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'crewai_flow_state_extensions_tenant_frozen';
    END IF;
    RETURN NEW;
END
$fn$;

CREATE TRIGGER "crewai_flow_state_extensions_tenant_frozen"
    BEFORE UPDATE OF "client_account_id", "engagement_id" ON "crewai_flow_state_extensions"
    FOR EACH ROW EXECUTE FUNCTION "flowgraph_freeze_master_flow_tenant"();

-- The event counter starts at 0; src/services/event-log.ts draws from it.
INSERT INTO "flow_event_sequence" ("id", "last_sequence") VALUES (1, 0);
