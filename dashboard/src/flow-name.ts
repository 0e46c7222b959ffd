// What a person calls a flow. Imports used to name their flows `Discovery Import <uuid>` (and the platform's
// legacy rows still do), which tells flows apart for no one: such a flow is called by its file and type.
import { label, shortId } from './format';

const GENERATED_NAME = /^Discovery Import [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface NamedFlow {
  flowId: string;
  flowName: string | null;
  flowType: string;
}

/** A flow's data imports, oldest first (a page of them is enough): the first is the one that named it. */
export interface FlowImports {
  totalCount: number;
  edges: { node: { filename: string; importType: string } }[];
}

/** The file the flow was imported from, with "+ n more" when it has several; null without any. */
export function flowFile(imports: FlowImports): string | null {
  const first = imports.edges[0]?.node;
  if (!first) return null;
  const more = imports.totalCount - 1;
  return more > 0 ? `${first.filename} + ${more} more` : first.filename;
}

export function flowTitle(flow: NamedFlow, imports: FlowImports): string {
  const name = flow.flowName?.trim();
  if (name && !GENERATED_NAME.test(name)) return name;
  const first = imports.edges[0]?.node;
  if (first) return `${first.filename} (${first.importType})`;
  return name || `${label(flow.flowType)} flow ${shortId(flow.flowId)}`;
}
