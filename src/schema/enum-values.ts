// GraphQL enum values are SCREAMING_CASE; the database keeps the platform's lower_case strings.
export function enumValues<const V extends string>(
  values: readonly V[],
  describe: (value: V) => string,
): Record<string, { value: V; description: string }> {
  return Object.fromEntries(values.map((value) => [value.toUpperCase(), { value, description: describe(value) }]));
}
