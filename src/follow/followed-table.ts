/** A followed table: its source and target names and the key the follower matches its rows by. */
export interface FollowedTableRef {
  table: string;
  targetTable: string;
  key: readonly string[];
}
