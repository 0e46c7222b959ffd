-- Live delivery of the flow event log. The first part is what Prisma generates from prisma/schema.prisma
-- (npm run db:diff); the second part is what Prisma cannot model.

-- AlterTable
ALTER TABLE "flow_event_sequence" ADD COLUMN     "pruned_through" BIGINT NOT NULL DEFAULT 0;

-- ---------------------------------------------------------------------------------------------------------------
-- Not modelled by Prisma.
-- ---------------------------------------------------------------------------------------------------------------

-- Wakes every flowgraph process that LISTENs on flowgraph_flow_events (src/db/wake-up-channel.ts) when new
-- events are committed. PostgreSQL delivers a NOTIFY only when its transaction commits, and drops it on
-- rollback, so listeners never wake for a change that did not happen. The payload is deliberately empty:
-- identical notifications of one transaction fold into one, and listeners read the rows themselves, in
-- sequence order, from the last sequence they saw (a payload could be lost with a dropped connection; the
-- rows cannot). A trigger rather than a call in the application covers every writer of flow_events.
CREATE FUNCTION "flowgraph_notify_flow_events"() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM pg_notify('flowgraph_flow_events', '');
    RETURN NULL;
END
$fn$;

CREATE TRIGGER "flow_events_notify_on_insert" AFTER INSERT ON "flow_events"
    FOR EACH STATEMENT EXECUTE FUNCTION "flowgraph_notify_flow_events"();
