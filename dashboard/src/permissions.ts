/** What the signed-in user may do, from Query.viewer; the server enforces it either way. */
export interface Permissions {
  operate: boolean;
  administer: boolean;
}
