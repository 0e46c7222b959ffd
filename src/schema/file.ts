import { GraphQLError } from 'graphql';
import { builder } from '../builder.ts';
import type { UploadedFile } from '../services/store-import.ts';

function isUpload(value: unknown): value is UploadedFile {
  return typeof value === 'object' && value !== null && typeof (value as UploadedFile).stream === 'function';
}

export const FileScalar = builder.scalarType('File', {
  description:
    'A file sent with the GraphQL multipart request specification (multipart/form-data: `operations`, `map`, then the file). Input only.',
  serialize: () => {
    throw new GraphQLError('File is an input-only type.');
  },
  parseValue: (value) => {
    if (!isUpload(value)) {
      throw new GraphQLError('A File variable must be an uploaded file: send the request as multipart/form-data (see the README).');
    }
    return value;
  },
  parseLiteral: () => {
    throw new GraphQLError('A File cannot be written inline; pass it as a variable of a multipart request.');
  },
});
