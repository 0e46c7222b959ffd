// Prisma 7 reads its settings from here. Only `prisma generate` uses the CLI in this project:
// migrations are applied in-process (src/db/migrator.ts), because the CLI's native migration engine
// cannot be downloaded on our machines (see docs/design.md).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
