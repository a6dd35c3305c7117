/** Verification while following, as status, the board and cutover show it. */
export interface LiveFigures {
  tables: number;
  /** Tables compared whole at least once and equal but for the keys waiting. */
  tablesVerified: number;
  /** Keys written since their table's last verification, waiting to be re-verified. */
  keysWaiting: number;
  /** Keys found different at their last re-verification (a write in flight, or a real difference). */
  keysDiffering: number;
  /** Keys written in PostgreSQL by something else than the follower, not yet found equal again. */
  keysOutside: number;
  /** Keys re-verified per second, measured. */
  recheckKeysPerSecond: number;
  /** Rows compared per second by the whole-table comparisons, measured. */
  compareRowsPerSecond: number;
  /** Rows of the tables not verified yet (their last whole comparison's count; 0 before the first). */
  rowsUnverified: number;
}
