// A request Yoga cannot parse is the client's mistake: Yoga's own parsers turn most of them into a 400
// already, but some (variables that are not JSON in a GET query string, for one) escape as plain
// errors and would be masked as a 500. Every parser failure becomes a 400 BAD_REQUEST here, and none carries
// the parser's own message: Yoga attaches the JSON parser's error (which quotes the body) as
// `extensions.originalError`.
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { GraphQLError } from 'graphql';

/** The same error (message, code, HTTP status), without the original error Yoga would serialize. */
function withoutOriginalError(error: GraphQLError): GraphQLError {
  const { originalError: _original, ...extensions } = error.extensions as Record<string, unknown>;
  if (_original === undefined && !error.originalError) return error;
  return createGraphQLError(error.message, { extensions: { ...extensions, code: extensions.code ?? 'BAD_REQUEST', http: { status: 400 } } });
}

export function useRequestParsingErrors(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          if (error instanceof GraphQLError) throw withoutOriginalError(error);
          throw createGraphQLError('The request could not be parsed: check that its query, variables and extensions are well-formed.', {
            extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
          });
        }
      });
    },
  };
}
