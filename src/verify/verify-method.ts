/** How finalize (and `my2pg verify`) checks the copy. */
export type VerifyMethod = 'checksum' | 'count' | 'none';
export const VERIFY_METHODS: readonly VerifyMethod[] = ['checksum', 'count', 'none'];
