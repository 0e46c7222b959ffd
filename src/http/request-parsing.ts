// A request Yoga cannot parse is the client's mistake: Yoga's own parsers turn most of them into a 400
// already, but some (variables that are not JSON in a GET query string, for one) escape as plain
// errors and would be masked as a 500. Every parser failure becomes a 400 BAD_REQUEST here.
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { GraphQLError } from 'graphql';

export function useRequestParsingErrors(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          if (error instanceof GraphQLError) throw error;
          throw createGraphQLError('The request could not be parsed: check that its query, variables and extensions are well-formed.', {
            extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
          });
        }
      });
    },
  };
}
