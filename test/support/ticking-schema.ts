// A schema of its own for transport tests whose behaviour does not depend on the flow graph: a query `ok`
// and a subscription `ticks` that yields 0, 1, 2, … `count` times (Infinity: until the client stops),
// `intervalMs` apart.
import { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';

export function tickingSchema(count: number, intervalMs: number): GraphQLSchema {
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString, resolve: () => 'ok' } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        ticks: {
          type: GraphQLInt,
          subscribe: async function* ticks() {
            for (let tick = 0; tick < count; tick += 1) {
              yield { ticks: tick };
              await new Promise((resolve) => setTimeout(resolve, intervalMs));
            }
          },
        },
      },
    }),
  });
}
