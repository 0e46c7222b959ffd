// Ids arrive inside global ids and headers as free text; PostgreSQL rejects malformed uuids with an
// error, so they are recognised here first and treated like ids that match nothing.
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}
