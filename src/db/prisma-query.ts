// A read-only SqlSession over a Prisma client, for infrastructure reads made while serving a request
// (the integrity report behind Query.integrityReport): the request's own client and connection pool,
// rather than the single dedicated connection the server keeps for migrations and readiness.
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { SqlSession } from './sql-session.ts';

export function prismaQuerySession(prisma: PrismaClient): Pick<SqlSession, 'query'> {
  return {
    query: <Row>(sql: string, params: unknown[] = []) => prisma.$queryRawUnsafe<Row[]>(sql, ...params),
  };
}
