// `npm run db:diff`: prints the SQL a new migration needs so that prisma/migrations matches
// prisma/schema.prisma (empty when they agree). Save it as prisma/migrations/<timestamp>_<name>/migration.sql.
import { diffMigrationsToSchema } from '../src/db/schema-engine.ts';

const sql = await diffMigrationsToSchema();
console.log(sql === '' ? '-- prisma/migrations already match prisma/schema.prisma' : sql);
process.exit(0); // the wasm engine keeps a timer alive for ~10 s
